"""Client-side prediction with server reconciliation for the local player.

Theory of operation
-------------------
The server is authoritative but a snapshot shows the local player where it was one round
trip ago. So the client moves its own player at once: every input frame it sends also goes
through ``apply_input``, which runs exactly the code the server runs for that player in one
tick (``movement.make_mover`` followed by the obstacle push of ``ArenaRules._move``), and
is kept in a pending list. Positions stay on the 1/POSITION_SCALE grid, so a correct prediction is
bit-identical to the server's result, not merely close.

Each snapshot carries the local player's authoritative position and ``ack_seq``, the newest
input frame the server has consumed. ``reconcile`` drops the pending frames up to
``ack_seq``, restarts from the server position and replays the rest. When nothing went
wrong the replay lands exactly where the prediction already was and nothing visible happens.

What can mispredict (the server knows things the client cannot):

* player-player pushes (crowding) happen only on the server: other players' inputs are
  unknown here, so they are not simulated;
* the server consumes at most one frame per tick and, when a frame is late, repeats the
  previous one: the player moves one tick more than the client predicted (and a queue
  overflow on the server drops frames the client did predict);
* deaths, respawns and administrative teleports.

Reconciliation fixes all of these because the replay starts from the authoritative state.
The visible jump is hidden by moving the difference into a render offset that decays
exponentially (time constant ``smoothing_s``); an error beyond ``snap_distance`` (a
teleport) snaps instead, since gliding across the map would look worse than a cut.

While the server says the player is dead, the predictor follows the server position and
does not move on input (the server ignores a dead player's input), but still keeps the
unacknowledged frames: the ones consumed while dead are dropped by the next ack, and the
ones the server consumes after the respawn are replayed from the spawn point.

Pure and cheap: no clocks or I/O (the caller passes elapsed time), one mover call and a
few multiplications per obstacle per input.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Iterable, Mapping

from gameserver.games.arena import ARENA_BUTTONS, POSITION_SCALE, ArenaSettings, EntityKind
from gameserver.games.arena.movement import make_mover, push_out_of_circle

__all__ = ["Predictor"]

_SCALE = float(POSITION_SCALE)
_MOVE_BITS = 15  # UP | DOWN | LEFT | RIGHT: the server skips the move phase without them
_OBSTACLE_KIND = int(EntityKind.OBSTACLE)
_ALIVE_FLAG = 1  # bit 0 of a player's wire flags
# An error of exactly one grid step (per axis) is not a correction: squared distance in q.
_CORRECTION_Q2 = 1
# Below this a decaying offset is invisible; zeroing it keeps render_position exact again.
_OFFSET_EPSILON = 1.0 / 256.0


class Predictor:
    """Predicts the local player's position between authoritative snapshots.

    ``settings`` and ``tick_rate`` must be the server's: they define the per-tick step.
    Obstacles come from the world mirror (wire tuples ``(2, x_q, y_q, radius_q)``); any
    non-obstacle tuple passed along is ignored, so ``world.values()`` can be passed as is.
    """

    __slots__ = (
        "_alive",
        "_circles",
        "_known",
        "_last_seq",
        "_mover",
        "_ox",
        "_oy",
        "_pending",
        "_radius",
        "_x",
        "_y",
        "corrections",
        "smoothing_s",
        "snap_distance",
        "snaps",
    )

    def __init__(
        self,
        settings: ArenaSettings,
        tick_rate: int,
        *,
        obstacles: Iterable[tuple[int, ...]] = (),
        smoothing_s: float = 0.1,
        snap_distance: float = 100.0,
        max_pending: int = 256,
    ) -> None:
        if tick_rate <= 0 or max_pending <= 0:
            raise ValueError("tick_rate and max_pending must be positive")
        self._radius = settings.player_radius
        # The same constructor call as ArenaRules._derive, so the same per-tick offsets and bounds.
        self._mover = make_mover(
            1.0 / tick_rate,
            settings.player_speed,
            settings.width,
            settings.height,
            settings.player_radius,
        )
        self._circles: list[tuple[float, float, float, float]] = []
        self.set_obstacles(obstacles)
        self.smoothing_s = smoothing_s  # exponential time constant; <= 0 disables smoothing
        self.snap_distance = snap_distance  # world units; larger errors snap
        self.corrections = 0  # reconciliations that moved the prediction by > 1/16 unit
        self.snaps = 0  # corrections too large to smooth (a subset of `corrections`)
        self._pending: collections.deque[tuple[int, int]] = collections.deque(maxlen=max_pending)
        self._last_seq = 0
        self._x = 0.0
        self._y = 0.0
        self._ox = 0.0  # render offset, world units
        self._oy = 0.0
        self._known = False  # no server position yet
        self._alive = True

    # ----------------------------------------------------------------- configuration

    def set_obstacles(self, wire: Iterable[tuple[int, ...]]) -> None:
        """Replace the obstacles with those among ``wire`` (entity wire tuples)."""
        r = self._radius
        circles: list[tuple[float, float, float, float]] = []
        for t in wire:
            if len(t) >= 4 and t[0] == _OBSTACLE_KIND:
                cx, cy, cr = t[1] / _SCALE, t[2] / _SCALE, t[3] / _SCALE
                reach = r + cr
                # reach * reach exactly as push_out_of_circle computes it, so the quick
                # rejection below never disagrees with it.
                circles.append((cx, cy, cr, reach * reach))
        self._circles = circles

    def set_obstacles_from_world(self, world: Mapping[int, tuple[int, ...]]) -> None:
        """Take the obstacles from a world mirror (``GameClient.world``)."""
        # Ids ascend in creation order; sorting reproduces the server's order (which the
        # arena's spacing makes irrelevant anyway).
        self.set_obstacles(world[k] for k in sorted(world))

    def reset(self) -> None:
        """Forget everything but the configuration (e.g. after a reconnect: seqs restart)."""
        self._pending.clear()
        self._last_seq = 0
        self._ox = self._oy = 0.0
        self._known = False
        self._alive = True

    # ----------------------------------------------------------------- state

    @property
    def x(self) -> float:
        """Predicted x in world units, on the 1/POSITION_SCALE grid (0.0 until known)."""
        return self._x

    @property
    def y(self) -> float:
        return self._y

    @property
    def x_q(self) -> int:
        return round(self._x * _SCALE)

    @property
    def y_q(self) -> int:
        return round(self._y * _SCALE)

    @property
    def known(self) -> bool:
        """Whether a server position has been received (before that x, y mean nothing)."""
        return self._known

    @property
    def alive(self) -> bool:
        return self._alive

    @property
    def pending(self) -> int:
        """Input frames applied locally and not yet acknowledged by the server."""
        return len(self._pending)

    @property
    def offset(self) -> tuple[float, float]:
        """The smoothing offset still to decay, world units."""
        return self._ox, self._oy

    # ----------------------------------------------------------------- simulation

    def _step(self, x: float, y: float, buttons: int) -> tuple[float, float]:
        """One server tick for this player: ArenaRules._move, minus what only the server knows."""
        if not buttons & _MOVE_BITS:
            return x, y  # the server skips idle players entirely (no clamp, no push)
        x, y = self._mover(x, y, buttons)
        r = self._radius
        for cx, cy, cr, reach2 in self._circles:
            dx = x - cx
            dy = y - cy
            if dx * dx + dy * dy < reach2:
                x, y = push_out_of_circle(x, y, r, cx, cy, cr)
        return x, y

    def apply_input(self, seq: int, buttons: int) -> None:
        """The client just sent input frame ``seq``: predict its tick now and remember it."""
        if seq <= self._last_seq:
            raise ValueError(f"input seq {seq} is not after {self._last_seq}")
        self._last_seq = seq
        buttons &= ARENA_BUTTONS
        # A full deque drops its oldest entry: a silent server cannot grow memory, and the
        # frame lost is the one most likely to be acknowledged already.
        self._pending.append((seq, buttons))
        if self._known and self._alive:
            self._x, self._y = self._step(self._x, self._y, buttons)

    def reconcile(self, server_x_q: int, server_y_q: int, ack_seq: int, alive: bool) -> None:
        """A snapshot gave the authoritative position and the newest consumed input seq."""
        pending = self._pending
        while pending and pending[0][0] <= ack_seq:
            pending.popleft()
        x = server_x_q / _SCALE
        y = server_y_q / _SCALE
        was_tracking = self._known and self._alive
        self._known = True
        self._alive = alive
        if alive:
            step = self._step
            for _seq, buttons in pending:
                x, y = step(x, y, buttons)
        if not (was_tracking and alive):
            # First position, death, or respawn: nothing was predicted that could be wrong,
            # and a respawn is a teleport, so follow the server without smoothing.
            self._x, self._y = x, y
            self._ox = self._oy = 0.0
            return
        ex_q = round((self._x - x) * _SCALE)  # old prediction minus new, grid steps
        ey_q = round((self._y - y) * _SCALE)
        if ex_q == 0 and ey_q == 0:
            return
        if ex_q * ex_q + ey_q * ey_q > _CORRECTION_Q2:
            self.corrections += 1
        # Keep the rendered position where it was: render = prediction + offset.
        ox = self._ox + (self._x - x)
        oy = self._oy + (self._y - y)
        self._x, self._y = x, y
        limit2 = self.snap_distance * self.snap_distance
        if (ex_q * ex_q + ey_q * ey_q) / (_SCALE * _SCALE) > limit2:
            self.snaps += 1
            ox = oy = 0.0
        elif self.smoothing_s <= 0.0 or ox * ox + oy * oy > limit2:
            # Smoothing off, or small errors piled up faster than they decay: never let the
            # drawn player lag the prediction by more than a teleport would.
            ox = oy = 0.0
        self._ox, self._oy = ox, oy

    def reconcile_wire(self, entry: tuple[int, ...], ack_seq: int) -> None:
        """``reconcile`` from the local player's wire tuple (kind, x_q, y_q, angle, hp, score,
        flags), e.g. ``GameClient.me`` with ``GameClient.ack_seq``."""
        alive = bool(entry[6] & _ALIVE_FLAG) if len(entry) > 6 else True
        self.reconcile(entry[1], entry[2], ack_seq, alive)

    def render_position(self, elapsed_s: float) -> tuple[float, float]:
        """Advance the smoothing by ``elapsed_s`` and return where to draw the player."""
        ox, oy = self._ox, self._oy
        if (ox or oy) and elapsed_s > 0.0:
            k = math.exp(-elapsed_s / self.smoothing_s) if self.smoothing_s > 0.0 else 0.0
            ox *= k
            oy *= k
            if ox * ox + oy * oy < _OFFSET_EPSILON * _OFFSET_EPSILON:
                ox = oy = 0.0
            self._ox, self._oy = ox, oy
        return self._x + ox, self._y + oy
