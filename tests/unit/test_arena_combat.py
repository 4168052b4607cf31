"""The arena's weapons: projectiles fly, hit, kill and score; the dead respawn."""

from __future__ import annotations

import math

import pytest

from gameserver.games.arena import (
    POSITION_SCALE,
    ArenaSettings,
    Buttons,
    Death,
    EntityKind,
    EventKind,
    Hit,
    Respawn,
    Score,
)
from gameserver.testing import SentEvent

from .arena_world import ArenaWorld

OPEN = ArenaSettings(obstacle_count=0)
TICK_RATE = 30
FIRE = int(Buttons.FIRE)
AIM_RIGHT = 0  # +x
AIM_UP = 49152  # 3/4 turn: -y


def player(arena: ArenaWorld, pid: int) -> tuple[int, ...]:
    t = arena.wire_state()[pid]
    assert t[0] == EntityKind.PLAYER
    return t


def hp(arena: ArenaWorld, pid: int) -> int:
    return player(arena, pid)[4]


def score(arena: ArenaWorld, pid: int) -> int:
    return player(arena, pid)[5]


def alive(arena: ArenaWorld, pid: int) -> bool:
    return bool(player(arena, pid)[6] & 1)


def projectiles_of(arena: ArenaWorld, owner: int) -> set[int]:
    return {
        eid
        for eid, t in arena.wire_state().items()
        if t[0] == EntityKind.PROJECTILE and t[4] == owner
    }


def duel(settings: ArenaSettings = OPEN) -> tuple[ArenaWorld, int, int]:
    """Shooter at (300, 500) aiming +x at a target at (500, 500)."""
    arena = ArenaWorld(settings, seed=1, tick_rate=TICK_RATE)
    shooter, target = arena.join("shooter"), arena.join("target")
    arena.place(shooter, 300.0, 500.0)
    arena.place(target, 500.0, 500.0)
    return arena, shooter, target


def test_aimed_shot_hits() -> None:
    arena, shooter, target = duel()
    arena.send(shooter, FIRE, AIM_RIGHT)
    hits: list[SentEvent] = []
    for _ in range(20):
        hits += [e for e in arena.step() if isinstance(e.event, Hit)]
        if hits:
            break
    assert hits == [SentEvent(arena.tick, Hit(shooter=shooter, target=target, damage=25,
                                              hp_after=75))]  # fmt: skip
    assert hp(arena, target) == OPEN.max_hp - OPEN.projectile_damage
    assert hp(arena, shooter) == OPEN.max_hp  # never hit by its own projectile


def test_miss_when_aiming_away() -> None:
    arena, shooter, target = duel()
    arena.send(shooter, FIRE, AIM_UP)
    for _ in range(60):
        assert arena.step() == []
    assert hp(arena, target) == OPEN.max_hp


def test_four_hits_kill_score_and_respawn() -> None:
    arena, shooter, target = duel()
    arena.send(shooter, FIRE, AIM_RIGHT)
    events: list[SentEvent] = []
    while not any(isinstance(e.event, Death) for e in events):
        assert arena.tick < 200, "target never died"
        events += arena.step()
    arena.send(shooter, 0, AIM_RIGHT)  # cease fire so the respawned target stays whole
    death_tick = arena.tick
    hits = [e.event for e in events if isinstance(e.event, Hit)]
    assert hits == [
        Hit(shooter=shooter, target=target, damage=25, hp_after=75),
        Hit(shooter=shooter, target=target, damage=25, hp_after=50),
        Hit(shooter=shooter, target=target, damage=25, hp_after=25),
        Hit(shooter=shooter, target=target, damage=25, hp_after=0),
    ]
    tail = [e for e in events if e.tick == death_tick]
    assert tail == [
        SentEvent(death_tick, Hit(shooter=shooter, target=target, damage=25, hp_after=0)),
        SentEvent(death_tick, Death(victim=target, killer=shooter)),
        SentEvent(death_tick, Score(player=shooter, score=1)),
    ]
    assert score(arena, shooter) == OPEN.kill_score == 1
    assert not alive(arena, target)
    assert hp(arena, target) == 0

    respawn_ticks = round(OPEN.respawn_delay_s * TICK_RATE)
    respawns: list[SentEvent] = []
    while not respawns:
        assert arena.tick <= death_tick + respawn_ticks, "no respawn in time"
        respawns = [e for e in arena.step() if isinstance(e.event, Respawn)]
        if not respawns:
            assert not alive(arena, target)
    (event,) = respawns
    assert event.tick == death_tick + respawn_ticks
    wire = player(arena, target)
    assert event.wire(arena.rules) == [event.tick, EventKind.RESPAWN, target, wire[1], wire[2]]
    assert alive(arena, target)
    assert hp(arena, target) == OPEN.max_hp


def test_cooldown_limits_fire_rate() -> None:
    arena, shooter, _ = duel()
    arena.send(shooter, FIRE, AIM_UP)
    seen: set[int] = set()
    flags: list[int] = []
    n = 60
    for _ in range(n):
        arena.step()
        seen |= projectiles_of(arena, shooter)
        flags.append(player(arena, shooter)[6])
    cooldown_ticks = round(OPEN.fire_cooldown_s * TICK_RATE)
    assert len(seen) == math.ceil(n / cooldown_ticks) == 5
    assert all(f & 2 for f in flags)  # firing continuously: always cooling down


def test_no_cooldown_fires_every_tick() -> None:
    arena, shooter, _ = duel(ArenaSettings(obstacle_count=0, fire_cooldown_s=0.0))
    arena.send(shooter, FIRE, AIM_UP)
    seen: set[int] = set()
    for _ in range(10):
        arena.step()
        seen |= projectiles_of(arena, shooter)
    assert len(seen) == 10


def test_cooldown_flag_clears() -> None:
    arena, shooter, _ = duel()
    arena.send(shooter, FIRE, AIM_UP)
    arena.step()
    arena.send(shooter, 0, AIM_UP)
    assert player(arena, shooter)[6] == 0b11
    for _ in range(round(OPEN.fire_cooldown_s * TICK_RATE)):
        arena.step()
    assert player(arena, shooter)[6] == 0b01


def test_projectile_flies_along_aim_and_expires() -> None:
    arena = ArenaWorld(OPEN, seed=1, tick_rate=TICK_RATE)
    shooter = arena.join("s")
    arena.place(shooter, 100.0, 500.0)
    arena.send(shooter, FIRE, AIM_RIGHT + 256)  # a little below +x
    arena.step()
    arena.send(shooter, 0, 0)
    (pid,) = projectiles_of(arena, shooter)
    first = arena.wire_state()[pid]
    assert first[3] == 1  # angle_q = aim >> 8
    step = OPEN.projectile_speed / TICK_RATE
    angle = 256 * 2 * math.pi / 65536
    # Spawned at the shooter's edge, then moved one tick along the aim in the same step.
    expect_x = 100.0 + (OPEN.player_radius + step) * math.cos(angle)
    expect_y = 500.0 + (OPEN.player_radius + step) * math.sin(angle)
    assert first[1:3] == (round(expect_x * POSITION_SCALE), round(expect_y * POSITION_SCALE))
    assert arena.position(pid) == pytest.approx((expect_x, expect_y))
    lifetime = round(OPEN.projectile_lifetime_s * TICK_RATE)
    moves = 1
    last = arena.position(pid)
    while pid in arena.wire_state():
        last = arena.position(pid)
        arena.step()
        moves += 1
    # It moved `lifetime` times and is gone from the snapshot after its last move.
    assert moves == lifetime
    assert last is not None
    assert math.dist(last, (100.0, 500.0)) == pytest.approx(
        OPEN.player_radius + step * (lifetime - 1)
    )


def test_projectile_leaving_the_world_is_removed() -> None:
    arena = ArenaWorld(OPEN, seed=1)
    shooter = arena.join("s")
    arena.place(shooter, 500.0, 40.0)
    arena.send(shooter, FIRE, AIM_UP)
    arena.step()
    arena.send(shooter, 0, AIM_UP)
    (pid,) = projectiles_of(arena, shooter)
    for _ in range(2):
        arena.step()
    assert pid not in arena.wire_state()
    assert arena.position(pid) is None


def test_obstacle_blocks_projectiles() -> None:
    arena = ArenaWorld(seed=6)
    o = arena.obstacles[0]
    r = arena.settings.player_radius
    shooter, target = arena.join("s"), arena.join("t")
    arena.place(shooter, o.x - o.radius - r - 2.0, o.y)
    arena.place(target, o.x + o.radius + r + 2.0, o.y)
    arena.send(shooter, FIRE, AIM_RIGHT)
    for _ in range(60):
        assert [e for e in arena.step() if isinstance(e.event, Hit)] == []
        # Every shot dies on the obstacle within a tick or two.
        assert len(projectiles_of(arena, shooter)) <= 1
    assert hp(arena, target) == arena.settings.max_hp


def test_dead_players_neither_move_nor_fire_nor_get_hit() -> None:
    arena, shooter, target = duel()
    arena.send(shooter, FIRE, AIM_RIGHT)
    while alive(arena, target):
        assert arena.tick < 200
        arena.step()
    body = arena.position(target)
    arena.send(target, int(Buttons.LEFT) | FIRE, 32768)
    hits = []
    for _ in range(30):  # shooter keeps firing through the body
        hits += [e for e in arena.step() if isinstance(e.event, Hit)]
        assert arena.position(target) == body
        assert projectiles_of(arena, target) == set()
    assert hits == []


def test_control_is_cleared_at_death_so_the_respawn_tick_is_idle() -> None:
    """The newest input still holds after a respawn (a held key stays held), but only from
    the tick after it: the respawn itself neither moves nor fires."""
    arena, shooter, target = duel()
    bottom = OPEN.height - OPEN.player_radius
    arena.place(shooter, 300.0, bottom)
    arena.place(target, 500.0, bottom)
    # Pressed against the bottom wall: DOWN does not move it while alive; fires upward.
    arena.send(target, int(Buttons.DOWN) | FIRE, AIM_UP)
    arena.send(shooter, FIRE, AIM_RIGHT)
    while alive(arena, target):
        assert arena.tick < 200
        arena.step()
    arena.send(shooter, 0, AIM_RIGHT)
    arena.send(target, int(Buttons.DOWN) | FIRE, AIM_UP)  # ignored while dead
    respawns: list[SentEvent] = []
    while not respawns:
        assert arena.tick < 400
        fired_before = projectiles_of(arena, target)
        respawns = [e for e in arena.step() if isinstance(e.event, Respawn)]
    spawn = arena.position(target)
    assert spawn == (respawns[0].event.x, respawns[0].event.y)  # not moved on its first tick
    assert projectiles_of(arena, target) <= fired_before  # nor fired
    arena.step()
    assert projectiles_of(arena, target) - fired_before  # the held input applies again
    step = int(OPEN.player_speed / TICK_RATE * POSITION_SCALE) / POSITION_SCALE
    assert spawn is not None and arena.position(target) == (spawn[0], spawn[1] + step)


def test_kill_by_departed_shooter_scores_nobody() -> None:
    arena, shooter, target = duel(ArenaSettings(obstacle_count=0, projectile_damage=100))
    arena.send(shooter, FIRE, AIM_RIGHT)
    arena.step()
    arena.leave(shooter)
    events = arena.events(15)
    assert events == [
        Hit(shooter=shooter, target=target, damage=100, hp_after=0),
        Death(victim=target, killer=shooter),
    ]
