"""Headless matches saved and restored mid-match continue exactly, in the rooms' format."""

from __future__ import annotations

import copy
from typing import Any

import cbor2
import pytest

from gameserver.core import GameHost
from gameserver.games import arena, bench, crazyeights
from gameserver.rules import Bot, NoSettings, Player, Rules, StateError
from gameserver.testing import Headless

GAMES: dict[str, tuple[type[Rules[Any, Any]], object, type[Bot]]] = {
    "arena": (arena.ArenaRules, arena.ArenaSettings(obstacle_count=3), arena.Bot),
    "crazyeights": (
        crazyeights.CrazyEights,
        crazyeights.CrazyEightsSettings(min_players=3, max_players=3, turn_seconds=2),
        crazyeights.Bot,
    ),
    "bench": (bench.Bench, None, bench.Bot),
}


class Table:
    """A headless match played by the game's own bots, from what each would see."""

    def __init__(self, game: Headless[Any], bot: type[Bot]) -> None:
        self.game = game
        self.bots: dict[str, Bot] = {}
        self.seen: dict[str, int] = {}
        self.bot_type = bot

    def join(self, name: str) -> None:
        player = self.game.join(name)
        self.bots[player.id] = self.bot_type(len(self.bots))  # type: ignore[call-arg]
        self.seen[player.id] = 0

    def tick(self) -> tuple[str, list[list[Any]]]:
        game = self.game
        for player_id, bot in self.bots.items():
            player = game.players[player_id]
            received = game.events_for(player)
            fresh, self.seen[player_id] = received[self.seen[player_id] :], len(received)
            game.act(player, bot.act(game.bot_view(player, [e.event for e in fresh])))
        events = [e.wire(game.rules) for e in game.step()]
        return game.rules.state_hash(), events

    def copy_from(self, other: Table, data: bytes) -> None:
        """This table continues ``other``'s match from ``data``, with copies of its bots."""
        self.game = Headless.restored(type(other.game.rules), data)
        self.bots = copy.deepcopy(other.bots)
        self.seen = {player_id: 0 for player_id in other.seen}  # the copy's log starts empty
        for player_id, count in other.seen.items():
            delivered = other.game.events_for(other.game.players[player_id])
            assert count == len(delivered)  # everything was delivered before the save


@pytest.mark.parametrize("name", sorted(GAMES))
def test_a_match_saved_mid_way_continues_exactly_from_the_save(name: str) -> None:
    rules_class, settings, bot = GAMES[name]
    original = Table(Headless(rules_class, settings, seed=11), bot)
    for player in ("ada", "bob", "cy"):
        original.join(player)
    for _ in range(40):
        original.tick()
    data = original.game.save()
    copy_table = Table(original.game, bot)
    copy_table.copy_from(original, data)
    assert copy_table.game.rules.state_hash() == original.game.rules.state_hash()
    assert copy_table.game.tick == original.game.tick == 40
    for _ in range(150):
        assert copy_table.tick() == original.tick()
    # The room's core restores the same save to the same state.
    host = GameHost.restored(rules_class, data, tick_rate=rules_class.tick_rate)
    assert host.tick == 40 and host.players.keys() == {"p1", "p2", "p3"}
    assert host.state_hash() == Headless.restored(rules_class, data).rules.state_hash()


def test_what_waits_for_the_next_step_is_saved_too() -> None:
    game: Headless[Any] = Headless(bench.Bench, seed=2)
    ada = game.join("ada")
    game.step(3)
    game.input(ada, bench.BenchInput(dx=1, dy=-1))  # given, not yet stepped
    copy_game: Headless[Any] = Headless.restored(bench.Bench, game.save())
    assert copy_game.tick == 3
    game.step(5)
    copy_game.step(5)
    assert copy_game.rules.state_hash() == game.rules.state_hash()
    assert copy_game.join("bob").id == "p2"  # ids go on where they stopped

    cards: Headless[Any] = Headless(crazyeights.CrazyEights, seed=2)
    for name in ("ada", "bob", "cy"):
        cards.join(name)
    cards.command(cards.players["p1"], crazyeights.Ready())  # a command not yet stepped
    later: Headless[Any] = Headless.restored(crazyeights.CrazyEights, cards.save())
    assert [e.wire(later.rules) for e in later.step()] == [
        e.wire(cards.rules) for e in cards.step()
    ]


def test_a_room_snapshot_restores_headless_and_a_damaged_one_is_refused() -> None:
    host = GameHost(bench.Bench(NoSettings(), 4), tick_rate=30)
    host.join(Player("ada", "Ada"))
    host.set_input("ada", host.decode_input([1, 1]))
    for _ in range(10):
        host.step()
    game: Headless[Any] = Headless.restored(bench.Bench, host.save())
    assert game.rules.state_hash() == host.state_hash() and game.players["ada"].name == "Ada"
    damaged = cbor2.loads(host.save())
    damaged["inputs"][0][0] = "eve"  # an input of a player who is not there
    with pytest.raises(StateError, match="damaged saved game: an input's player"):
        Headless.restored(bench.Bench, cbor2.dumps(damaged))
