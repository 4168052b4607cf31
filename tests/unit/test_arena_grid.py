"""The arena's spatial grid: every close pair and every point within reach is found."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gameserver.games.arena._grid import SpatialGrid

coord = st.floats(min_value=-200.0, max_value=1200.0, allow_nan=False)
points_st = st.lists(st.tuples(coord, coord), max_size=60)


@given(points_st, coord, coord, st.floats(min_value=0.0, max_value=150.0))
def test_query_radius_finds_every_point_within_r(
    points: list[tuple[float, float]], qx: float, qy: float, r: float
) -> None:
    grid = SpatialGrid(32.0)
    for i, (x, y) in enumerate(points):
        grid.insert(i, x, y)
    found = grid.query_radius(qx, qy, r)
    assert len(found) == len(set(found))  # point inserts are never duplicated
    expected = {i for i, (x, y) in enumerate(points) if math.hypot(x - qx, y - qy) < r - 1e-9}
    assert expected <= set(found)


def test_query_radius_prunes_far_cells() -> None:
    grid = SpatialGrid(32.0)
    grid.insert(1, 10.0, 10.0)
    grid.insert(2, 900.0, 900.0)
    assert grid.query_radius(12.0, 12.0, 5.0) == [1]
    assert grid.query_radius(500.0, 500.0, 20.0) == []


@given(points_st)
def test_close_pairs_covers_touching_pairs(points: list[tuple[float, float]]) -> None:
    cell = 32.0
    grid = SpatialGrid(cell)
    for i, (x, y) in enumerate(points):
        grid.insert(i, x, y)
    pairs = grid.close_pairs()
    assert pairs == sorted(set(pairs))  # sorted, no duplicates
    assert all(a < b for a, b in pairs)
    touching = {
        (a, b)
        for (a, pa), (b, pb) in itertools.combinations(enumerate(points), 2)
        if math.dist(pa, pb) < cell
    }
    assert touching <= set(pairs)


def test_clear_empties() -> None:
    grid = SpatialGrid(10.0)
    grid.insert(7, 5.0, 5.0)
    assert grid.query_radius(5.0, 5.0, 1.0) == [7]
    grid.clear()
    assert grid.query_radius(5.0, 5.0, 1.0) == []
    assert len(grid) == 0
    assert grid.close_pairs() == []


@given(
    st.floats(min_value=0.0, max_value=1000.0),
    st.floats(min_value=0.0, max_value=1000.0),
    st.floats(min_value=0.0, max_value=100.0),
    coord,
    coord,
)
def test_insert_circle_then_query_point(cx: float, cy: float, r: float, x: float, y: float) -> None:
    grid = SpatialGrid(32.0)
    grid.insert_circle(3, cx, cy, r)
    if math.hypot(x - cx, y - cy) < r - 1e-9:  # margin: float noise exactly on the rim
        assert 3 in grid.query_point(x, y)
    assert list(grid.query_point(cx, cy)) == [3]


def test_insertion_order_within_a_cell() -> None:
    grid = SpatialGrid(100.0)
    for i in (5, 2, 9):
        grid.insert(i, 50.0, 50.0)
    assert grid.query_radius(50.0, 50.0, 1.0) == [5, 2, 9]


@pytest.mark.parametrize("size", [0.0, -1.0])
def test_cell_size_must_be_positive(size: float) -> None:
    with pytest.raises(ValueError):
        SpatialGrid(size)
