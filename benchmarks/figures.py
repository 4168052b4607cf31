"""The figures a benchmark reports, computed from raw samples (pure functions)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def per_item_tick_us(cpu_s: float, items: int, ticks: float) -> float:
    """CPU microseconds per item (player, connection) per tick."""
    if items <= 0 or ticks <= 0:
        return 0.0
    return cpu_s * 1e6 / (items * ticks)


def cpu_per_snapshot_us(run: Mapping[str, Any]) -> float | None:
    """Server CPU per snapshot handed to the kernel, from a run's recorded figures.

    The honest cost figure once the server saturates: CPU per player-tick is
    then capped by the core while conflation drops snapshots.
    """
    try:
        connections = run["players"] + run["spectators"]
        snapshots = run["snapshots_per_conn_s"] * connections * run["window_s"]
        return run["server_cpu_s"] * 1e6 / snapshots if snapshots else None
    except (KeyError, TypeError):
        return None


def per_item_second(amount: float, items: int, seconds: float) -> float:
    if items <= 0 or seconds <= 0:
        return 0.0
    return amount / items / seconds


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of ``(x, y)`` points (two points: the plain difference quotient)."""
    if len(points) < 2:
        raise ValueError("a slope needs at least two points")
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        raise ValueError("a slope needs two different x values")
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def ws_header_bytes(payload: float) -> int:
    """Header size of an unmasked WebSocket frame carrying ``payload`` bytes."""
    return 2 if payload < 126 else 4 if payload < 65536 else 10


def estimated_wire_bytes(payload_bytes: int, messages: int, *, masked: bool) -> int:
    """Payload plus frame headers, when the server does not count wire bytes itself.

    Uses the mean message size for the header length, exact when sizes are alike.
    """
    if messages <= 0:
        return payload_bytes
    header = ws_header_bytes(payload_bytes / messages) + (4 if masked else 0)
    return payload_bytes + header * messages


def median_figures(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per key, the median over runs of every numeric figure (others: the first run's value)."""
    if not runs:
        return {}
    merged: dict[str, Any] = {}
    for key, first in runs[0].items():
        values = [run.get(key) for run in runs]
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(numbers) == len(values) and numbers:
            merged[key] = round(statistics.median(numbers), 3)
        else:
            merged[key] = first
    return merged


def paired_median(
    left: Iterable[float], right: Iterable[float], combine: Any = lambda a, b: a / b
) -> float | None:
    """Median of ``combine(l, r)`` over pairs measured side by side (same repeat)."""
    values = [combine(a, b) for a, b in zip(left, right, strict=False) if b]
    return round(statistics.median(values), 3) if values else None
