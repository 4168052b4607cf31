from __future__ import annotations

import math

import pytest

from gameserver.sim.arena import Arena, ArenaSettings
from gameserver.sim.game import POSITION_SCALE, Buttons, EntityKind, Event, EventKind

OPEN = ArenaSettings(obstacle_count=0)
TICK_RATE = 30
FIRE = int(Buttons.FIRE)
AIM_RIGHT = 0  # +x
AIM_UP = 49152  # 3/4 turn: -y


def player(arena: Arena, pid: int) -> tuple[int, ...]:
    t = arena.wire_state()[pid]
    assert t[0] == EntityKind.PLAYER
    return t


def hp(arena: Arena, pid: int) -> int:
    return player(arena, pid)[4]


def score(arena: Arena, pid: int) -> int:
    return player(arena, pid)[5]


def alive(arena: Arena, pid: int) -> bool:
    return bool(player(arena, pid)[6] & 1)


def projectiles_of(arena: Arena, owner: int) -> set[int]:
    return {
        eid
        for eid, t in arena.wire_state().items()
        if t[0] == EntityKind.PROJECTILE and t[4] == owner
    }


def duel(settings: ArenaSettings = OPEN) -> tuple[Arena, int, int]:
    """Shooter at (300, 500) aiming +x at a target at (500, 500)."""
    arena = Arena(settings, seed=1, tick_rate=TICK_RATE)
    shooter, target = arena.join("shooter"), arena.join("target")
    arena.place(shooter, 300.0, 500.0)
    arena.place(target, 500.0, 500.0)
    return arena, shooter, target


def test_aimed_shot_hits() -> None:
    arena, shooter, target = duel()
    arena.apply_input(shooter, FIRE, AIM_RIGHT)
    hits: list[Event] = []
    for _ in range(20):
        hits += [e for e in arena.step() if e.kind == EventKind.HIT]
        if hits:
            break
    assert hits == [Event(arena.tick, EventKind.HIT, (shooter, target, 25, 75))]
    assert hp(arena, target) == OPEN.max_hp - OPEN.projectile_damage
    assert hp(arena, shooter) == OPEN.max_hp  # never hit by its own projectile


def test_miss_when_aiming_away() -> None:
    arena, shooter, target = duel()
    arena.apply_input(shooter, FIRE, AIM_UP)
    for _ in range(60):
        assert arena.step() == []
    assert hp(arena, target) == OPEN.max_hp


def test_four_hits_kill_score_and_respawn() -> None:
    arena, shooter, target = duel()
    arena.apply_input(shooter, FIRE, AIM_RIGHT)
    events: list[Event] = []
    while not any(e.kind == EventKind.DEATH for e in events):
        assert arena.tick < 200, "target never died"
        events += arena.step()
    arena.apply_input(shooter, 0, AIM_RIGHT)  # cease fire so the respawned target stays whole
    death_tick = arena.tick
    hits = [e for e in events if e.kind == EventKind.HIT]
    assert [e.args for e in hits] == [
        (shooter, target, 25, 75),
        (shooter, target, 25, 50),
        (shooter, target, 25, 25),
        (shooter, target, 25, 0),
    ]
    tail = [e for e in events if e.tick == death_tick]
    assert tail == [
        Event(death_tick, EventKind.HIT, (shooter, target, 25, 0)),
        Event(death_tick, EventKind.DEATH, (target, shooter)),
        Event(death_tick, EventKind.SCORE, (shooter, 1)),
    ]
    assert score(arena, shooter) == OPEN.kill_score == 1
    assert not alive(arena, target)
    assert hp(arena, target) == 0

    respawn_ticks = round(OPEN.respawn_delay_s * TICK_RATE)
    respawns: list[Event] = []
    while not respawns:
        assert arena.tick <= death_tick + respawn_ticks, "no respawn in time"
        respawns = [e for e in arena.step() if e.kind == EventKind.RESPAWN]
        if not respawns:
            assert not alive(arena, target)
    (event,) = respawns
    assert event.tick == death_tick + respawn_ticks
    wire = player(arena, target)
    assert event.args == (target, wire[1], wire[2])
    assert alive(arena, target)
    assert hp(arena, target) == OPEN.max_hp


def test_cooldown_limits_fire_rate() -> None:
    arena, shooter, _ = duel()
    arena.apply_input(shooter, FIRE, AIM_UP)
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
    arena.apply_input(shooter, FIRE, AIM_UP)
    seen: set[int] = set()
    for _ in range(10):
        arena.step()
        seen |= projectiles_of(arena, shooter)
    assert len(seen) == 10


def test_cooldown_flag_clears() -> None:
    arena, shooter, _ = duel()
    arena.apply_input(shooter, FIRE, AIM_UP)
    arena.step()
    arena.apply_input(shooter, 0, AIM_UP)
    assert player(arena, shooter)[6] == 0b11
    for _ in range(round(OPEN.fire_cooldown_s * TICK_RATE)):
        arena.step()
    assert player(arena, shooter)[6] == 0b01


def test_projectile_flies_along_aim_and_expires() -> None:
    arena = Arena(OPEN, seed=1, tick_rate=TICK_RATE)
    shooter = arena.join("s")
    arena.place(shooter, 100.0, 500.0)
    arena.apply_input(shooter, FIRE, AIM_RIGHT + 256)  # a little below +x
    arena.step()
    arena.apply_input(shooter, 0, 0)
    (pid,) = projectiles_of(arena, shooter)
    first = arena.wire_state()[pid]
    assert first[3] == 1  # angle_q = aim >> 8
    step = OPEN.projectile_speed / TICK_RATE
    angle = 256 * 2 * math.pi / 65536
    # Spawned at the shooter's edge, then moved one tick along the aim in the same step.
    expect_x = 100.0 + (OPEN.player_radius + step) * math.cos(angle)
    expect_y = 500.0 + (OPEN.player_radius + step) * math.sin(angle)
    assert first[1:3] == (round(expect_x * POSITION_SCALE), round(expect_y * POSITION_SCALE))
    assert arena.entity_position(pid) == pytest.approx((expect_x, expect_y))
    lifetime = round(OPEN.projectile_lifetime_s * TICK_RATE)
    moves = 1
    last = arena.entity_position(pid)
    while pid in arena.wire_state():
        last = arena.entity_position(pid)
        arena.step()
        moves += 1
    # It moved `lifetime` times and is gone from the snapshot after its last move.
    assert moves == lifetime
    assert last is not None
    assert math.dist(last, (100.0, 500.0)) == pytest.approx(
        OPEN.player_radius + step * (lifetime - 1)
    )


def test_projectile_leaving_the_world_is_removed() -> None:
    arena = Arena(OPEN, seed=1)
    shooter = arena.join("s")
    arena.place(shooter, 500.0, 40.0)
    arena.apply_input(shooter, FIRE, AIM_UP)
    arena.step()
    arena.apply_input(shooter, 0, AIM_UP)
    (pid,) = projectiles_of(arena, shooter)
    for _ in range(2):
        arena.step()
    assert pid not in arena.wire_state()
    assert arena.entity_position(pid) is None


def test_obstacle_blocks_projectiles() -> None:
    arena = Arena(seed=6)
    o = arena.obstacles[0]
    r = arena.settings.player_radius
    shooter, target = arena.join("s"), arena.join("t")
    arena.place(shooter, o.x - o.radius - r - 2.0, o.y)
    arena.place(target, o.x + o.radius + r + 2.0, o.y)
    arena.apply_input(shooter, FIRE, AIM_RIGHT)
    for _ in range(60):
        assert [e for e in arena.step() if e.kind == EventKind.HIT] == []
        # Every shot dies on the obstacle within a tick or two.
        assert len(projectiles_of(arena, shooter)) <= 1
    assert hp(arena, target) == arena.settings.max_hp


def test_dead_players_neither_move_nor_fire_nor_get_hit() -> None:
    arena, shooter, target = duel()
    arena.apply_input(shooter, FIRE, AIM_RIGHT)
    while alive(arena, target):
        assert arena.tick < 200
        arena.step()
    body = arena.entity_position(target)
    arena.apply_input(target, int(Buttons.LEFT) | FIRE, 32768)
    hits = []
    for _ in range(30):  # shooter keeps firing through the body
        hits += [e for e in arena.step() if e.kind == EventKind.HIT]
        assert arena.entity_position(target) == body
        assert projectiles_of(arena, target) == set()
    assert hits == []


def test_control_is_cleared_at_death() -> None:
    arena, shooter, target = duel()
    bottom = OPEN.height - OPEN.player_radius
    arena.place(shooter, 300.0, bottom)
    arena.place(target, 500.0, bottom)
    # Pressed against the bottom wall: DOWN does not move it while alive; fires upward.
    arena.apply_input(target, int(Buttons.DOWN) | FIRE, AIM_UP)
    arena.apply_input(shooter, FIRE, AIM_RIGHT)
    while alive(arena, target):
        assert arena.tick < 200
        arena.step()
    arena.apply_input(shooter, 0, AIM_RIGHT)
    arena.apply_input(target, int(Buttons.DOWN) | FIRE, AIM_UP)  # ignored: dead
    while not alive(arena, target):
        arena.step()
    fired_before = projectiles_of(arena, target)
    spawn = arena.entity_position(target)
    for _ in range(3):
        arena.step()
    assert arena.entity_position(target) == spawn  # starts idle after respawn
    assert projectiles_of(arena, target) <= fired_before


def test_kill_by_departed_shooter_scores_nobody() -> None:
    arena, shooter, target = duel(ArenaSettings(obstacle_count=0, projectile_damage=100))
    arena.apply_input(shooter, FIRE, AIM_RIGHT)
    arena.step()
    arena.leave(shooter)
    events: list[Event] = []
    for _ in range(15):
        events += arena.step()
    kinds = [e.kind for e in events]
    assert kinds == [EventKind.HIT, EventKind.DEATH]
    assert events[1].args == (target, shooter)
