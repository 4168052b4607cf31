"""What the arena puts on the wire: plain integers, the right kinds, lengths and fields."""

from __future__ import annotations

import random

from gameserver.games.arena import POSITION_SCALE, ArenaRules, ArenaSettings, Buttons, EntityKind

from .arena_world import ArenaWorld

LENGTHS = {EntityKind.PLAYER: 7, EntityKind.PROJECTILE: 5, EntityKind.OBSTACLE: 4}


def busy_arena() -> tuple[ArenaWorld, list[int]]:
    arena = ArenaWorld(ArenaSettings(width=400.0, height=400.0), seed=9)
    ids = [arena.join(f"p{i}") for i in range(6)]
    rng = random.Random(4)
    for _ in range(40):
        for pid in ids:
            arena.send(pid, rng.randrange(32) | int(Buttons.FIRE), rng.randrange(65536))
        arena.step()
    return arena, ids


def test_a_new_arena() -> None:
    rules = ArenaWorld().rules
    assert rules.tick == 0
    assert rules.tick_rate == ArenaRules.tick_rate == 30
    assert rules.world_size == (1000.0, 1000.0)


def test_every_value_is_a_plain_int_and_kinds_are_right() -> None:
    arena, ids = busy_arena()
    state = arena.wire_state()
    kinds = {eid: t[0] for eid, t in state.items()}
    assert {o.id for o in arena.obstacles} == {
        e for e, k in kinds.items() if k == EntityKind.OBSTACLE
    }
    assert set(ids) == {e for e, k in kinds.items() if k == EntityKind.PLAYER}
    assert any(k == EntityKind.PROJECTILE for k in kinds.values())
    for eid, t in state.items():
        assert type(eid) is int and eid > 0
        assert all(type(v) is int for v in t), t
        assert len(t) == LENGTHS[EntityKind(t[0])]


def test_player_and_projectile_fields() -> None:
    arena, ids = busy_arena()
    for eid, t in arena.wire_state().items():
        pos = arena.position(eid)
        assert pos is not None
        assert (t[1], t[2]) == (round(pos[0] * POSITION_SCALE), round(pos[1] * POSITION_SCALE))
        if t[0] == EntityKind.PLAYER:
            _, x_q, y_q, angle_q, hp, score, flags = t
            assert 0 <= angle_q < 256
            assert 0 <= hp <= 100
            assert score >= 0
            assert 0 <= flags <= 3
            assert (x_q / POSITION_SCALE, y_q / POSITION_SCALE) == pos  # exact: on the grid
        elif t[0] == EntityKind.PROJECTILE:
            assert 0 <= t[3] < 256
            assert t[4] in ids


def test_angle_is_aim_high_byte() -> None:
    arena = ArenaWorld(seed=1)
    pid = arena.join("a")
    arena.send(pid, 0, 0xABCD)
    arena.step()
    assert arena.wire(pid)[3] == 0xAB


def test_obstacles_on_the_wire() -> None:
    arena = ArenaWorld(seed=1)
    state = arena.wire_state()
    for o in arena.obstacles:
        assert state[o.id] == (
            EntityKind.OBSTACLE,
            round(o.x * POSITION_SCALE),
            round(o.y * POSITION_SCALE),
            round(o.radius * POSITION_SCALE),
        )
        # Exactly representable, so client prediction sees the server's obstacles.
        assert state[o.id][3] / POSITION_SCALE == o.radius
    arena.step()
    assert {o.id: state[o.id] for o in arena.obstacles} == {
        o.id: arena.wire_state()[o.id] for o in arena.obstacles
    }


def test_left_player_disappears() -> None:
    arena, ids = busy_arena()
    gone = ids[2]
    player = arena.player(gone)
    assert gone in arena.wire_state()
    arena.leave(gone)
    assert gone not in arena.wire_state()
    assert arena.position(gone) is None
    arena.step()
    assert gone not in arena.wire_state()
    arena.rules.leave(player)  # no error twice
    assert arena.rules.score(player) is None


def test_ids_are_never_reused() -> None:
    arena = ArenaWorld(seed=1)
    first = arena.join("a")
    arena.leave(first)
    second = arena.join("a")
    assert second > first
    assert second not in {o.id for o in arena.obstacles}


def test_join_spawns_alive_on_a_free_spot() -> None:
    arena = ArenaWorld(seed=2)
    r = arena.settings.player_radius
    ids = [arena.join(str(i)) for i in range(50)]
    state = arena.wire_state()
    for pid in ids:
        _, x_q, y_q, _, hp, score, flags = state[pid]
        x, y = x_q / POSITION_SCALE, y_q / POSITION_SCALE
        assert (hp, score, flags) == (100, 0, 1)
        assert r <= x <= 1000 - r and r <= y <= 1000 - r
        for o in arena.obstacles:
            assert (x - o.x) ** 2 + (y - o.y) ** 2 >= (o.radius + r) ** 2


def test_tick_counts_steps() -> None:
    arena = ArenaWorld(seed=1)
    for _ in range(5):
        assert arena.step() == []
    assert arena.tick == 5
