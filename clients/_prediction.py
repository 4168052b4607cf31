"""Client-side prediction with server reconciliation, through the game's own step function.

Theory of operation
-------------------
The server is authoritative but a snapshot shows the local player's entity where it was
one round trip ago. So the client moves it at once: a game may offer a pure prediction
function (``Rules.prediction``, named in the Welcome's description), which, made from the
Welcome's ``params`` and tick rate, gives ``step(me, input, world) -> me``: the entity one
tick later, exactly as the rules would move it given that input, from what the client
sees (``world``: the client's ``World``, decoded entities by id, with ``of_type(name)``
for the entities of one type). ``step`` returns None when the entity does not obey input
now (the arena's dead player): the prediction then follows the server.

Every input the client sends also goes through ``apply_input``, which steps the
predicted entity and keeps the Input in a pending list. Each snapshot carries the
entity's authoritative state and ``ack_seq``, the newest Input the server has consumed.
``reconcile`` drops the pending Inputs up to ``ack_seq``, restarts from the server's
entity and replays the rest. When nothing went wrong the replay lands exactly where the
prediction already was (the rules' own code, on the wire's grid) and nothing visible
happens. What can mispredict is what only the server knows: other players' inputs, an
Input the server repeated or dropped, deaths and teleports; the replay from the
authoritative state fixes all of them.

For an entity type with a position (fields marked ``position`` x and y), an error of
more than one grid step counts as a correction, and the visible jump is hidden by moving
the difference into a render offset that decays exponentially (``smoothing_s``); an
error beyond ``snap_distance`` (a teleport) snaps instead, since gliding across the map
would look worse than a cut. The first state, and any change between obeying input and
not (a death, a respawn), follows the server without smoothing or counting.

Pure and cheap: no clocks or I/O (the caller passes elapsed time); one step call per
input and per replayed Input.
"""

from __future__ import annotations

import collections
import functools
import importlib
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

from gameserver.rules import wire_fields
from gameserver.rules.loading import GameLoadError, available_games, load_rules

from ._world import World

__all__ = ["PredictStep", "Prediction", "Predictor", "position_of", "trusted_prediction"]

log = logging.getLogger(__name__)

# step(me, input, world) -> me one tick later, or None: the entity does not obey input now.
PredictStep = Callable[[Any, Any, World], Any]
# What ``Rules.prediction`` names: (Welcome params, tick rate) -> step.
Prediction = Callable[[Mapping[str, float], int], PredictStep]

# An error of exactly one grid step (per axis) is not a correction: squared grid steps.
_CORRECTION_Q2 = 1
# Below this a decaying offset is invisible; zeroing it keeps render_position exact again.
_OFFSET_EPSILON = 1.0 / 256.0

_Position = tuple[str, str, float, float] | None  # x field, y field, their scales
_positions: dict[type, _Position] = {}


def position_of(cls: type) -> _Position:
    """Where a described class keeps its position: its x and y field names and their
    scales (None: no position); cached per class."""
    try:
        return _positions[cls]
    except KeyError:
        pass
    found: dict[str, tuple[str, float]] = {}
    for name, wire_type in wire_fields(cls):
        if wire_type.position in ("x", "y"):
            found[wire_type.position] = (name, float(getattr(wire_type, "scale", 1)))
    layout: _Position = None
    if "x" in found and "y" in found:
        layout = (found["x"][0], found["y"][0], found["x"][1], found["y"][1])
    _positions[cls] = layout
    return layout


@functools.lru_cache(maxsize=16)
def trusted_prediction(game_id: str, path: str | None) -> Prediction | None:
    """The prediction function ``path`` names, if the installed game ``game_id`` declares it.

    A server names the function by its import path; importing whatever a server names
    would let it run any installed module's code here. So only a game installed on this
    machine (shipped, or by an entry point) and known by the same id is trusted, and only
    for the path its own rules declare. Answers are kept: installed games do not change
    while a process runs, and every connection to a game asks the same question.
    """
    if not path or game_id not in available_games():
        return None
    try:
        rules = load_rules(game_id)
    except GameLoadError as exc:
        log.warning("no prediction for %s: %s", game_id, exc)
        return None
    if rules.prediction != path:
        log.warning("the server names prediction %r; %s here declares %r", path, game_id,
                    rules.prediction)  # fmt: skip
        return None
    module_name, _, attribute = path.partition(":")
    function = getattr(importlib.import_module(module_name), attribute, None)
    if not callable(function):
        log.warning("prediction %r is not a function", path)
        return None
    made: Prediction = function
    return made


class Predictor:
    """Predicts the local player's entity between authoritative snapshots."""

    __slots__ = (
        "_active",
        "_entity",
        "_idle_input",
        "_last_input",
        "_last_seq",
        "_ox",
        "_oy",
        "_pending",
        "_step",
        "corrections",
        "smoothing_s",
        "snap_distance",
        "snaps",
    )

    def __init__(
        self,
        step: PredictStep,
        *,
        idle_input: Any = None,
        smoothing_s: float = 0.1,
        snap_distance: float = 100.0,
        max_pending: int = 256,
    ) -> None:
        if max_pending <= 0:
            raise ValueError("max_pending must be positive")
        self._step = step
        # What the step is asked with when no input is pending (whether the entity obeys
        # input at all); None: the newest input sent, and before any, assume it does.
        self._idle_input = idle_input
        self.smoothing_s = smoothing_s  # exponential time constant; <= 0 disables smoothing
        self.snap_distance = snap_distance  # world units; larger errors snap
        self.corrections = 0  # reconciliations that moved the prediction by > 1 grid step
        self.snaps = 0  # corrections too large to smooth (a subset of `corrections`)
        self._pending: collections.deque[tuple[int, Any]] = collections.deque(maxlen=max_pending)
        self._last_seq = 0
        self._last_input: Any = None
        self._entity: Any = None  # the predicted entity (None: no server state yet)
        self._active = True  # whether the entity obeys input (the arena's: alive)
        self._ox = 0.0  # render offset, world units
        self._oy = 0.0

    def reset(self) -> None:
        """Forget everything but the step (after a reconnect: seqs restart)."""
        self._pending.clear()
        self._last_seq = 0
        self._last_input = None
        self._entity = None
        self._active = True
        self._ox = self._oy = 0.0

    # ----------------------------------------------------------------- state

    @property
    def entity(self) -> Any:
        """The predicted entity (an instance of its described class), or None before any."""
        return self._entity

    @property
    def known(self) -> bool:
        """Whether a server state has been received (before that nothing is predicted)."""
        return self._entity is not None

    @property
    def active(self) -> bool:
        """Whether the entity obeys input now (False: the prediction follows the server)."""
        return self._active

    @property
    def pending(self) -> int:
        """Inputs applied locally and not yet acknowledged by the server."""
        return len(self._pending)

    @property
    def offset(self) -> tuple[float, float]:
        """The smoothing offset still to decay, world units."""
        return self._ox, self._oy

    @property
    def position(self) -> tuple[float, float] | None:
        """The predicted position in world units (None: unknown, or a type without one)."""
        entity = self._entity
        layout = None if entity is None else position_of(type(entity))
        if layout is None:
            return None
        return getattr(entity, layout[0]), getattr(entity, layout[1])

    # ----------------------------------------------------------------- simulation

    def apply_input(self, seq: int, value: Any, world: World) -> None:
        """The client just sent input ``seq``: predict its tick now and remember it."""
        if seq <= self._last_seq:
            raise ValueError(f"input seq {seq} is not after {self._last_seq}")
        self._last_seq = seq
        self._last_input = value
        # A full deque drops its oldest entry: a silent server cannot grow memory, and the
        # Input lost is the one most likely to be acknowledged already.
        self._pending.append((seq, value))
        if self._entity is not None and self._active:
            moved = self._step(self._entity, value, world)
            if moved is None:
                self._active = False
            else:
                self._entity = moved

    def reconcile(self, server: Any, ack_seq: int, world: World) -> None:
        """A snapshot gave the entity's authoritative state and the newest consumed seq."""
        pending = self._pending
        while pending and pending[0][0] <= ack_seq:
            pending.popleft()
        was_tracking = self._entity is not None and self._active
        step = self._step
        entity, active = server, True
        if pending:
            for _seq, value in pending:
                moved = step(entity, value, world)
                if moved is None:
                    entity, active = server, False
                    break
                entity = moved
        else:
            # Nothing to replay: ask the step whether the entity obeys input at all.
            probe = self._last_input if self._idle_input is None else self._idle_input
            if probe is not None:
                active = step(server, probe, world) is not None
        old = self._entity
        self._entity, self._active = entity, active
        if not (was_tracking and active):
            # First state, death or respawn: nothing was predicted that could be wrong,
            # and a respawn is a teleport, so follow the server without smoothing.
            self._ox = self._oy = 0.0
            return
        layout = position_of(type(entity))
        if layout is None or type(old) is not type(entity):
            if old != entity:
                self.corrections += 1
            return
        xname, yname, xs, ys = layout
        dx = getattr(old, xname) - getattr(entity, xname)  # old prediction minus new
        dy = getattr(old, yname) - getattr(entity, yname)
        ex_q = round(dx * xs)  # grid steps
        ey_q = round(dy * ys)
        if ex_q == 0 and ey_q == 0:
            return
        if ex_q * ex_q + ey_q * ey_q > _CORRECTION_Q2:
            self.corrections += 1
        # Keep the rendered position where it was: render = prediction + offset.
        ox = self._ox + dx
        oy = self._oy + dy
        limit2 = self.snap_distance * self.snap_distance
        ex, ey = ex_q / xs, ey_q / ys
        if ex * ex + ey * ey > limit2:
            self.snaps += 1
            ox = oy = 0.0
        elif self.smoothing_s <= 0.0 or ox * ox + oy * oy > limit2:
            # Smoothing off, or small errors piled up faster than they decay: never let the
            # drawn entity lag the prediction by more than a teleport would.
            ox = oy = 0.0
        self._ox, self._oy = ox, oy

    def render_position(self, elapsed_s: float) -> tuple[float, float] | None:
        """Advance the smoothing by ``elapsed_s`` and return where to draw the entity."""
        position = self.position
        if position is None:
            return None
        ox, oy = self._ox, self._oy
        if (ox or oy) and elapsed_s > 0.0:
            k = math.exp(-elapsed_s / self.smoothing_s) if self.smoothing_s > 0.0 else 0.0
            ox *= k
            oy *= k
            if ox * ox + oy * oy < _OFFSET_EPSILON * _OFFSET_EPSILON:
                ox = oy = 0.0
            self._ox, self._oy = ox, oy
        return position[0] + ox, position[1] + oy
