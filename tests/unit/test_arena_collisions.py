"""The arena's collisions: players never overlap each other or obstacles, nor leave the world."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.games.arena import POSITION_SCALE, ArenaSettings, Buttons

from .arena_world import ArenaWorld

OPEN = ArenaSettings(obstacle_count=0)
R = OPEN.player_radius
EPS = 1e-6
U, D, L, RT = int(Buttons.UP), int(Buttons.DOWN), int(Buttons.LEFT), int(Buttons.RIGHT)


def pos(arena: ArenaWorld, pid: int) -> tuple[float, float]:
    p = arena.position(pid)
    assert p is not None
    return p


def test_two_players_walking_into_each_other_do_not_overlap() -> None:
    arena = ArenaWorld(OPEN, seed=1)
    a, b = arena.join("a"), arena.join("b")
    arena.place(a, 400.0, 500.0)
    arena.place(b, 470.0, 503.0)
    arena.send(a, RT)
    arena.send(b, L)
    contact = False
    for _ in range(60):
        arena.step()
        d = math.dist(pos(arena, a), pos(arena, b))
        assert d >= 2 * R - EPS
        contact = contact or d < 2 * R + 1.0
    assert contact  # they really did push against each other


@settings(max_examples=50, deadline=None)
@given(
    st.tuples(st.floats(300.0, 700.0), st.floats(300.0, 700.0)),
    st.tuples(st.floats(300.0, 700.0), st.floats(300.0, 700.0)),
    st.lists(st.tuples(st.integers(0, 15), st.integers(0, 15)), min_size=1, max_size=20),
)
def test_pair_never_overlaps_after_a_step(
    start_a: tuple[float, float],
    start_b: tuple[float, float],
    controls: list[tuple[int, int]],
) -> None:
    arena = ArenaWorld(OPEN, seed=1)
    a, b = arena.join("a"), arena.join("b")
    arena.place(a, *start_a)
    arena.place(b, *start_b)  # may start overlapping, even stacked
    for ca, cb in controls:
        arena.send(a, ca)
        arena.send(b, cb)
        arena.step()
        assert math.dist(pos(arena, a), pos(arena, b)) >= 2 * R - EPS


def test_stacked_crowd_spreads_out() -> None:
    arena = ArenaWorld(OPEN, seed=1)
    ids = [arena.join(str(i)) for i in range(30)]
    for pid in ids:
        arena.place(pid, 500.0, 500.0)
    for _ in range(60):
        arena.step()
    positions = [pos(arena, pid) for pid in ids]
    for p, q in itertools.combinations(positions, 2):
        assert math.dist(p, q) >= 2 * R - EPS
    for x, y in positions:
        assert R <= x <= OPEN.width - R and R <= y <= OPEN.height - R
        assert (x * POSITION_SCALE).is_integer() and (y * POSITION_SCALE).is_integer()


def test_crowd_against_a_wall_stays_in_bounds() -> None:
    arena = ArenaWorld(OPEN, seed=2)
    ids = [arena.join(str(i)) for i in range(20)]
    for i, pid in enumerate(ids):
        arena.place(pid, 100.0 + 20 * i, 500.0)
        arena.send(pid, L)
    for _ in range(90):
        arena.step()
        for pid in ids:
            x, y = pos(arena, pid)
            assert R <= x <= OPEN.width - R and R <= y <= OPEN.height - R


def assert_outside_obstacles(arena: ArenaWorld, pid: int) -> None:
    x, y = pos(arena, pid)
    for o in arena.obstacles:
        assert math.hypot(x - o.x, y - o.y) >= o.radius + R - EPS


DIRECTIONS = [U, D, L, RT, U | L, U | RT, D | L, D | RT]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 1000), st.integers(0, 7), st.sampled_from(DIRECTIONS), st.floats(-1, 1))
def test_walking_into_an_obstacle_never_ends_inside(
    seed: int, which: int, buttons: int, offset: float
) -> None:
    arena = ArenaWorld(seed=seed)
    o = arena.obstacles[which % len(arena.obstacles)]
    pid = arena.join("walker")
    # Start just outside the obstacle on the side opposite to the walking direction.
    dx = ((buttons >> 3) & 1) - ((buttons >> 2) & 1)
    dy = ((buttons >> 1) & 1) - (buttons & 1)
    norm = math.hypot(dx, dy)
    dist = o.radius + R + 5.0
    side = offset * (o.radius + R)  # sideways offset: head-on to grazing
    arena.place(
        pid,
        o.x - dx / norm * dist - dy / norm * side,
        o.y - dy / norm * dist + dx / norm * side,
    )
    assert_outside_obstacles(arena, pid)
    arena.send(pid, buttons)
    for _ in range(40):
        arena.step()
        assert_outside_obstacles(arena, pid)


def test_head_on_into_an_obstacle_stops_at_its_surface() -> None:
    arena = ArenaWorld(seed=4)
    o = arena.obstacles[0]
    pid = arena.join("walker")
    arena.place(pid, o.x - o.radius - R - 30.0, o.y)
    arena.send(pid, RT)
    for _ in range(30):
        arena.step()
        assert_outside_obstacles(arena, pid)
    x, y = pos(arena, pid)
    assert math.hypot(x - o.x, y - o.y) < o.radius + R + 1.0  # pressed against it, not bounced


def test_player_shoved_into_an_obstacle_ends_outside() -> None:
    arena = ArenaWorld(seed=5)
    o = arena.obstacles[0]
    victim, pusher = arena.join("victim"), arena.join("pusher")
    arena.place(victim, o.x - o.radius - R - 1.0, o.y)
    arena.place(pusher, o.x - o.radius - 3 * R - 2.0, o.y + 3.0)
    arena.send(pusher, RT)
    for _ in range(60):
        arena.step()
        assert_outside_obstacles(arena, victim)
        assert_outside_obstacles(arena, pusher)
