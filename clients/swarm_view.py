"""Live progress of a swarm: a rich table on a terminal, a plain line every few seconds otherwise.

Progress goes to stderr so that ``--json`` output on stdout stays machine-readable.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

import trio
from rich.console import Console
from rich.live import Live
from rich.table import Table

from .swarm_stats import SwarmTotals, percentile

TTY_REFRESH_S = 0.25
PLAIN_REFRESH_S = 2.0


def _p50_p99_ms(samples: list[float]) -> str:
    return f"{percentile(samples, 50) * 1000:.1f} / {percentile(samples, 99) * 1000:.1f} ms"


class ProgressView:
    def __init__(self, title: str, stream: TextIO | None = None) -> None:
        self.title = title
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self._previous: tuple[float, SwarmTotals] | None = None

    def _rates(self, now: float, totals: SwarmTotals) -> tuple[float, float, float]:
        previous, self._previous = self._previous, (now, totals)
        if previous is None or now <= previous[0]:
            return 0.0, 0.0, 0.0
        dt = now - previous[0]
        before = previous[1]
        return (
            (totals.snapshots_received - before.snapshots_received) / dt,
            (totals.bytes_received - before.bytes_received) / dt,
            (totals.bytes_sent - before.bytes_sent) / dt,
        )

    def _table(
        self, elapsed: float, totals: SwarmTotals, rates: tuple[float, float, float]
    ) -> Table:
        table = Table(title=f"{self.title}  {elapsed:5.1f}s", show_header=False, min_width=50)
        table.add_column("what", style="bold")
        table.add_column("value", justify="right")
        table.add_row("bots connected", f"{totals.active} / {totals.bots + totals.spectators}")
        table.add_row("failed / dropped", f"{totals.failed} / {totals.dropped}")
        table.add_row("snapshots per second", f"{rates[0]:,.0f}")
        table.add_row("bytes in / out per second", f"{rates[1]:,.0f} / {rates[2]:,.0f}")
        table.add_row("RTT p50 / p99", _p50_p99_ms(totals.rtt_s))
        table.add_row("snapshot gap p50 / p99", _p50_p99_ms(totals.gaps_s))
        table.add_row("server tick", str(totals.server_tick))
        table.add_row("errors", ", ".join(f"{k}={v}" for k, v in totals.errors.items()) or "none")
        return table

    def _line(self, elapsed: float, totals: SwarmTotals, rates: tuple[float, float, float]) -> str:
        return (
            f"[{elapsed:6.1f}s] connected {totals.active}/{totals.bots + totals.spectators}"
            f" failed {totals.failed} dropped {totals.dropped}"
            f" snapshots/s {rates[0]:.0f}"
            f" in {rates[1] / 1000:.1f} kB/s out {rates[2] / 1000:.1f} kB/s"
            f" rtt p99 {percentile(totals.rtt_s, 99) * 1000:.1f} ms tick {totals.server_tick}"
        )

    async def run(self, get_totals: Callable[[], SwarmTotals]) -> None:
        """Refresh until cancelled."""
        started = trio.current_time()
        if not self.interactive:
            while True:
                await trio.sleep(PLAIN_REFRESH_S)
                now = trio.current_time()
                totals = get_totals()
                print(self._line(now - started, totals, self._rates(now, totals)), file=self.stream)
        console = Console(file=self.stream)
        with Live(console=console, auto_refresh=False, transient=False) as live:
            while True:
                now = trio.current_time()
                totals = get_totals()
                live.update(
                    self._table(now - started, totals, self._rates(now, totals)), refresh=True
                )
                await trio.sleep(TTY_REFRESH_S)
