"""Clock estimation: exact for symmetric samples, robust to outliers, snapshot fallback."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gameserver.clients._clock import ClockEstimator

# Dyadic values (k / 1024) keep the arithmetic exact, so results can be compared with ==.
dyadic = st.integers(min_value=-(2**20), max_value=2**20).map(lambda k: k / 1024)
positive_dyadic = st.integers(min_value=0, max_value=2**12).map(lambda k: k / 1024)


def symmetric_pong(
    clock: ClockEstimator, sent: float, one_way: float, offset: float
) -> tuple[float, float, float]:
    """A ping sent at local `sent`, answered after exactly `one_way` each way."""
    server_time = sent + one_way + offset
    received = sent + 2 * one_way
    clock.on_pong(sent, received, server_time)
    return sent, received, server_time


def test_nothing_known_before_the_first_sample() -> None:
    clock = ClockEstimator()
    assert clock.rtt_s is None
    assert clock.offset_s is None
    assert clock.samples == 0
    assert clock.server_now(12.5) == 12.5


@given(dyadic, positive_dyadic, dyadic)
def test_symmetric_sample_is_exact(sent: float, one_way: float, offset: float) -> None:
    clock = ClockEstimator()
    symmetric_pong(clock, sent, one_way, offset)
    assert clock.rtt_s == 2 * one_way
    assert clock.offset_s == offset
    assert clock.server_now(sent + 3.0) == sent + 3.0 + offset


@given(st.lists(st.tuples(dyadic, positive_dyadic), min_size=1, max_size=40), dyadic)
def test_symmetric_samples_of_varying_delay_keep_the_offset_exact(
    samples: list[tuple[float, float]], offset: float
) -> None:
    clock = ClockEstimator(window=16)
    for sent, one_way in samples:
        symmetric_pong(clock, sent, one_way, offset)
    assert clock.offset_s == offset
    assert clock.samples == min(16, len(samples))


def test_median_ignores_an_outlier() -> None:
    clock = ClockEstimator(window=16)
    for i in range(15):
        symmetric_pong(clock, float(i), 0.03125, 100.0)
    # A GC pause on the way back: 2 s of extra delay on one sample.
    clock.on_pong(20.0, 20.0 + 0.0625 + 2.0, 20.0 + 0.03125 + 100.0)
    assert clock.rtt_s == 0.0625
    assert clock.offset_s == 100.0


def test_medians_of_a_window() -> None:
    clock = ClockEstimator(window=3)
    for one_way in (0.5, 0.25, 0.125):
        symmetric_pong(clock, 0.0, one_way, 1.0)
    assert clock.rtt_s == 0.5  # median of 1.0, 0.5, 0.25
    for _ in range(3):  # the window forgets the old ones
        symmetric_pong(clock, 0.0, 2.0, 7.0)
    assert clock.rtt_s == 4.0
    assert clock.offset_s == 7.0


def test_even_window_median_is_the_mean_of_the_middle_two() -> None:
    clock = ClockEstimator(window=2)
    symmetric_pong(clock, 0.0, 0.25, 1.0)
    symmetric_pong(clock, 0.0, 0.5, 2.0)
    assert clock.rtt_s == 0.75
    assert clock.offset_s == 1.5


def test_negative_round_trip_is_not_a_sample() -> None:
    clock = ClockEstimator()
    clock.on_pong(10.0, 9.0, 50.0)
    assert clock.samples == 0
    assert clock.offset_s is None


def test_snapshots_bound_the_offset_until_a_pong_arrives() -> None:
    clock = ClockEstimator(window=4)
    offset = 50.0
    # Stamped at server time s, received after 0.125, 0.0625, 0.25 s.
    for server_time, delay in ((1.0, 0.125), (1.5, 0.0625), (2.0, 0.25)):
        clock.on_snapshot(server_time - offset + delay, server_time)
    assert clock.rtt_s is None
    assert clock.offset_s == offset - 0.0625  # the fastest delivery, an underestimate
    assert clock.server_now(0.0) == offset - 0.0625
    symmetric_pong(clock, 3.0, 0.5, offset)
    assert clock.offset_s == offset  # a measured offset wins
    clock.on_snapshot(0.0, 1000.0)
    assert clock.offset_s == offset
