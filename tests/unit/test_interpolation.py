"""Snapshot interpolation: smooth, bounded, bracketing, wrapping angles, capped guesses.

A small game declares what moves smoothly: a ``Mover``'s position and heading are
``interpolate``d, its ``hp`` is not; a ``Wall`` has nothing interpolated.
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver import rules
from gameserver.clients._interpolation import Interpolator, default_delay_s

Q = 16
TURN = 256  # heading steps per turn


@rules.entity
class Mover:
    x: float = rules.fixed(Q, 0, 100_000, interpolate=True, position="x")
    y: float = rules.fixed(Q, 0, 100_000, interpolate=True, position="y")
    heading: float = rules.angle(TURN, interpolate=True)
    hp: int = rules.integer(0, 100)
    level: int = rules.integer(0, 1000, interpolate=True)


@rules.entity
class Wall:
    x: float = rules.fixed(Q, 0, 100_000, position="x")
    y: float = rules.fixed(Q, 0, 100_000, position="y")
    radius: float = rules.fixed(Q, 0, 100_000)


SCHEMA = rules.GameSchema.from_description(rules.GameSchema(entities=[Mover, Wall]).describe())


def make(**options: Any) -> Interpolator:
    return Interpolator(SCHEMA, **options)


def player(x: float, y: float, angle: int = 0, hp: int = 100, level: int = 0) -> tuple[int, ...]:
    return (0, round(x * Q), round(y * Q), angle, hp, level)


def steps(radians: float) -> float:
    return radians * TURN / (2 * math.pi)


def view(x: float, y: float, angle: float = 0.0, hp: int = 100, level: float = 0.0) -> Any:
    return SCHEMA.entities[0].cls(x=x, y=y, heading=angle * 2 * math.pi / TURN, hp=hp, level=level)


def test_empty_before_first_snapshot() -> None:
    interp = make()
    assert interp.sample(0.0) == {}
    assert interp.sample(123.0) == {}
    assert interp.newest_time_s is None


def test_default_delay_is_three_snapshot_intervals() -> None:
    assert default_delay_s(20) == pytest.approx(0.15)
    assert default_delay_s(30) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        default_delay_s(0)
    assert make(delay_s=0.15).render_time(10.0) == pytest.approx(9.85)


@settings(max_examples=80, deadline=None)
@given(
    st.integers(min_value=1, max_value=64),  # grid steps per snapshot (speed)
    st.sampled_from([10, 15, 20, 30, 60]),  # snapshot rate
    st.sampled_from([30, 60, 144]),  # frame rate
    st.floats(min_value=0.0, max_value=1.0),  # jitter, as a fraction of its allowed maximum
    st.integers(min_value=0, max_value=2**32),
)
def test_straight_move_is_monotonic_and_never_outruns_the_entity(
    step_q: int, rate: int, fps: int, jitter: float, seed: int
) -> None:
    """Snapshots of a constant-speed move arrive with random delay (possibly out of order);
    frames are rendered at `server time - delay`. The drawn entity never goes back and never
    moves faster than the entity does."""
    rng = random.Random(seed)
    interval = 1.0 / rate
    delay = default_delay_s(rate)
    max_extrapolation = 0.05
    # Late enough to need extrapolation sometimes, never beyond its cap.
    max_late = jitter * (delay + max_extrapolation - interval)
    interp = make(delay_s=delay, max_extrapolation_s=max_extrapolation)
    speed = step_q * rate / Q  # world units per second
    frame_dt = 1.0 / fps
    arrivals = sorted(
        (i * interval + rng.uniform(0, max_late), i * interval, player(100 + i * step_q / Q, 0, 7))
        for i in range(3 * rate)
    )
    k = 0
    previous: float | None = None
    frame = 0
    while frame * frame_dt < 2.5:
        now = frame * frame_dt
        while k < len(arrivals) and arrivals[k][0] <= now:
            _, t, entity = arrivals[k]
            interp.push(t, {1: entity})
            k += 1
        view = interp.sample(interp.render_time(now)).get(1)
        # With a single snapshot there is no velocity yet: it holds, then catches up.
        if view is not None and len(interp) >= 2:
            if previous is not None:
                assert view.x >= previous
                assert view.x - previous <= speed * frame_dt + 1e-9
            previous = view.x
            assert view.y == 0.0
            assert steps(view.heading) == pytest.approx(7.0)
        frame += 1
    assert previous is not None and previous > 100.0


def test_bracketing_spawn_and_removal() -> None:
    interp = make()
    obstacle = (1, 1600, 1600, 480)
    interp.push(1.0, {1: player(10, 20), 2: player(50, 50), 9: obstacle})
    interp.push(1.1, {1: player(20, 40), 3: player(70, 70), 9: obstacle})
    interp.push(1.2, {1: player(40, 40), 3: player(80, 70), 9: obstacle})
    mid = interp.sample(1.05)
    assert set(mid) == {1, 3}  # 2 is gone, 3 appeared, the wall is not interpolated
    assert (mid[1].x, mid[1].y) == pytest.approx((15.0, 30.0))
    assert (mid[3].x, mid[3].y) == (70.0, 70.0)  # at its later position
    later = interp.sample(1.175)
    assert (later[1].x, later[1].y) == pytest.approx((35.0, 40.0))  # second pair
    assert (later[3].x, later[3].y) == pytest.approx((77.5, 70.0))
    exact = interp.sample(1.1)
    assert (exact[1].x, exact[1].y) == pytest.approx((20.0, 40.0))
    # Older than the buffer: hold the oldest snapshot.
    assert interp.sample(0.5)[1] == view(10.0, 20.0)


def test_extrapolation_is_capped_then_holds() -> None:
    interp = make(max_extrapolation_s=0.05)
    interp.push(0.0, {1: player(0, 0)})
    interp.push(0.1, {1: player(20, 10)})  # 200 u/s along x, 100 u/s along y
    assert interp.sample(0.1)[1].x == pytest.approx(20.0)
    ahead = interp.sample(0.12)[1]
    assert (ahead.x, ahead.y) == pytest.approx((24.0, 12.0))
    capped = interp.sample(0.15)[1]
    assert (capped.x, capped.y) == pytest.approx((30.0, 15.0))
    for t in (0.2, 1.0, 100.0):
        held = interp.sample(t)[1]
        assert (held.x, held.y) == pytest.approx((30.0, 15.0))


def test_single_snapshot_holds() -> None:
    interp = make()
    interp.push(5.0, {1: player(3, 4, 9)})
    assert interp.sample(4.0) == {1: view(3.0, 4.0, 9.0)}
    assert interp.sample(6.0) == {1: view(3.0, 4.0, 9.0)}


@pytest.mark.parametrize(
    ("a", "b", "alpha", "expected"),
    [
        (250, 5, 0.5, 255.5),  # forward through 0, not back through 128
        (250, 5, 0.2, 252.2),
        (250, 5, 0.8, 2.8),
        (5, 250, 0.2, 2.8),  # and backward through 0
        (5, 250, 0.8, 252.2),
        (10, 20, 0.5, 15.0),
    ],
)
def test_angle_takes_the_short_arc(a: int, b: int, alpha: float, expected: float) -> None:
    interp = make()
    interp.push(0.0, {1: player(0, 0, a)})
    interp.push(1.0, {1: player(0, 0, b)})
    assert steps(interp.sample(alpha)[1].heading) == pytest.approx(expected)
    assert 0.0 <= interp.sample(alpha)[1].heading < 2 * math.pi


def test_angle_sweep_250_to_5_passes_through_zero() -> None:
    interp = make()
    interp.push(0.0, {1: player(0, 0, 250)})
    interp.push(1.0, {1: player(0, 0, 5)})
    angles = [steps(interp.sample(i / 100)[1].heading) for i in range(101)]
    unwrapped = [a if a >= 128 else a + 256 for a in angles]
    assert all(b >= a for a, b in itertools.pairwise(unwrapped))
    assert unwrapped[-1] - unwrapped[0] == pytest.approx(11.0)


def test_out_of_order_and_duplicates_are_ignored() -> None:
    interp = make()
    interp.push(1.0, {1: player(0, 0)})
    interp.push(2.0, {1: player(10, 0)})
    interp.push(1.5, {1: player(500, 0)})  # late arrival
    interp.push(2.0, {1: player(600, 0)})  # duplicate time
    assert len(interp) == 2
    assert interp.sample(1.5)[1].x == pytest.approx(5.0)
    assert interp.sample(2.0)[1].x == pytest.approx(10.0)


def test_buffer_is_bounded() -> None:
    interp = make(capacity=8)
    for i in range(100):
        interp.push(i * 0.05, {1: player(i, 0)})
    assert len(interp) == 8
    assert interp.sample(0.0)[1].x == pytest.approx(92.0)  # oldest kept
    assert interp.sample(4.925)[1].x == pytest.approx(98.5)


def test_teleport_cuts_instead_of_gliding() -> None:
    interp = make(teleport_speed=1000.0)
    interp.push(0.0, {1: player(100, 100)})
    interp.push(0.05, {1: player(900, 900)})  # 16000 u/s: a respawn
    assert (interp.sample(0.04)[1].x, interp.sample(0.04)[1].y) == (100.0, 100.0)
    assert interp.sample(0.05)[1].x == 900.0
    assert interp.sample(0.09)[1].x == 900.0  # and no wild extrapolation either


def test_fields_not_marked_snap_and_marked_numbers_glide() -> None:
    interp = make()
    interp.push(0.0, {1: player(0, 0, hp=100, level=10)})
    interp.push(1.0, {1: player(0, 0, hp=40, level=20)})
    mid = interp.sample(0.5)[1]
    assert mid.hp == 100  # not interpolated: the value of the snapshot at or before
    assert mid.level == pytest.approx(15.0)  # an interpolated integer glides
    assert interp.sample(1.0)[1].hp == 40


def test_a_type_without_interpolated_fields_is_not_buffered() -> None:
    interp = make()
    interp.push(0.0, {9: (1, 1600, 1600, 480)})
    interp.push(1.0, {9: (1, 1600, 1600, 480)})
    assert interp.sample(0.5) == {}
