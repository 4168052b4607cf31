"""The arena's movement on the 1/16 grid: speed, bounds, walls and obstacle pushes."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from gameserver.games.arena import POSITION_SCALE, Buttons
from gameserver.games.arena.movement import (
    clamp_snap,
    make_mover,
    move,
    push_out_of_circle,
    resolve_obstacles,
    snap,
)

W, H, R = 1000.0, 1000.0, 16.0
DT = 1.0 / 30.0
SPEED = 200.0
U, D, L, RT = int(Buttons.UP), int(Buttons.DOWN), int(Buttons.LEFT), int(Buttons.RIGHT)


def on_grid(v: float) -> bool:
    return (v * POSITION_SCALE).is_integer()


grid_coord = st.integers(min_value=0, max_value=1000 * POSITION_SCALE).map(
    lambda q: q / POSITION_SCALE
)
any_coord = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)
buttons_st = st.integers(min_value=0, max_value=31)
dt_st = st.floats(min_value=1e-3, max_value=0.2)
speed_st = st.floats(min_value=0.0, max_value=2000.0)
radius_st = st.floats(min_value=0.0, max_value=50.0)
size_st = st.floats(min_value=101.0, max_value=5000.0)


@given(grid_coord, grid_coord, buttons_st, dt_st, speed_st, size_st, size_st, radius_st)
def test_speed_never_exceeded_from_grid_start(
    x: float, y: float, buttons: int, dt: float, speed: float, w: float, h: float, r: float
) -> None:
    # Start from a legal (in-bounds, on-grid) position, as the server always does.
    x, y = clamp_snap(x, y, w, h, r)
    nx, ny = move(x, y, buttons, dt, speed, w, h, r)
    assert math.hypot(nx - x, ny - y) <= speed * dt + 1e-9


@given(any_coord, any_coord, buttons_st, dt_st, speed_st, size_st, size_st, radius_st)
def test_bounds_and_grid_for_any_start(
    x: float, y: float, buttons: int, dt: float, speed: float, w: float, h: float, r: float
) -> None:
    nx, ny = move(x, y, buttons, dt, speed, w, h, r)
    assert r <= nx <= w - r
    assert r <= ny <= h - r
    assert on_grid(nx)
    assert on_grid(ny)


@given(grid_coord, grid_coord, buttons_st)
def test_make_mover_is_move(x: float, y: float, buttons: int) -> None:
    mover = make_mover(DT, SPEED, W, H, R)
    assert mover(x, y, buttons) == move(x, y, buttons, DT, SPEED, W, H, R)


def test_axis_step_is_close_to_nominal() -> None:
    # Truncation to the grid may lose at most one grid step per tick.
    x, y = move(500.0, 500.0, RT, DT, SPEED, W, H, R)
    assert y == 500.0
    assert SPEED * DT - 1 / POSITION_SCALE <= x - 500.0 <= SPEED * DT


def test_diagonal_is_normalised() -> None:
    x, y = move(500.0, 500.0, RT | D, DT, SPEED, W, H, R)
    assert x - 500.0 == y - 500.0 > 0
    assert math.hypot(x - 500.0, y - 500.0) <= SPEED * DT
    assert math.hypot(x - 500.0, y - 500.0) >= SPEED * DT - 2 / POSITION_SCALE


def test_directions() -> None:
    assert move(500.0, 500.0, U, DT, SPEED, W, H, R)[1] < 500.0
    assert move(500.0, 500.0, D, DT, SPEED, W, H, R)[1] > 500.0
    assert move(500.0, 500.0, L, DT, SPEED, W, H, R)[0] < 500.0
    assert move(500.0, 500.0, RT, DT, SPEED, W, H, R)[0] > 500.0


@given(grid_coord, grid_coord, st.sampled_from([0, int(Buttons.FIRE)]))
def test_opposite_buttons_cancel(x: float, y: float, fire: int) -> None:
    x, y = clamp_snap(x, y, W, H, R)
    assert move(x, y, U | D | fire, DT, SPEED, W, H, R) == (x, y)
    assert move(x, y, L | RT | fire, DT, SPEED, W, H, R) == (x, y)
    assert move(x, y, U | D | L | RT | fire, DT, SPEED, W, H, R) == (x, y)
    # Cancelling one axis leaves the other at full (not diagonal) speed.
    assert move(x, y, U | D | RT, DT, SPEED, W, H, R) == move(x, y, RT, DT, SPEED, W, H, R)
    assert move(x, y, L | RT | U, DT, SPEED, W, H, R) == move(x, y, U, DT, SPEED, W, H, R)


def test_fire_bit_does_not_move() -> None:
    assert move(500.0, 500.0, int(Buttons.FIRE), DT, SPEED, W, H, R) == (500.0, 500.0)


def test_clamped_at_the_walls() -> None:
    assert move(R, R, U | L, DT, SPEED, W, H, R) == (R, R)
    assert move(W - R, H - R, D | RT, DT, SPEED, W, H, R) == (W - R, H - R)


def test_snap() -> None:
    assert snap(1.03) == 1.0
    assert snap(1.04) == 1.0625
    assert on_grid(snap(123.456))


circle_st = st.tuples(
    st.floats(min_value=100.0, max_value=900.0),
    st.floats(min_value=100.0, max_value=900.0),
    st.floats(min_value=1.0, max_value=80.0),
)


@given(st.floats(0.0, 1000.0), st.floats(0.0, 1000.0), circle_st)
def test_push_out_never_leaves_player_inside(x: float, y: float, c: tuple[float, ...]) -> None:
    cx, cy, cr = c
    x, y = snap(x), snap(y)
    nx, ny = push_out_of_circle(x, y, R, cx, cy, cr)
    assert math.hypot(nx - cx, ny - cy) >= R + cr - 1e-9
    assert on_grid(nx)
    assert on_grid(ny)
    if math.hypot(x - cx, y - cy) >= R + cr:
        assert (nx, ny) == (x, y)  # untouched when not overlapping
    else:
        # Pushed to the surface, not flung away: at most a grid step (per axis) further.
        assert math.hypot(nx - cx, ny - cy) <= R + cr + 2 / POSITION_SCALE


def test_push_out_dead_centre_is_deterministic() -> None:
    assert push_out_of_circle(500.0, 500.0, R, 500.0, 500.0, 40.0) == (556.0, 500.0)


def test_resolve_obstacles_matches_sequential_pushes() -> None:
    obstacles = [(300.0, 300.0, 50.0), (600.0, 600.0, 40.0)]
    assert resolve_obstacles(310.0, 300.0, R, obstacles) == (366.0, 300.0)
    assert resolve_obstacles(100.0, 100.0, R, obstacles) == (100.0, 100.0)
