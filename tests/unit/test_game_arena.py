"""The arena on the rules API: the same game as ``gameserver.sim``, byte for byte, and more.

The reference is today's ``Arena`` driven as ``Room`` drives it: every tick each player's
newest input frame is applied again (``Room._consume_input``), a dropped player is set
idle with its newest aim and then left alone (``Room.detach``), and a resumed one waits
for its next frame. ``ArenaRules`` is driven through the headless kit with the same
script; wire states, events and state hashes must agree after every tick.
"""

from __future__ import annotations

import ast
import importlib
import math
import pathlib
import random
from typing import Any

import attrs
import pytest

from gameserver import rules
from gameserver.games import arena
from gameserver.games.arena import (
    ArenaRules,
    ArenaSettings,
    Bot,
    Buttons,
    Controls,
    Death,
    Hit,
    Shot,
)
from gameserver.rules import BotView, Player
from gameserver.sim.arena import Arena
from gameserver.sim.arena import ArenaSettings as SimSettings
from gameserver.sim.game import EventKind
from gameserver.testing import Headless, run_seeded

SMALL: dict[str, Any] = {
    "width": 400.0,
    "height": 400.0,
    "obstacle_count": 3,
}  # crowds, kills, respawns


class Arena60(ArenaRules):
    tick_rate = 60


def rules_for(tick_rate: int) -> type[ArenaRules]:
    return {30: ArenaRules, 60: Arena60}[tick_rate]


@attrs.define
class Member:
    """One scripted player, as both worlds know it."""

    player: Player
    old_id: int
    frame: tuple[int, int, float | None] | None = None  # newest (buttons, aim, view_tick)
    held: bool = False  # dropped, awaiting a resume


class Twins:
    """Today's arena and the ported rules, driven alike."""

    def __init__(self, settings: dict[str, Any], seed: int, tick_rate: int = 30) -> None:
        self.old = Arena(SimSettings(**settings), seed=seed, tick_rate=tick_rate)
        self.game: Headless[Controls] = Headless(
            rules_for(tick_rate), ArenaSettings(**settings), seed=seed
        )
        self.members: list[Member] = []
        self.names = 0

    def join(self) -> Member:
        self.names += 1
        name = f"p{self.names}"
        member = Member(self.game.join(name), self.old.join(name))
        assert self.game.entity_of[member.player.id] == member.old_id
        self.members.append(member)
        return member

    def leave(self, member: Member) -> None:
        self.members.remove(member)
        self.old.leave(member.old_id)
        self.game.leave(member.player)

    def send(self, member: Member, buttons: int, aim: int, view_tick: float | None) -> None:
        member.frame = (buttons, aim, view_tick)
        member.held = False
        self.game.input(member.player, Controls(buttons=Buttons(buttons), aim=aim),
                        view_tick=view_tick)  # fmt: skip

    def drop(self, member: Member) -> None:
        aim = member.frame[1] if member.frame else 0
        self.old.apply_input(member.old_id, 0, aim)
        member.held = True
        self.game.disconnect(member.player)

    def resume(self, member: Member) -> None:
        member.frame = None  # the new connection has sent nothing yet
        self.game.reconnect(member.player)

    def place(self, member: Member, x: float, y: float) -> None:
        self.old.place(member.old_id, x, y)
        self.game.rules.place(member.old_id, x, y)  # type: ignore[attr-defined]

    def step(self) -> tuple[list[list[int]], list[list[Any]]]:
        """One tick of both; their events as wire lists ``[tick, kind, *args]``."""
        for member in self.members:
            if member.frame is not None and not member.held:
                self.old.apply_input(member.old_id, *member.frame)
        old_events = [[e.tick, int(e.kind), *e.args] for e in self.old.step()]
        new_events = [sent.wire(self.game.rules) for sent in self.game.step()]
        return old_events, new_events


def run_twins(settings: dict[str, Any], seed: int, ticks: int, tick_rate: int = 30) -> set[int]:
    """A seeded random script on both; asserts equality every tick; the event kinds seen."""
    twins = Twins(settings, seed, tick_rate)
    script = random.Random(seed * 7919 + tick_rate)
    rules_ = twins.game.rules
    assert rules_.client_params() == twins.old.client_params()
    kinds: set[int] = set()
    shot_hits = 0
    for _ in range(ticks):
        if len(twins.members) < 14 and script.random() < 0.15:
            twins.join()
        if twins.members and script.random() < 0.02:
            twins.leave(script.choice(twins.members))
        for member in list(twins.members):
            roll = script.random()
            if roll < 0.01 and not member.held:
                twins.drop(member)
            elif roll < 0.02 and member.held:
                twins.resume(member)
            elif roll < 0.04:
                twins.place(member, script.uniform(-50, 450), script.uniform(-50, 450))
            elif roll < 0.35 and (not member.held or member.frame is None):
                if member.held and script.random() < 0.5:
                    continue  # a resumed player sends its first frame a little later
                view = None
                if script.random() < 0.8:  # in 1/256 tick, as the Input's view item; 0: none
                    view = (rules_.tick * 256 - script.randrange(-512, 4096)) / 256 or None
                buttons = script.randrange(256)  # bits 64 and 128 too: accepted, ignored
                if script.random() < 0.5:
                    buttons &= ~16  # fewer projectiles, so hitscan kills show up too
                twins.send(member, buttons, script.randrange(65536), view)
        old_events, new_events = twins.step()
        assert new_events == old_events
        assert rules_.wire_state() == twins.old.wire_state()
        assert rules_.state_hash() == twins.old.state_hash()
        assert rules_.schema.wire_state(rules_.entities()) == rules_.wire_state()
        for member in twins.members:
            assert rules_.score(member.player) == twins.old.score(member.old_id)
        kinds |= {e[1] for e in new_events}
        shot_hits += sum(1 for e in new_events if e[1] == EventKind.SHOT and e[3])
    assert shot_hits > 0
    return kinds


@pytest.mark.parametrize(
    ("settings", "seed", "tick_rate"),
    [
        (SMALL, 1, 30),
        (SMALL, 2, 60),
        ({**SMALL, "lag_compensation": False, "fire_cooldown_s": 0.0}, 3, 30),
        ({"obstacle_count": 12, "max_rewind_s": 0.5, "width": 600.0}, 4, 30),
    ],
)
def test_wire_events_and_hashes_equal_todays_arena_every_tick(
    settings: dict[str, Any], seed: int, tick_rate: int
) -> None:
    kinds = run_twins(settings, seed, ticks=400, tick_rate=tick_rate)
    # Otherwise the script is too tame to compare combat, deaths and respawns.
    assert kinds == {int(k) for k in EventKind}


def test_kinds_and_the_description_are_the_protocols() -> None:
    schema = ArenaRules.schema
    assert [e.name for e in schema.entities] == ["Player", "Projectile", "Obstacle"]
    assert [m.name for m in schema.events.messages] == ["Hit", "Death", "Respawn", "Score", "Shot"]
    assert [len(e.field_names) + 1 for e in schema.entities] == [7, 5, 4]
    assert [len(m.field_names) for m in schema.events.messages] == [4, 2, 3, 2, 4]
    client = rules.GameSchema.from_description(schema.describe())
    assert client.describe() == schema.describe()


def test_the_input_accepts_every_8_bit_button_set_and_any_aim() -> None:
    schema = ArenaRules.schema.input
    assert schema is not None
    for buttons in (0, 63, 64, 128, 255):
        assert schema.to_wire(schema.from_wire([buttons, 65535])) == [buttons, 65535]
    for bad in ([256, 0], [-1, 0], [0, 65536], [1.0, 0], [0]):
        with pytest.raises(rules.SchemaError):
            schema.from_wire(bad)


def test_a_player_dropped_just_after_respawning_keeps_its_newest_aim_as_today() -> None:
    settings = {"obstacle_count": 0, "max_hp": 20, "respawn_delay_s": 0.1}  # one hit kills
    twins = Twins(settings, seed=2)
    target, shooter = twins.join(), twins.join()
    twins.place(target, 100.0, 100.0)
    twins.place(shooter, 200.0, 100.0)
    twins.send(shooter, int(Buttons.HITSCAN), 32768, None)  # left, at the target
    assert [e[1] for e in twins.step()[1]] == [EventKind.SHOT, EventKind.HIT, EventKind.DEATH,
                                               EventKind.SCORE]  # fmt: skip
    twins.send(shooter, 0, 32768, None)
    twins.send(target, int(Buttons.UP), 4096, None)  # sent while dead: ignored, but newest
    while EventKind.RESPAWN not in [e[1] for e in twins.step()[1]]:
        pass
    twins.drop(target)  # right after the respawn: no frame was applied since the death
    twins.step()
    assert twins.game.wire_state()[target.old_id] == twins.old.wire_state()[target.old_id]
    assert twins.game.wire_state()[target.old_id][3] == 4096 >> 8
    assert twins.game.rules.state_hash() == twins.old.state_hash()


# ---------------------------------------------------------------- determinism, save, restore


def script_for(seed: int) -> list[tuple[int, str, Any]]:
    rng = random.Random(seed)
    return [
        (t, f"p{rng.randrange(6)}", Controls(buttons=Buttons(rng.randrange(64)),
                                             aim=rng.randrange(65536)))
        for t in range(0, 200, 3)
    ]  # fmt: skip


def test_same_seed_and_calls_same_hash_other_seed_other_hash() -> None:
    settings = ArenaSettings(**SMALL)
    first = run_seeded(ArenaRules, script_for(1), seed=5, settings=settings, ticks=250)
    assert first == run_seeded(ArenaRules, script_for(1), seed=5, settings=settings, ticks=250)
    assert first != run_seeded(ArenaRules, script_for(1), seed=6, settings=settings, ticks=250)


def test_restore_gives_the_same_hash_and_the_same_future() -> None:
    twins = Twins(SMALL, seed=8)
    rng = random.Random(8)
    for _ in range(8):
        twins.join()
    game = twins.game

    def play(target: Headless[Controls], tick: int) -> None:
        for member in twins.members:  # every player sends every tick, hitscan from the past
            target.input(
                member.player,
                Controls(buttons=Buttons(rng.randrange(256)), aim=rng.randrange(65536)),
                view_tick=target.tick - rng.random() * 8,
            )

    for tick in range(150):
        play(game, tick)
        game.step()
    assert game.rules.entities().keys() - game.rules.wire_state().keys() == set()
    restored = ArenaRules.restore(game.rules.save())
    assert restored.state_hash() == game.rules.state_hash()
    assert restored.wire_state() == game.rules.wire_state()
    twin: Headless[Controls] = Headless(ArenaRules, ArenaSettings(**SMALL), seed=999)
    twin.rules = restored
    twin.players, twin.entity_of = dict(game.players), dict(game.entity_of)
    state = rng.getstate()
    future = []
    for tick in range(150, 300):
        play(game, tick)
        future.append(([e.wire(game.rules) for e in game.step()], game.rules.state_hash()))
    rng.setstate(state)
    for tick in range(150, 300):
        play(twin, tick)
        assert ([e.wire(twin.rules) for e in twin.step()], twin.rules.state_hash()) == future[
            tick - 150
        ]
    assert {e[1] for events, _ in future for e in events} >= {0, 1, 2, 4}


# ---------------------------------------------------------------- lag-compensated hitscan


def shot_at_a_runner(lag_compensation: bool, seen_ticks_ago: float, max_rewind_s: float) -> bool:
    """A target runs right; the shooter aims where it was ``seen_ticks_ago`` and says so
    through ``view_tick``. Whether the old arena and the rules each hit (they must agree)."""
    settings = {"obstacle_count": 0, "lag_compensation": lag_compensation,
                "max_rewind_s": max_rewind_s}  # fmt: skip
    twins = Twins(settings, seed=3)
    target, shooter = twins.join(), twins.join()
    twins.place(target, 100.0, 500.0)
    twins.place(shooter, 400.0, 300.0)
    twins.send(target, int(Buttons.RIGHT), 0, None)
    positions: list[tuple[float, float]] = []
    for _ in range(20):
        twins.step()
        where = ArenaRules.schema.position(twins.game.wire_state()[target.old_id])
        assert where is not None
        positions.append(where)
    now = twins.game.tick
    seen_x, seen_y = positions[-1 - int(seen_ticks_ago)]
    aim = round(math.atan2(seen_y - 300.0, seen_x - 400.0) / (2 * math.pi) * 65536) % 65536
    twins.send(shooter, int(Buttons.HITSCAN), aim, now - seen_ticks_ago)
    old_events, new_events = twins.step()
    assert new_events == old_events
    shots = [e for e in new_events if e[1] == EventKind.SHOT]
    assert len(shots) == 1 and shots[0][2] == shooter.old_id
    return bool(shots[0][3] == target.old_id)


def test_a_shot_at_what_the_shooter_saw_hits_through_view_tick() -> None:
    assert shot_at_a_runner(True, 4, max_rewind_s=0.2)  # 4 ticks back: within the cap
    assert shot_at_a_runner(True, 0, max_rewind_s=0.2)  # aimed at the present
    assert not shot_at_a_runner(False, 4, max_rewind_s=0.2)  # judged at the present: a miss
    assert not shot_at_a_runner(True, 12, max_rewind_s=0.2)  # beyond the 6-tick cap: a miss


# ---------------------------------------------------------------- settings, prediction


def test_settings_are_validated() -> None:
    assert ArenaSettings(obstacle_radius=[20.0, 40.0]).obstacle_radius == (20.0, 40.0)
    for bad in (
        {"width": 0.0},
        {"height": -1.0},
        {"width": float("nan")},
        {"width": 2e6},
        {"player_radius": 0.0},
        {"max_hp": 0},
        {"max_hp": 10.5},
        {"projectile_damage": -1},
        {"obstacle_radius": (70.0, 30.0)},
        {"obstacle_radius": (0.0, 30.0)},
        {"kill_score": -1},
        {"lag_compensation": 2},
        {"lag_compensation": "yes"},
        {"fire_cooldown_s": -0.1},
    ):
        with pytest.raises((ValueError, TypeError)):
            ArenaSettings(**bad)
    with pytest.raises(ValueError):
        ArenaRules(ArenaSettings(), 0, tick_rate=0)
    settings = ArenaSettings(lag_compensation=False, width=500.0)
    params = ArenaRules(settings, 0).client_params()
    rebuilt = ArenaSettings(**params)  # type: ignore[arg-type]  # ints stay ints
    assert rebuilt == settings  # what a client rebuilds from the Welcome
    assert rules.rules_class_problems(ArenaRules) == []
    assert ArenaRules.version == 2 and ArenaRules.id == "arena"


def test_the_prediction_function_predicts_the_rules_exactly() -> None:
    assert ArenaRules.prediction is not None
    module, _, name = ArenaRules.prediction.partition(":")
    make = getattr(importlib.import_module(module), name)
    game: Headless[Controls] = Headless(Arena60, ArenaSettings(obstacle_count=14), seed=4)
    me = game.join("ada")
    step = make(game.rules.client_params(), 60)
    obstacles = [(o.x, o.y, o.radius) for o in game.decoded_view(me).values()
                 if type(o).__name__ == "Obstacle"]  # fmt: skip
    rng = random.Random(4)
    start = game.decoded_view(me)[game.entity_of[me.id]]
    x, y = start.x, start.y
    buttons = 0
    pushed = 0
    for _ in range(600):
        if rng.random() < 0.1:
            buttons = rng.randrange(64) & ~(16 | 32)
        game.input(me, Controls(buttons=Buttons(buttons), aim=0))
        game.step()
        predicted = step(x, y, buttons, obstacles)
        wire = game.wire_state()[game.entity_of[me.id]]
        assert (round(predicted[0] * 16), round(predicted[1] * 16)) == wire[1:3]
        x, y = predicted
        pushed += any((x - cx) ** 2 + (y - cy) ** 2 < (16 + cr + 0.1) ** 2
                      for cx, cy, cr in obstacles)  # fmt: skip
    assert pushed > 0  # the walk met obstacles, so the push was predicted too


# ---------------------------------------------------------------- the bot


def test_eight_bots_play_for_thirty_seconds_and_kill() -> None:
    game: Headless[Controls] = Headless(ArenaRules, seed=11)
    client = rules.GameSchema.from_description(game.rules.schema.describe())
    bots = {game.join(f"bot{i}"): Bot(i) for i in range(8)}
    seen = dict.fromkeys(bots, 0)
    for _ in range(30 * ArenaRules.tick_rate):
        for player, bot in bots.items():
            # decoded_view, with the client schema rebuilt once rather than every call
            view = {e: client.entity_from_wire(w) for e, w in game.view(player).items()}
            sent = game.events_for(player)
            events = [client.events.from_wire(e.wire(game.rules)[1:]) for e in sent[seen[player] :]]
            seen[player] = len(sent)
            act = bot.act(BotView(game.tick, game.entity_of[player.id], view, events))
            if act.input is not None:
                game.input(player, act.input)
        game.step()
    deaths = [e.event for e in game.events if isinstance(e.event, Death)]
    assert len(deaths) >= 3
    assert any(isinstance(e.event, Hit) for e in game.events)
    assert not any(isinstance(e.event, Shot) for e in game.events)  # it uses projectiles
    scores = [game.rules.score(p) for p in bots]
    assert sum(s or 0 for s in scores) >= 3


def test_the_bot_decides_from_the_decoded_view() -> None:
    game: Headless[Controls] = Headless(ArenaRules, ArenaSettings(obstacle_count=0), seed=1)
    ada, bob = game.join("ada"), game.join("bob")
    game.rules.place(game.entity_of[ada.id], 100.0, 100.0)  # type: ignore[attr-defined]
    game.rules.place(game.entity_of[bob.id], 300.0, 100.0)  # type: ignore[attr-defined]
    game.step()
    act = Bot(0).act(BotView(game.tick, game.entity_of[ada.id], game.decoded_view(ada)))
    assert act.input == Controls(buttons=Buttons.RIGHT | Buttons.FIRE, aim=0)


# ---------------------------------------------------------------- the package's face


def test_the_package_names_its_public_face_and_imports_no_server_or_client_code() -> None:
    face = {"ArenaRules", "ArenaSettings", "Bot", "Controls", "Player", "Projectile",
            "Obstacle", "Hit", "Death", "Respawn", "Score", "Shot"}  # fmt: skip
    assert face <= set(arena.__all__)
    folder = pathlib.Path(arena.__file__).parent
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith(("gameserver.sim", "gameserver.server", "clients")), (
                    f"{path.name} imports {name}"
                )
                assert (
                    not name.startswith("gameserver.")
                    or name == "gameserver.rules"
                    or (name == "gameserver")
                ), f"{path.name} imports {name}"
