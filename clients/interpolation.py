"""Snapshot interpolation for remote entities (other players, projectiles).

Theory of operation
-------------------
Snapshots arrive at the snapshot rate with network jitter, so drawing each one as it comes
makes remote entities stutter. Instead the client draws the world as it was a little in the
past, ``delay_s`` behind its estimate of the server clock: at that render time there are
(almost always) two buffered snapshots that bracket it, and each entity is placed on the
straight line between its two positions. The cost is that remote entities are shown
``delay_s`` late; about three snapshot intervals (``default_delay_s``) lets one snapshot be
lost or late without running dry.

When the render time overtakes the newest snapshot (a stall, or a delay too short for the
jitter) the entities keep moving with the velocity between the last two snapshots, for at
most ``max_extrapolation_s``, and then hold: a short guess hides a late packet, a long one
would visibly run through walls.

Rules per entity: present in both bracketing snapshots -> interpolated; only in the later
one -> appears at its later position (it spawned in between); only in the earlier one ->
dropped (it is gone). A move faster than ``teleport_speed`` between two snapshots (respawn,
teleport) is not interpolated: the entity stays put until the later snapshot's time, then
cuts. Angles are wire steps (0..255 over a full turn) and turn along the shorter arc, so
250 -> 5 passes through 0 instead of spinning back the long way.

Obstacles are static and drawn from the world mirror, so they are not buffered here.
Pure: times are floats passed in by the caller (server time, in seconds).
"""

from __future__ import annotations

import collections
import math
from collections.abc import Mapping

import attrs

from gameserver.games.arena import ANGLE_WIRE_STEPS, POSITION_SCALE, EntityKind

__all__ = ["EntityView", "Interpolator", "default_delay_s"]

_SCALE = float(POSITION_SCALE)
_INV_SCALE = 1.0 / _SCALE
_TURN = ANGLE_WIRE_STEPS
_HALF_TURN = ANGLE_WIRE_STEPS // 2
_OBSTACLE_KIND = int(EntityKind.OBSTACLE)

_Pose = tuple[int, int, int]  # x_q, y_q, angle (wire steps)


def default_delay_s(snapshot_rate: int) -> float:
    """About three snapshot intervals: survives one lost or late snapshot."""
    if snapshot_rate <= 0:
        raise ValueError("snapshot_rate must be positive")
    return 3.0 / snapshot_rate


@attrs.frozen
class EntityView:
    """Where to draw one entity: world units, angle in wire steps [0, 256)."""

    x: float
    y: float
    angle: float

    @property
    def angle_rad(self) -> float:
        return self.angle * (2.0 * math.pi / _TURN)


def _shortest_turn(a: int, b: int) -> int:
    """Signed steps from a to b along the shorter arc, in [-128, 128)."""
    return (b - a + _HALF_TURN) % _TURN - _HALF_TURN


class Interpolator:
    """A bounded buffer of past snapshots, sampled at a render time in the past."""

    __slots__ = ("_snaps", "delay_s", "max_extrapolation_s", "teleport_speed")

    def __init__(
        self,
        delay_s: float = 0.1,
        max_extrapolation_s: float = 0.05,
        capacity: int = 32,
        *,
        teleport_speed: float = 1000.0,
    ) -> None:
        if capacity < 2:
            raise ValueError("capacity must be at least 2 (interpolation needs a pair)")
        self.delay_s = delay_s  # how far behind the server clock to render (render_time)
        self.max_extrapolation_s = max_extrapolation_s
        self.teleport_speed = teleport_speed  # world units / s; faster moves cut, not glide
        self._snaps: collections.deque[tuple[float, dict[int, _Pose]]] = collections.deque(
            maxlen=capacity
        )

    def __len__(self) -> int:
        return len(self._snaps)

    @property
    def newest_time_s(self) -> float | None:
        return self._snaps[-1][0] if self._snaps else None

    def render_time(self, server_now_s: float) -> float:
        """The time to sample for a frame drawn at (estimated) server time ``server_now_s``."""
        return server_now_s - self.delay_s

    def clear(self) -> None:
        self._snaps.clear()

    def push(self, server_time_s: float, world: Mapping[int, tuple[int, ...]]) -> None:
        """Record one snapshot; one not newer than the newest buffered is ignored."""
        snaps = self._snaps
        if snaps and server_time_s <= snaps[-1][0]:
            return
        poses: dict[int, _Pose] = {}
        for eid, t in world.items():
            if t[0] == _OBSTACLE_KIND or len(t) < 3:
                continue
            poses[eid] = (t[1], t[2], t[3] % _TURN if len(t) > 3 else 0)
        snaps.append((server_time_s, poses))  # a full deque drops the oldest

    def sample(self, render_time_s: float) -> dict[int, EntityView]:
        """Entity id -> pose at ``render_time_s`` (server time); empty before any snapshot."""
        snaps = self._snaps
        if not snaps:
            return {}
        t1, newest = snaps[-1]
        if render_time_s >= t1:
            if len(snaps) == 1 or render_time_s == t1:
                return _hold(newest)
            t0, previous = snaps[-2]
            ahead = min(render_time_s - t1, self.max_extrapolation_s)
            return self._extrapolate(previous, newest, t1 - t0, max(ahead, 0.0))
        t0, oldest = snaps[0]
        if render_time_s <= t0:
            return _hold(oldest)  # older than the buffer: the best we have
        # Render time sits just behind the newest snapshot, so scan from the end.
        i = len(snaps) - 2
        while snaps[i][0] > render_time_s:
            i -= 1
        ta, a = snaps[i]
        tb, b = snaps[i + 1]
        return self._interpolate(a, b, (render_time_s - ta) / (tb - ta), tb - ta)

    def _too_fast(self, dx_q: int, dy_q: int, dt: float) -> bool:
        reach_q = self.teleport_speed * dt * _SCALE
        return dx_q * dx_q + dy_q * dy_q > reach_q * reach_q

    def _interpolate(
        self, a: dict[int, _Pose], b: dict[int, _Pose], alpha: float, dt: float
    ) -> dict[int, EntityView]:
        out: dict[int, EntityView] = {}
        s = _INV_SCALE
        for eid, (bx, by, bang) in b.items():
            pa = a.get(eid)
            if pa is None:
                out[eid] = EntityView(bx * s, by * s, float(bang))  # spawned in between
                continue
            ax, ay, aang = pa
            dx = bx - ax
            dy = by - ay
            if self._too_fast(dx, dy, dt):
                out[eid] = EntityView(ax * s, ay * s, float(aang))  # teleport: cut at b
                continue
            angle = (aang + _shortest_turn(aang, bang) * alpha) % _TURN
            out[eid] = EntityView((ax + dx * alpha) * s, (ay + dy * alpha) * s, angle)
        return out

    def _extrapolate(
        self, a: dict[int, _Pose], b: dict[int, _Pose], dt: float, ahead: float
    ) -> dict[int, EntityView]:
        out: dict[int, EntityView] = {}
        s = _INV_SCALE
        k = ahead / dt  # fraction of the last interval's displacement to add
        for eid, (bx, by, bang) in b.items():
            pa = a.get(eid)
            if pa is None:
                out[eid] = EntityView(bx * s, by * s, float(bang))  # no velocity known
                continue
            dx = bx - pa[0]
            dy = by - pa[1]
            if self._too_fast(dx, dy, dt):
                dx = dy = 0
            # The angle holds: aim is a player's whim, not a trend worth guessing.
            out[eid] = EntityView((bx + dx * k) * s, (by + dy * k) * s, float(bang))
        return out


def _hold(poses: dict[int, _Pose]) -> dict[int, EntityView]:
    s = _INV_SCALE
    return {eid: EntityView(x * s, y * s, float(ang)) for eid, (x, y, ang) in poses.items()}
