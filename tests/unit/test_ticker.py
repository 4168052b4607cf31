"""The ticker under trio's MockClock: virtual seconds pass in milliseconds."""

from __future__ import annotations

import itertools

import pytest
import trio
import trio.testing

from gameserver.server.rooms.ticker import Ticker, percentile

RATE = 30
DT = 1 / RATE


async def run_for(ticker: Ticker, seconds: float) -> None:
    async with trio.open_nursery() as nursery:
        await nursery.start(ticker.run)
        await trio.sleep_until(ticker.start_time + seconds)
        nursery.cancel_scope.cancel()


async def test_exact_tick_count_and_no_drift_over_ten_seconds(
    autojump_clock: trio.testing.MockClock,
) -> None:
    times: list[float] = []

    def on_tick() -> None:
        times.append(trio.current_time())
        autojump_clock.jump(DT * 0.6)  # every tick "works" for 60% of its budget

    ticker = Ticker(RATE, on_tick)
    await run_for(ticker, 10 - DT / 2)
    assert len(times) == 300
    assert ticker.stats.ticks == 300
    start = ticker.start_time
    # Absolute deadlines: tick n starts at start + n*dt however long ticks take.
    assert max(abs(t - (start + n * DT)) for n, t in enumerate(times)) < 1e-9
    assert ticker.stats.skipped_ticks == 0


async def test_overrun_is_caught_up_without_skipping(
    autojump_clock: trio.testing.MockClock,
) -> None:
    times: list[float] = []

    def on_tick() -> None:
        times.append(trio.current_time())
        if len(times) == 10:
            autojump_clock.jump(DT * 3.5)  # three ticks late: run them back to back

    ticker = Ticker(RATE, on_tick, max_ticks_behind=5)
    await run_for(ticker, 2 - DT / 2)
    assert ticker.stats.skipped_ticks == 0
    assert len(times) == 60
    burst = times[10:13]
    assert burst[0] == burst[-1]  # caught up at once, no sleeping in between
    assert max(ticker.stats.lateness_s) == pytest.approx(DT * 2.5)


async def test_long_stall_skips_ahead_and_counts(autojump_clock: trio.testing.MockClock) -> None:
    times: list[float] = []

    def on_tick() -> None:
        times.append(trio.current_time())
        if len(times) == 10:
            autojump_clock.jump(2.0)  # a two-second stall: 60 ticks behind

    ticker = Ticker(RATE, on_tick, max_ticks_behind=5)
    await run_for(ticker, 4 - DT / 2)
    assert ticker.stats.skipped_ticks == 59
    # After the skip the loop is back on the original grid, one tick per dt.
    start = ticker.start_time
    for t in times[10:]:
        n = (t - start) / DT
        assert n == pytest.approx(round(n), abs=1e-6)
    gaps = [b - a for a, b in itertools.pairwise(times[11:])]
    assert max(gaps) == pytest.approx(DT)
    assert ticker.stats.ticks + ticker.stats.skipped_ticks == 120


def test_percentile_nearest_rank() -> None:
    assert percentile([], 99) == 0.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile(list(range(1, 101)), 99) == 99
