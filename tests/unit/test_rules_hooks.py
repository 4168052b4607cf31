"""Events from join, leave, disconnected and reconnected; what a bot is told of the room."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from gameserver import rules
from gameserver.core import GameHost
from gameserver.rules import Player, Private, Rules, TickCommand, TickInput
from gameserver.testing import Headless


@rules.entity
class Chair:
    taken: bool = rules.boolean()


@rules.message
class Seated:
    chair: int = rules.integer(0, 8)


@rules.message
class YourChair:
    chair: int = rules.integer(0, 8)


@rules.message
class Gone:
    chair: int = rules.integer(0, 8)


@rules.message
class Dropped:
    chair: int = rules.integer(0, 8)


@rules.message
class Back:
    chair: int = rules.integer(0, 8)


@rules.message
class Ticked:
    tick: int = rules.integer(0, 10_000)


class Lounge(Rules[None, rules.NoSettings]):
    """Chairs; says who sits down, leaves, drops and comes back, from the hooks themselves."""

    id = "lounge"
    schema = rules.GameSchema(
        entities=[Chair], events=[Seated, YourChair, Gone, Dropped, Back, Ticked]
    )
    tick_rate = 12

    def __init__(self, settings: rules.NoSettings, seed: int, *, tick_rate: int | None = None):
        super().__init__(settings, seed, tick_rate=tick_rate)
        self.chairs: dict[int, Chair] = {}
        self.chair_of: dict[str, int] = {}

    def join(self, player: Player) -> tuple[int, Sequence[Any]]:
        chair = self.chair_of[player.id] = len(self.chairs) + 1
        self.chairs[chair] = Chair(taken=True)
        return chair, [Seated(chair=chair), Private(YourChair(chair=chair), frozenset({player.id}))]

    def leave(self, player: Player) -> list[Any]:
        chair = self.chair_of.pop(player.id)
        self.chairs[chair] = Chair(taken=False)
        return [Gone(chair=chair)]

    def disconnected(self, player: Player) -> list[Any]:
        return [Dropped(chair=self.chair_of[player.id])]

    def reconnected(self, player: Player) -> list[Any]:
        return [Back(chair=self.chair_of[player.id])]

    def step(self, inputs: Sequence[TickInput[None]], commands: Sequence[TickCommand]) -> list[Any]:
        return [Ticked(tick=self.tick + 1)] if self.tick % 5 == 4 else []

    def entities(self) -> Mapping[int, Chair]:
        return self.chairs


class OldStyle(Lounge):
    """A game written before hooks could return events: an id, and None."""

    id = "oldstyle"

    def join(self, player: Player) -> int:  # type: ignore[override]
        return super().join(player)[0]

    def leave(self, player: Player) -> None:  # type: ignore[override]
        super().leave(player)


def test_hook_events_go_out_with_the_next_step_before_its_own_headless() -> None:
    game: Headless[None] = Headless(Lounge)
    game.step(3)
    ada = game.join("ada")
    bob = game.join("bob")
    assert game.entity_of == {ada.id: 1, bob.id: 2}
    sent = game.step()
    assert [(e.tick, e.event, e.to) for e in sent] == [
        (4, Seated(chair=1), None),
        (4, YourChair(chair=1), frozenset({ada.id})),
        (4, Seated(chair=2), None),
        (4, YourChair(chair=2), frozenset({bob.id})),
    ]
    assert [e.event for e in game.events_for(bob)] == [
        Seated(chair=1),
        Seated(chair=2),
        YourChair(chair=2),
    ]
    game.disconnect(ada)
    game.reconnect(ada)
    game.leave(bob)
    assert [e.event for e in game.step()] == [
        Dropped(chair=1),
        Back(chair=1),
        Gone(chair=2),
        Ticked(tick=5),  # the step's own, after them
    ]
    assert game.step() == []  # sent once


def test_the_room_core_sends_hook_events_and_keeps_them_across_a_save() -> None:
    host = GameHost(Lounge(rules.NoSettings(), 1), tick_rate=12)
    host.step()
    assert host.join(Player("ada", "Ada")) == 1  # the entity id, as before
    waiting = GameHost.restored(Lounge, host.save(), tick_rate=12)  # between two steps
    for game in (host, waiting):
        assert game.step() == [([0, 1], None), ([1, 1], frozenset({"ada"}))]
    host.disconnected("ada")
    host.leave("ada")
    assert host.step() == [([3, 1], None), ([2, 1], None)]


def test_games_whose_hooks_return_an_id_or_nothing_work_as_before() -> None:
    game: Headless[None] = Headless(OldStyle)
    ada = game.join("ada")
    assert game.entity_of[ada.id] == 1 and game.step() == []
    game.leave(ada)
    assert game.step() == []
    host = GameHost(OldStyle(rules.NoSettings(), 1), tick_rate=12)
    assert host.join(Player("ada", "Ada")) == 1 and host.step() == []


class Confused(Lounge):
    id = "confused"

    def join(self, player: Player) -> Any:
        return "chair one"


def test_a_join_that_returns_something_else_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match=r"join\(\) must return an entity id or"):
        Headless(Confused).join("ada")
    with pytest.raises(TypeError, match=r"join\(\) must return an entity id or"):
        GameHost(Confused(rules.NoSettings(), 1), tick_rate=12).join(Player("ada", "Ada"))


def test_a_bot_is_told_the_rooms_tick_rate_world_and_parameters() -> None:
    from gameserver.games.arena import ArenaRules, ArenaSettings

    lounge: Headless[None] = Headless(Lounge)
    view = lounge.bot_view(lounge.join("ada"))
    assert (view.tick_rate, view.world_size, view.params) == (12, None, {})
    assert view.me == 1 and view.entities[1].taken is True  # decoded as a client would
    faster: Headless[None] = Headless(Lounge, tick_rate=40)
    assert faster.bot_view(faster.join("ada")).tick_rate == 40  # the room's, not the class's

    arena: Headless[Any] = Headless(ArenaRules, ArenaSettings(width=800.0, height=600.0))
    view = arena.bot_view(arena.join("ada"))
    assert view.tick_rate == 30 and view.world_size == (800.0, 600.0)
    assert view.params["player_speed"] == ArenaSettings().player_speed
