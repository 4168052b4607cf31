"""Fixed-rate tick scheduling on absolute deadlines.

Theory of operation: tick ``n`` is due at ``start + n * dt`` on
``trio.current_time()``. Sleeping until an absolute deadline (rather than
``sleep(dt)`` after each tick) means that the time a tick takes, and the
scheduler's wake-up latency, never accumulate into drift. A tick that
overruns is followed at once by the next, which catches up; when the loop is
more than ``max_ticks_behind`` ticks late (a long GC pause, a stalled
machine) catching up would run a burst of ticks in a row, so it skips ahead to
the current deadline and counts the skipped ticks instead.

Durations are measured with ``time.perf_counter`` (real CPU-ish time, useful
even under trio's MockClock); lateness with the trio clock.
"""

from __future__ import annotations

import bisect
import collections
import math
import time
from collections.abc import Callable

import attrs
import trio

SAMPLE_WINDOW = 4096  # recent ticks kept for percentiles (over two minutes at 30 Hz)
# Upper bounds of the cumulative tick-time histograms exported to Prometheus, in seconds.
HISTOGRAM_BOUNDS_S = (0.0005, 0.001, 0.002, 0.004, 0.008, 0.0167, 0.0333, 0.0667, 0.125, 0.25)


def percentile(samples: collections.abc.Sequence[float], q: float) -> float:
    """Nearest-rank percentile of ``samples`` (0 when empty)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@attrs.define
class Histogram:
    """Cumulative counts since start, bucketed by ``HISTOGRAM_BOUNDS_S`` (last bucket: +Inf)."""

    counts: list[int] = attrs.field(factory=lambda: [0] * (len(HISTOGRAM_BOUNDS_S) + 1))
    sum_s: float = 0.0

    def observe(self, value_s: float) -> None:
        self.counts[bisect.bisect_left(HISTOGRAM_BOUNDS_S, value_s)] += 1
        self.sum_s += value_s

    def cumulative(self) -> list[tuple[str, int]]:
        """(upper bound, count of samples at or below it) pairs, ending with "+Inf"."""
        total = 0
        pairs = []
        for bound, count in zip((*map(str, HISTOGRAM_BOUNDS_S), "+Inf"), self.counts, strict=True):
            total += count
            pairs.append((bound, total))
        return pairs


@attrs.define
class TickStats:
    ticks: int = 0  # ticks run
    skipped_ticks: int = 0  # ticks dropped by skip-ahead
    durations_s: collections.deque[float] = attrs.field(
        factory=lambda: collections.deque(maxlen=SAMPLE_WINDOW)
    )
    lateness_s: collections.deque[float] = attrs.field(
        factory=lambda: collections.deque(maxlen=SAMPLE_WINDOW)
    )
    duration_histogram: Histogram = attrs.field(factory=Histogram)
    lateness_histogram: Histogram = attrs.field(factory=Histogram)

    def summary(self, last: int | None = None) -> dict[str, float]:
        """Counts, and percentiles over the ``last`` ticks (default: every kept sample)."""
        durations = list(self.durations_s)[-last:] if last else self.durations_s
        lateness = list(self.lateness_s)[-last:] if last else self.lateness_s
        return {
            "ticks": self.ticks,
            "skipped_ticks": self.skipped_ticks,
            "window_ticks": len(durations),
            "duration_ms_p50": percentile(durations, 50) * 1000,
            "duration_ms_p99": percentile(durations, 99) * 1000,
            "duration_ms_max": max(durations, default=0.0) * 1000,
            "lateness_ms_p50": percentile(lateness, 50) * 1000,
            "lateness_ms_p99": percentile(lateness, 99) * 1000,
        }


class Ticker:
    """Calls ``on_tick()`` (synchronous: a tick never awaits) ``tick_rate`` times a second."""

    def __init__(
        self, tick_rate: int, on_tick: Callable[[], None], *, max_ticks_behind: int = 5
    ) -> None:
        self.interval_s = 1.0 / tick_rate
        self.max_ticks_behind = max_ticks_behind
        self.on_tick = on_tick
        self.stats = TickStats()
        self.start_time = 0.0

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self.start_time = trio.current_time()
        n = 0  # index of the next tick to run
        task_status.started()
        while True:
            deadline = self.start_time + n * self.interval_s
            now = trio.current_time()
            if now < deadline:
                await trio.sleep_until(deadline)
            else:
                behind = int((now - deadline) / self.interval_s)
                if behind > self.max_ticks_behind:
                    n += behind
                    self.stats.skipped_ticks += behind
                    deadline = self.start_time + n * self.interval_s
                # Let other tasks (readers, writers) run even when we are behind.
                await trio.lowlevel.checkpoint()
            stats = self.stats
            lateness = max(0.0, trio.current_time() - deadline)
            stats.lateness_s.append(lateness)
            stats.lateness_histogram.observe(lateness)
            started = time.perf_counter()
            self.on_tick()
            duration = time.perf_counter() - started
            stats.durations_s.append(duration)
            stats.duration_histogram.observe(duration)
            stats.ticks += 1
            n += 1
