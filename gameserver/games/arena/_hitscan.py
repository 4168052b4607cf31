"""Hitscan shots and lag compensation: where targets were when the shooter saw them.

Theory of operation: a client renders other players about one interpolation delay in
the past, and its input reaches the server half a round trip later. A hitscan shot
(instant, along the aim) is therefore judged against the targets' positions at the
moment the shooter saw, carried in the input as a fractional tick (``view_tick``).
The arena keeps each alive player's end-of-tick position for the last few ticks
(``PositionHistory``) and interpolates between the two ticks around ``view_tick``.
Rewinding is capped (``max_rewind_s``): a shot from further back is judged at the cap,
so a player with a very high ping cannot hit someone who has long since found cover.
The trade-off of rewinding at all: the target may be hit "behind cover" from its own
point of view, because on the shooter's screen it had not yet reached it.
"""

from __future__ import annotations

import collections
import math

Positions = dict[int, tuple[float, float]]


class PositionHistory:
    """End-of-tick positions of alive players, for the last ``keep_ticks`` ticks."""

    def __init__(self, keep_ticks: int) -> None:
        # Saved states name this attribute (Rules.save keeps the history): kept as is.
        self._frames: collections.deque[tuple[int, Positions]] = collections.deque(
            maxlen=max(2, keep_ticks)
        )

    def record(self, tick: int, positions: Positions) -> None:
        self._frames.append((tick, positions))

    def at(self, view_tick: float) -> Positions:
        """Positions at ``view_tick``, interpolated; the oldest or newest tick's beyond them."""
        ticks = self._frames
        if not ticks:
            return {}
        if view_tick <= ticks[0][0]:
            return dict(ticks[0][1])
        if view_tick >= ticks[-1][0]:
            return dict(ticks[-1][1])
        for (tick_a, a), (tick_b, b) in zip(ticks, list(ticks)[1:], strict=False):
            if tick_a <= view_tick <= tick_b:
                f = (view_tick - tick_a) / (tick_b - tick_a)
                out: Positions = {}
                for eid, (xb, yb) in b.items():
                    pa = a.get(eid)
                    if pa is None:
                        out[eid] = (xb, yb)
                    else:
                        out[eid] = (pa[0] + (xb - pa[0]) * f, pa[1] + (yb - pa[1]) * f)
                return out
        return dict(ticks[-1][1])


def first_hit(
    x: float,
    y: float,
    angle: float,
    reach: float,
    targets: Positions,
    radius: float,
    shooter: int,
) -> tuple[int, float] | None:
    """The nearest target (id, distance along the ray) whose circle the ray crosses."""
    dx, dy = math.cos(angle), math.sin(angle)
    best: tuple[int, float] | None = None
    for eid in sorted(targets):
        if eid == shooter:
            continue
        tx, ty = targets[eid]
        fx, fy = tx - x, ty - y
        along = fx * dx + fy * dy  # distance to the point of closest approach
        if along < 0:
            continue
        miss_sq = fx * fx + fy * fy - along * along
        if miss_sq > radius * radius:
            continue
        distance = max(0.0, along - math.sqrt(radius * radius - miss_sq))
        if distance <= reach and (best is None or distance < best[1]):
            best = (eid, distance)
    return best
