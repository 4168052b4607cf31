"""Pure player movement, shared verbatim by the rules and client-side prediction.

Everything works on the 1/POSITION_SCALE grid so that the position the rules hold is
exactly the position on the wire; a client calling these functions with the same inputs
reproduces the server bit for bit.

``predictor`` is the arena's prediction function (``ArenaRules.prediction``): from the
Welcome's parameters and tick rate it makes the one-tick step of the local player that
the rules run (movement, then the obstacle push) on the entities a client decodes, minus
what only the server knows (other players' pushes, deaths, respawns).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._schema import POSITION_SCALE

_SCALE = float(POSITION_SCALE)
_DIAGONAL = math.sqrt(0.5)


def snap(v: float) -> float:
    """Nearest point of the 1/POSITION_SCALE grid."""
    return round(v * _SCALE) / _SCALE


def bounds_q(size: float, radius: float) -> tuple[int, int]:
    """Quantized [lo, hi] for a circle centre inside [0, size]; grid points only, never outside."""
    lo = math.ceil(radius * _SCALE)
    hi = math.floor((size - radius) * _SCALE)
    if hi < lo:  # world narrower than the circle: there is no valid spot, use the middle
        lo = hi = (lo + hi) // 2
    return lo, hi


def clamp_snap(
    x: float, y: float, width: float, height: float, radius: float
) -> tuple[float, float]:
    """Snap to the grid and keep the circle inside the world (bounds rounded inward)."""
    xlo, xhi = bounds_q(width, radius)
    ylo, yhi = bounds_q(height, radius)
    xq = min(max(round(x * _SCALE), xlo), xhi)
    yq = min(max(round(y * _SCALE), ylo), yhi)
    return xq / _SCALE, yq / _SCALE


Mover = Callable[[float, float, int], tuple[float, float]]


def make_mover(dt: float, speed: float, width: float, height: float, radius: float) -> Mover:
    """Precompute the per-tick step and bounds once; the result maps (x, y, buttons) -> (x, y).

    The per-axis step is truncated toward zero in grid units, so (for a start on the grid,
    which is always the case on the server) the distance moved never exceeds speed * dt,
    diagonals included. The price is moving up to 1/16 unit per tick slower than nominal.
    """
    axis = int(speed * dt * _SCALE)
    diag = int(speed * dt * _SCALE * _DIAGONAL)
    offsets: list[tuple[int, int]] = []
    for buttons in range(16):
        dx = ((buttons >> 3) & 1) - ((buttons >> 2) & 1)  # RIGHT - LEFT
        dy = ((buttons >> 1) & 1) - (buttons & 1)  # DOWN - UP
        d = diag if dx and dy else axis
        offsets.append((dx * d, dy * d))
    xlo, xhi = bounds_q(width, radius)
    ylo, yhi = bounds_q(height, radius)

    def mover(x: float, y: float, buttons: int) -> tuple[float, float]:
        ox, oy = offsets[buttons & 15]
        xq = round(x * _SCALE) + ox
        yq = round(y * _SCALE) + oy
        xq = xlo if xq < xlo else (xhi if xq > xhi else xq)
        yq = ylo if yq < ylo else (yhi if yq > yhi else yq)
        return xq / _SCALE, yq / _SCALE

    return mover


def move(
    x: float,
    y: float,
    buttons: int,
    dt: float,
    speed: float,
    width: float,
    height: float,
    radius: float,
) -> tuple[float, float]:
    """One tick of movement from the UP/DOWN/LEFT/RIGHT bits (opposite bits cancel).

    The result is on the 1/POSITION_SCALE grid and keeps the circle inside the world.
    Same code path as make_mover(), which the server uses to avoid recomputing constants.
    """
    return make_mover(dt, speed, width, height, radius)(x, y, buttons)


def push_out_of_circle(
    x: float, y: float, radius: float, cx: float, cy: float, cr: float
) -> tuple[float, float]:
    """Move a circle of `radius` at (x, y) out of the circle (cx, cy, cr) if they overlap.

    The result is snapped to the grid *away* from the obstacle's centre on each axis, so
    snapping can only increase the distance: the player never ends inside the obstacle.
    Unchanged (not even snapped) when there is no overlap.
    """
    ddx = x - cx
    ddy = y - cy
    reach = radius + cr
    d2 = ddx * ddx + ddy * ddy
    if d2 >= reach * reach:
        return x, y
    if d2 == 0.0:
        nx, ny = 1.0, 0.0  # dead centre: any direction works, +x keeps it deterministic
    else:
        dist = math.sqrt(d2)
        nx, ny = ddx / dist, ddy / dist
    px = (cx + nx * reach) * _SCALE
    py = (cy + ny * reach) * _SCALE
    qx = math.ceil(px) if nx > 0.0 else (math.floor(px) if nx < 0.0 else round(px))
    qy = math.ceil(py) if ny > 0.0 else (math.floor(py) if ny < 0.0 else round(py))
    return qx / _SCALE, qy / _SCALE


def resolve_obstacles(
    x: float, y: float, radius: float, obstacles: Iterable[tuple[float, float, float]]
) -> tuple[float, float]:
    """Push a player out of every overlapping obstacle (x, y, radius), in the given order.

    The arena keeps obstacles at least a player diameter apart and away from the borders,
    so at most one obstacle can overlap and the order (and a superset of candidates)
    does not change the result.
    """
    for cx, cy, cr in obstacles:
        x, y = push_out_of_circle(x, y, radius, cx, cy, cr)
    return x, y


MOVE_BITS = 15  # UP | DOWN | LEFT | RIGHT: without one of them a player is not moved at all
_ALIVE = 1  # PlayerFlags.ALIVE

PredictStep = Callable[[Any, Any, Any], Any]


def predictor(params: Mapping[str, float], tick_rate: int) -> PredictStep:
    """The local player's step, ``(me, controls, world) -> me``, for client prediction.

    ``params`` are the rules' ``client_params()`` (the Welcome's ``params``), ``tick_rate``
    the room's. ``me`` is the player's entity and ``world`` what the client sees, as a
    client decodes them (objects with the described fields: ``x``, ``y``, ``flags``),
    with ``world.of_type("Obstacle")`` the obstacles by id; ``controls`` is the input
    (its ``buttons``). Exactly the rules' move phase for one alive player: idle
    buttons leave the player untouched (not even clamped), otherwise the mover, then the
    obstacle push. A dead player does not obey input: the step returns None.
    """
    if tick_rate <= 0:
        raise ValueError(f"tick_rate must be positive, got {tick_rate!r}")
    radius = float(params["player_radius"])
    mover = make_mover(
        1.0 / tick_rate,
        float(params["player_speed"]),
        float(params["width"]),
        float(params["height"]),
        radius,
    )

    def step(me: Any, controls: Any, world: Any) -> Any:
        if not int(me.flags) & _ALIVE:
            return None
        buttons = int(controls.buttons)
        if not buttons & MOVE_BITS:
            return me
        x, y = mover(me.x, me.y, buttons)
        for o in world.of_type("Obstacle").values():
            x, y = push_out_of_circle(x, y, radius, o.x, o.y, o.radius)
        # The Player's described fields, in full: a third faster than attrs.evolve.
        return type(me)(x=x, y=y, aim=me.aim, hp=me.hp, score=me.score, flags=me.flags)

    return step
