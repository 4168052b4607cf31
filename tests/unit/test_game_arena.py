"""The arena on the rules API: the same game as before it moved onto it, byte for byte.

Before the port the arena was a class of its own that rooms drove directly: every tick
each player's newest input frame was applied again, a dropped player was set idle with
its newest aim and then left alone, and a resumed one waited for its next frame. Seeded
scripts of joins, leaves, drops, resumes, teleports and inputs were run on it and on
``ArenaRules`` (through the headless kit) side by side, and agreed on every tick's wire
state, events, state hash and scores. ``BEFORE`` keeps what those runs produced, as one
fingerprint per script, so the rules stay that game.
"""

from __future__ import annotations

import ast
import hashlib
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
    AIM_STEPS,
    ArenaRules,
    ArenaSettings,
    Bot,
    Buttons,
    Controls,
    Death,
    EntityKind,
    EventKind,
    Hit,
    PlayerFlags,
    Shot,
    predictor,
)
from gameserver.games.arena._schema import ENTITIES, EVENTS
from gameserver.rules import BotView, Player
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
    """One scripted player."""

    player: Player
    entity: int
    sent: bool = False  # a frame was sent since joining or resuming
    held: bool = False  # dropped, awaiting a resume


class Script:
    """The rules, driven through the headless kit as a room drives them."""

    def __init__(self, settings: dict[str, Any], seed: int, tick_rate: int = 30) -> None:
        self.game: Headless[Controls] = Headless(
            rules_for(tick_rate), ArenaSettings(**settings), seed=seed
        )
        self.members: list[Member] = []
        self.names = 0

    @property
    def rules(self) -> ArenaRules:
        assert isinstance(self.game.rules, ArenaRules)
        return self.game.rules

    def join(self) -> Member:
        self.names += 1
        player = self.game.join(f"p{self.names}")
        member = Member(player, self.game.entity_of[player.id])
        self.members.append(member)
        return member

    def leave(self, member: Member) -> None:
        self.members.remove(member)
        self.game.leave(member.player)

    def send(self, member: Member, buttons: int, aim: int, view_tick: float | None) -> None:
        member.sent = True
        member.held = False
        self.game.input(member.player, Controls(buttons=Buttons(buttons), aim=aim),
                        view_tick=view_tick)  # fmt: skip

    def drop(self, member: Member) -> None:
        member.held = True
        self.game.disconnect(member.player)

    def resume(self, member: Member) -> None:
        member.sent = False  # the new connection has sent nothing yet
        self.game.reconnect(member.player)

    def place(self, member: Member, x: float, y: float) -> None:
        self.rules.place(member.entity, x, y)

    def step(self) -> list[list[Any]]:
        """One tick; its events as wire lists ``[tick, kind, *args]``."""
        return [sent.wire(self.rules) for sent in self.game.step()]


def run_script(
    settings: dict[str, Any], seed: int, ticks: int, tick_rate: int = 30
) -> tuple[str, set[int]]:
    """A seeded random script; the fingerprint of every tick's outcome, the event kinds seen."""
    script = Script(settings, seed, tick_rate)
    chooser = random.Random(seed * 7919 + tick_rate)
    rules_ = script.rules
    fingerprint = hashlib.blake2b(repr(rules_.client_params()).encode(), digest_size=16)
    kinds: set[int] = set()
    shot_hits = 0
    for _ in range(ticks):
        if len(script.members) < 14 and chooser.random() < 0.15:
            script.join()
        if script.members and chooser.random() < 0.02:
            script.leave(chooser.choice(script.members))
        for member in list(script.members):
            roll = chooser.random()
            if roll < 0.01 and not member.held:
                script.drop(member)
            elif roll < 0.02 and member.held:
                script.resume(member)
            elif roll < 0.04:
                script.place(member, chooser.uniform(-50, 450), chooser.uniform(-50, 450))
            elif roll < 0.35 and (not member.held or not member.sent):
                if member.held and chooser.random() < 0.5:
                    continue  # a resumed player sends its first frame a little later
                view = None
                if chooser.random() < 0.8:  # in 1/256 tick, as the Input's view item; 0: none
                    view = (rules_.tick * 256 - chooser.randrange(-512, 4096)) / 256 or None
                buttons = chooser.randrange(256)  # bits 64 and 128 too: accepted, ignored
                if chooser.random() < 0.5:
                    buttons &= ~16  # fewer projectiles, so hitscan kills show up too
                script.send(member, buttons, chooser.randrange(65536), view)
        events = script.step()
        assert rules_.schema.wire_state(rules_.entities()) == rules_.wire_state()
        scores = [rules_.score(member.player) for member in script.members]
        outcome = (events, sorted(rules_.wire_state().items()), rules_.state_hash(), scores)
        fingerprint.update(repr(outcome).encode())
        kinds |= {e[1] for e in events}
        shot_hits += sum(1 for e in events if e[1] == EventKind.SHOT and e[3])
    assert shot_hits > 0
    return fingerprint.hexdigest(), kinds


# What the arena produced for these scripts before the port (see the module docstring).
BEFORE = {
    1: "cfbcfeebc3895c1b9ad338aa5de6f011",
    2: "ae82f3303009878f43e113130264c46c",
    3: "c57e604ec79a6a2007dce4429f6a864f",
    4: "60a72c25f32f3608d924ba7cbf51d677",
}


@pytest.mark.parametrize(
    ("settings", "seed", "tick_rate"),
    [
        (SMALL, 1, 30),
        (SMALL, 2, 60),
        ({**SMALL, "lag_compensation": False, "fire_cooldown_s": 0.0}, 3, 30),
        ({"obstacle_count": 12, "max_rewind_s": 0.5, "width": 600.0}, 4, 30),
    ],
)
def test_wire_events_and_hashes_equal_the_arena_before_the_port(
    settings: dict[str, Any], seed: int, tick_rate: int
) -> None:
    fingerprint, kinds = run_script(settings, seed, ticks=400, tick_rate=tick_rate)
    # Otherwise the script is too tame to compare combat, deaths and respawns.
    assert kinds == {int(k) for k in EventKind}
    assert fingerprint == BEFORE[seed]


def test_kinds_and_the_description_are_the_protocols() -> None:
    schema = ArenaRules.schema
    assert [e.name for e in schema.entities] == ["Player", "Projectile", "Obstacle"]
    assert [m.name for m in schema.events.messages] == ["Hit", "Death", "Respawn", "Score", "Shot"]
    assert [len(e.field_names) + 1 for e in schema.entities] == [7, 5, 4]
    assert [len(m.field_names) for m in schema.events.messages] == [4, 2, 3, 2, 4]
    assert [(k.name, k.value) for k in EntityKind] == [
        (cls.__name__.upper(), schema.entity(cls).kind) for cls in ENTITIES
    ]
    assert [k.name for k in EventKind] == [cls.__name__.upper() for cls in EVENTS]
    assert [int(k) for k in EventKind] == [m.kind for m in schema.events.messages]
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


def test_a_player_dropped_just_after_respawning_keeps_its_newest_aim() -> None:
    settings = {"obstacle_count": 0, "max_hp": 20, "respawn_delay_s": 0.1}  # one hit kills
    script = Script(settings, seed=2)
    target, shooter = script.join(), script.join()
    script.place(target, 100.0, 100.0)
    script.place(shooter, 200.0, 100.0)
    script.send(shooter, int(Buttons.HITSCAN), 32768, None)  # left, at the target
    assert [e[1] for e in script.step()] == [EventKind.SHOT, EventKind.HIT, EventKind.DEATH,
                                             EventKind.SCORE]  # fmt: skip
    script.send(shooter, 0, 32768, None)
    script.send(target, int(Buttons.UP), 4096, None)  # sent while dead: ignored, but newest
    while EventKind.RESPAWN not in [e[1] for e in script.step()]:
        pass
    respawned = script.game.wire_state()[target.entity]
    assert respawned[3] == 0  # still the aim it died with
    script.drop(target)  # right after the respawn: no frame was applied since the death
    script.step()
    assert script.game.wire_state()[target.entity] == (*respawned[:3], 4096 >> 8, *respawned[4:])


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
    script = Script(SMALL, seed=8)
    rng = random.Random(8)
    for _ in range(8):
        script.join()
    game = script.game

    def play(target: Headless[Controls], tick: int) -> None:
        for member in script.members:  # every player sends every tick, hitscan from the past
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
    through ``view_tick``. Whether the shot hits."""
    settings = {"obstacle_count": 0, "lag_compensation": lag_compensation,
                "max_rewind_s": max_rewind_s}  # fmt: skip
    script = Script(settings, seed=3)
    target, shooter = script.join(), script.join()
    script.place(target, 100.0, 500.0)
    script.place(shooter, 400.0, 300.0)
    script.send(target, int(Buttons.RIGHT), 0, None)
    positions: list[tuple[float, float]] = []
    for _ in range(20):
        script.step()
        where = ArenaRules.schema.position(script.game.wire_state()[target.entity])
        assert where is not None
        positions.append(where)
    now = script.game.tick
    seen_x, seen_y = positions[-1 - int(seen_ticks_ago)]
    aim = round(math.atan2(seen_y - 300.0, seen_x - 400.0) / (2 * math.pi) * 65536) % 65536
    script.send(shooter, int(Buttons.HITSCAN), aim, now - seen_ticks_ago)
    shots = [e for e in script.step() if e[1] == EventKind.SHOT]
    assert len(shots) == 1 and shots[0][2] == shooter.entity
    return bool(shots[0][3] == target.entity)


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


class Seen(dict[int, Any]):
    """What a client's world offers a prediction step: entities by id, and by type."""

    def of_type(self, name: str) -> dict[int, Any]:
        return {eid: e for eid, e in self.items() if type(e).__name__ == name}


def test_the_prediction_function_predicts_the_rules_exactly() -> None:
    assert ArenaRules.prediction is not None
    module, _, name = ArenaRules.prediction.partition(":")
    make = getattr(importlib.import_module(module), name)
    game: Headless[Controls] = Headless(Arena60, ArenaSettings(obstacle_count=14), seed=4)
    me = game.join("ada")
    step = make(game.rules.client_params(), 60)
    world = Seen(game.decoded_view(me))
    obstacles = [(o.x, o.y, o.radius) for o in world.of_type("Obstacle").values()]
    rng = random.Random(4)
    mine = world[game.entity_of[me.id]]
    buttons = 0
    pushed = 0
    for _ in range(600):
        if rng.random() < 0.1:
            buttons = rng.randrange(64) & ~(16 | 32)
        controls = Controls(buttons=Buttons(buttons), aim=0)
        game.input(me, controls)
        game.step()
        mine = step(mine, controls, world)
        wire = game.wire_state()[game.entity_of[me.id]]
        assert (round(mine.x * 16), round(mine.y * 16)) == wire[1:3]
        pushed += any((mine.x - cx) ** 2 + (mine.y - cy) ** 2 < (16 + cr + 0.1) ** 2
                      for cx, cy, cr in obstacles)  # fmt: skip
    assert pushed > 0  # the walk met obstacles, so the push was predicted too


def test_the_prediction_function_leaves_a_dead_player_to_the_server() -> None:
    game: Headless[Controls] = Headless(ArenaRules, ArenaSettings(obstacle_count=0), seed=4)
    me = game.join("ada")
    step = predictor(game.rules.client_params(), 30)
    mine = game.decoded_view(me)[game.entity_of[me.id]]
    dead = type(mine)(x=mine.x, y=mine.y, aim=0, hp=0, score=0, flags=PlayerFlags(0))
    assert step(dead, Controls(buttons=Buttons.RIGHT, aim=0), Seen()) is None
    idle = Controls(buttons=Buttons.FIRE, aim=0)
    assert step(mine, idle, Seen()) is mine  # no direction: not moved, not even clamped


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
            game.act(player, bot.act(BotView(game.tick, game.entity_of[player.id], view, events)))
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
    assert act.input == (Buttons.RIGHT | Buttons.FIRE, 0.0)  # aim in radians, as a client's


def test_the_bot_aims_at_its_target_through_a_client_encoding() -> None:
    # Bob stands straight below Ada (+y): the bot's aim must reach the rules as a quarter
    # turn, whichever way its input travels (a client encodes with the description).
    game: Headless[Controls] = Headless(ArenaRules, ArenaSettings(obstacle_count=0), seed=1)
    ada, bob = game.join("ada"), game.join("bob")
    game.rules.place(game.entity_of[ada.id], 100.0, 100.0)  # type: ignore[attr-defined]
    game.rules.place(game.entity_of[bob.id], 100.0, 300.0)  # type: ignore[attr-defined]
    game.step()
    game.act(ada, Bot(0).act(game.bot_view(ada)))
    game.step()
    assert game.rules.entities()[game.entity_of[ada.id]].aim == AIM_STEPS // 4


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
                assert not name.startswith(("gameserver.server", "gameserver.clients")), (
                    f"{path.name} imports {name}"
                )
                assert (
                    not name.startswith("gameserver.")
                    or name == "gameserver.rules"
                    or (name == "gameserver")
                ), f"{path.name} imports {name}"
