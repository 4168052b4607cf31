"""Snapshot interpolation of the fields a game marks ``interpolate``, for any game.

Theory of operation
-------------------
Snapshots arrive at the snapshot rate with network jitter, so drawing each one as it comes
makes remote entities stutter. Instead the client draws the world as it was a little in the
past, ``delay_s`` behind its estimate of the server clock: at that render time there are
(almost always) two buffered snapshots that bracket it, and each interpolated field is
placed on the straight line between its two values. The cost is that remote entities are
shown ``delay_s`` late; about three snapshot intervals (``default_delay_s``) lets one
snapshot be lost or late without running dry.

Which fields move smoothly is the game's word, not the client's: the description marks
them (``interpolate``). Numbers (``int``, ``fixed``) go in a straight line; ``angle``
fields turn along the shorter arc, so 350 degrees -> 10 degrees passes through 0 instead of
spinning back the long way. Every other field snaps: it shows the value of the snapshot
at or before the render time. Entity types with no interpolated field (a wall) are not
buffered at all; read them from the world mirror.

When the render time overtakes the newest snapshot (a stall, or a delay too short for the
jitter) the numbers keep moving with their rate between the last two snapshots, for at
most ``max_extrapolation_s``, and then hold; angles hold at once (a player's aim is a
whim, not a trend worth guessing): a short guess hides a late packet, a long one would
visibly run through walls.

Rules per entity: present in both bracketing snapshots -> interpolated; only in the later
one -> appears at its later values (it spawned in between); only in the earlier one ->
dropped (it is gone). For a type with a position (fields marked ``position`` x and y), a
move faster than ``teleport_speed`` between two snapshots (respawn, teleport) is not
interpolated: the entity stays put until the later snapshot's time, then cuts.

The buffer keeps the wire tuples themselves (no copy, no decoding per snapshot); sampling
builds one object of the entity's described class per entity, with the interpolated
fields in their client units (world units, radians). Pure: the caller passes every time
(server time, in seconds).
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from gameserver.rules import Angle, Fixed, GameSchema, Int

__all__ = ["Interpolator", "default_delay_s"]

_TWO_PI = 2.0 * math.pi
_LINEAR, _TURN, _SNAP = 0, 1, 2

_Wire = tuple[Any, ...]


def default_delay_s(snapshot_rate: int) -> float:
    """About three snapshot intervals: survives one lost or late snapshot."""
    if snapshot_rate <= 0:
        raise ValueError("snapshot_rate must be positive")
    return 3.0 / snapshot_rate


@attrs.frozen
class _Field:
    name: str
    index: int  # in the wire tuple (kind is item 0)
    mode: int  # _LINEAR, _TURN or _SNAP
    scale: float  # linear: wire units per client unit; turn: wire steps per turn
    decode: Callable[[object], Any]


@attrs.frozen
class _Plan:
    """How to sample one entity type: its class, its fields, and where its position is."""

    cls: type
    fields: tuple[_Field, ...]
    position: tuple[int, int, float] | None  # x index, y index, wire units per world unit


def _plans(schema: GameSchema) -> dict[int, _Plan]:
    plans: dict[int, _Plan] = {}
    for entity in schema.entities:
        fields: list[_Field] = []
        for i, (name, wire_type) in enumerate(
            zip(entity.field_names, entity.wire_types, strict=True)
        ):
            mode, scale = _SNAP, 1.0
            if wire_type.interpolate and isinstance(wire_type, Angle):
                mode, scale = _TURN, float(wire_type.steps)
            elif wire_type.interpolate and isinstance(wire_type, Fixed):
                mode, scale = _LINEAR, float(wire_type.scale)
            elif wire_type.interpolate and isinstance(wire_type, Int):
                mode = _LINEAR
            fields.append(_Field(name, i + 1, mode, scale, wire_type.decoder))
        if all(f.mode == _SNAP for f in fields):
            continue  # nothing moves smoothly: not buffered
        layout = entity.position_layout
        position = None
        if layout is not None and layout.x_scale == layout.y_scale:
            position = (layout.x_index, layout.y_index, layout.x_scale)
        plans[entity.kind] = _Plan(entity.cls, tuple(fields), position)
    return plans


class Interpolator:
    """A bounded buffer of past snapshots, sampled at a render time in the past."""

    __slots__ = ("_plans", "_snaps", "delay_s", "max_extrapolation_s", "teleport_speed")

    def __init__(
        self,
        schema: GameSchema,
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
        self._plans = _plans(schema)
        self._snaps: collections.deque[tuple[float, dict[int, _Wire]]] = collections.deque(
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

    def push(self, server_time_s: float, wire: Mapping[int, _Wire]) -> None:
        """Record one snapshot's wire state; one not newer than the newest buffered is ignored."""
        snaps = self._snaps
        if snaps and server_time_s <= snaps[-1][0]:
            return
        plans = self._plans
        kept = {eid: t for eid, t in wire.items() if t and t[0] in plans}
        snaps.append((server_time_s, kept))  # a full deque drops the oldest

    def sample(self, render_time_s: float) -> dict[int, Any]:
        """Entity id -> entity at ``render_time_s`` (server time); empty before any snapshot."""
        snaps = self._snaps
        if not snaps:
            return {}
        t1, newest = snaps[-1]
        if render_time_s >= t1:
            if len(snaps) == 1 or render_time_s == t1:
                return {eid: self._hold(w) for eid, w in newest.items()}
            t0, previous = snaps[-2]
            ahead = max(min(render_time_s - t1, self.max_extrapolation_s), 0.0)
            k = ahead / (t1 - t0)  # fraction of the last interval's change to add
            return {
                eid: self._between(previous.get(eid), w, k, t1 - t0, extrapolate=True)
                for eid, w in newest.items()
            }
        t0, oldest = snaps[0]
        if render_time_s <= t0:
            return {eid: self._hold(w) for eid, w in oldest.items()}  # older than the buffer
        # Render time sits just behind the newest snapshot, so scan from the end.
        i = len(snaps) - 2
        while snaps[i][0] > render_time_s:
            i -= 1
        ta, a = snaps[i]
        tb, b = snaps[i + 1]
        alpha = (render_time_s - ta) / (tb - ta)
        return {eid: self._between(a.get(eid), w, alpha, tb - ta) for eid, w in b.items()}

    def _hold(self, wire: _Wire) -> Any:
        plan = self._plans[wire[0]]
        return plan.cls(**{f.name: _client_value(f, wire[f.index]) for f in plan.fields})

    def _too_fast(self, plan: _Plan, a: _Wire, b: _Wire, dt: float) -> bool:
        if plan.position is None:
            return False
        xi, yi, scale = plan.position
        dx = b[xi] - a[xi]
        dy = b[yi] - a[yi]
        reach = self.teleport_speed * dt * scale
        return bool(dx * dx + dy * dy > reach * reach)

    def _between(
        self, a: _Wire | None, b: _Wire, alpha: float, dt: float, *, extrapolate: bool = False
    ) -> Any:
        """``b`` seen from ``a``: interpolated (alpha in [0, 1]) or extrapolated past ``b``."""
        if a is None or a[0] != b[0]:
            return self._hold(b)  # spawned in between: no motion known
        plan = self._plans[b[0]]
        if self._too_fast(plan, a, b, dt):
            return self._hold(b if extrapolate else a)  # a teleport: cut, never glide
        values: dict[str, Any] = {}
        for f in plan.fields:
            va, vb = a[f.index], b[f.index]
            if f.mode == _LINEAR:
                if extrapolate:
                    values[f.name] = (vb + (vb - va) * alpha) / f.scale
                else:
                    values[f.name] = (va + (vb - va) * alpha) / f.scale
            elif f.mode == _TURN:
                if extrapolate:
                    values[f.name] = (vb % f.scale) * _TWO_PI / f.scale
                else:
                    steps = f.scale
                    turn = (vb - va + steps / 2) % steps - steps / 2  # the shorter arc
                    values[f.name] = ((va + turn * alpha) % steps) * _TWO_PI / steps
            else:
                values[f.name] = f.decode(vb if extrapolate else va)
        return plan.cls(**values)


def _client_value(f: _Field, raw: Any) -> Any:
    if f.mode == _LINEAR:
        return raw / f.scale
    if f.mode == _TURN:
        return (raw % f.scale) * _TWO_PI / f.scale
    return f.decode(raw)
