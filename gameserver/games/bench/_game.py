"""The benchmark game: the Colyseus peer's workload, rule for rule, as a game on this server.

Theory of operation
-------------------
Every player is a point in a 1000 x 1000 world with an angle and hp. Each tick, for
every player: apply its latest input (dx, dy each in {-1, 0, 1}), move by
``dx * step, dy * step`` with ``step = 200 units/s * 1/30 s`` (no normalisation: a
diagonal is faster, as in the peer), clamp x and y to [0, 1000]; the angle always
advances by 0.05 rad, wrapped to [0, 2pi) by one subtraction; hp stays 100. Positions and
angles are doubles computed with the peer's exact operations, so the same spawn and
inputs give the same trajectory bit for bit.

The state is columnar (parallel lists, one slot per player in join order) rather than
one object per player, because the whole cost of this game is its per-tick loop:
``step`` moves only players with a non-zero input and re-quantizes a coordinate only
when it changed; ``wire_state`` builds every tuple with ``zip`` in C. Its result is the
schema's encoding of ``entities()`` exactly (a test compares them over seeded games),
and it is cached until the next step or membership change.
"""

from __future__ import annotations

import hashlib
import math
from array import array
from collections.abc import Mapping, Sequence
from itertools import repeat
from typing import Any

from gameserver import rules
from gameserver.rules import NoSettings, Player, Rules, TickCommand, TickInput, WireTuple

WORLD = 1000.0  # world units, both axes
SPEED = 200.0  # world units per second, per axis
TICK_RATE = 30  # the peer's fixed step: 1/30 s per tick
STEP = SPEED * (1 / TICK_RATE)  # the peer's SPEED * DT, the same double
ANGLE_STEP = 0.05  # radians per tick
TWO_PI = math.pi * 2
HP = 100

# Wire precision (README "Wire precision"): 1/64 unit fits the world's 64000 in the
# same 3-byte CBOR integer as 1/16 would; 65536 steps per turn likewise.
POSITION_SCALE = 64
ANGLE_STEPS = 65536


@rules.entity
class BenchPlayer:
    """One player, as the peer's ``Player`` schema: x, y, angle (float32 there), hp (int16)."""

    x: float = rules.fixed(POSITION_SCALE, 0, WORLD, interpolate=True, position="x")
    y: float = rules.fixed(POSITION_SCALE, 0, WORLD, interpolate=True, position="y")
    angle: float = rules.angle(ANGLE_STEPS, interpolate=True)
    hp: int = rules.integer(-32768, 32767, default=HP)


@rules.message
class BenchInput:
    """The peer's ``input {dx, dy}``: a direction per axis."""

    dx: int = rules.integer(-1, 1, default=0)
    dy: int = rules.integer(-1, 1, default=0)


SCHEMA = rules.GameSchema(entities=[BenchPlayer], input=BenchInput)
_KIND = SCHEMA.entity(BenchPlayer).kind
# The override's constants come from the declared wire types, so it cannot drift from them.
_X_TYPE, _Y_TYPE, _ANGLE_TYPE, _ = SCHEMA.entity(BenchPlayer).wire_types
assert isinstance(_X_TYPE, rules.Fixed) and isinstance(_Y_TYPE, rules.Fixed)
assert isinstance(_ANGLE_TYPE, rules.Angle) and _X_TYPE.scale == _Y_TYPE.scale
_X_SCALE = _X_TYPE.scale
_TO_ANGLE_STEPS = _ANGLE_TYPE.steps / (2.0 * math.pi)  # as the Angle encoder computes it
_ANGLE_MASK = _ANGLE_TYPE.steps - 1
assert _ANGLE_TYPE.steps & _ANGLE_MASK == 0  # a power of two: "& mask" is "% steps"


class Bench(Rules[BenchInput, NoSettings]):
    """Every player moves by its input and spins; everyone sees everyone."""

    id = "bench"
    version = 1
    schema = SCHEMA
    tick_rate = TICK_RATE
    max_players = 2000  # the peer's maxClients

    def __init__(self, settings: NoSettings, seed: int, *, tick_rate: int | None = None) -> None:
        super().__init__(settings, seed, tick_rate=tick_rate)
        self._next_id = 1
        self._entity_of: dict[str, int] = {}  # player id -> entity id
        self._slot: dict[int, int] = {}  # entity id -> index in the columns
        self._ids: list[int] = []
        self._xs: list[float] = []
        self._ys: list[float] = []
        self._angles: list[float] = []
        self._hps: list[int] = []
        self._wire_xs: list[int] = []  # x quantized, kept in step with _xs
        self._wire_ys: list[int] = []
        self._wire: dict[int, WireTuple] | None = None  # wire_state() until the next change

    @property
    def world_size(self) -> tuple[float, float]:
        return (WORLD, WORLD)

    # -- membership ----------------------------------------------------------------

    def join(self, player: Player) -> int:
        entity_id = self._next_id
        self._next_id += 1
        draw = self.random.random
        # The peer's onJoin, in its order: x, y, angle uniform; hp 100.
        x = draw() * WORLD
        y = draw() * WORLD
        a = draw() * TWO_PI
        self._entity_of[player.id] = entity_id
        self._slot[entity_id] = len(self._ids)
        self._ids.append(entity_id)
        self._xs.append(x)
        self._ys.append(y)
        self._angles.append(a)
        self._hps.append(HP)
        self._wire_xs.append(round(x * _X_SCALE))
        self._wire_ys.append(round(y * _X_SCALE))
        self._wire = None
        return entity_id

    def leave(self, player: Player) -> None:
        entity_id = self._entity_of.pop(player.id, None)
        if entity_id is None:
            return
        i = self._slot.pop(entity_id)
        for column in (
            self._ids, self._xs, self._ys, self._angles, self._hps, self._wire_xs, self._wire_ys
        ):  # fmt: skip
            del column[i]
        for j in range(i, len(self._ids)):
            self._slot[self._ids[j]] = j
        self._wire = None

    # -- the tick ------------------------------------------------------------------------

    def step(
        self, inputs: Sequence[TickInput[BenchInput]], commands: Sequence[TickCommand]
    ) -> Sequence[Any]:
        xs, ys, wire_xs, wire_ys, slot = (
            self._xs,
            self._ys,
            self._wire_xs,
            self._wire_ys,
            self._slot,
        )
        scale = _X_SCALE
        for given in inputs:
            value = given.value
            dx = value.dx
            dy = value.dy
            if dx or dy:  # the peer skips a still player (no clamp, no write)
                i = slot[given.entity_id]
                x0 = xs[i]
                y0 = ys[i]
                x = x0 + dx * STEP
                y = y0 + dy * STEP
                if x < 0.0:
                    x = 0.0
                elif x > WORLD:
                    x = WORLD
                if y < 0.0:
                    y = 0.0
                elif y > WORLD:
                    y = WORLD
                if x != x0:  # at a wall nothing changes, nothing is re-quantized
                    xs[i] = x
                    wire_xs[i] = round(x * scale)
                if y != y0:
                    ys[i] = y
                    wire_ys[i] = round(y * scale)
        # Every angle changes every tick: one comprehension, the peer's add and wrap.
        self._angles = [b - TWO_PI if (b := a + ANGLE_STEP) >= TWO_PI else b for a in self._angles]
        self._wire = None
        return ()

    # -- reading the world ---------------------------------------------------------

    def entities(self) -> Mapping[int, BenchPlayer]:
        """Built on demand from the columns (the server's per-tick path is ``wire_state``)."""
        return {
            eid: BenchPlayer(x=x, y=y, angle=a, hp=hp)
            for eid, x, y, a, hp in zip(
                self._ids, self._xs, self._ys, self._angles, self._hps, strict=True
            )
        }

    def wire_state(self) -> dict[int, WireTuple]:
        """The schema's encoding of ``entities()``, built in C; do not mutate the result."""
        wire = self._wire
        if wire is None:
            to_steps, mask = _TO_ANGLE_STEPS, _ANGLE_MASK
            wire_angles = [round(a * to_steps) & mask for a in self._angles]
            wire = self._wire = dict(
                zip(
                    self._ids,
                    # repeat() is endless: the columns, all of one length, end the tuples.
                    zip(repeat(_KIND), self._wire_xs, self._wire_ys, wire_angles, self._hps),
                    strict=True,
                )
            )
        return wire

    # -- whole state ---------------------------------------------------------------------

    def save(self) -> bytes:
        cache, self._wire = self._wire, None  # derived: not part of the state
        try:
            return super().save()
        finally:
            self._wire = cache

    def state_hash(self) -> str:
        """Over the whole state, floats by their exact bits; the wire cache left out."""
        h = hashlib.blake2b(digest_size=16)
        h.update(
            repr(
                (
                    type(self).id,
                    self.seed,
                    self.tick,
                    self._next_id,
                    list(self._entity_of.items()),
                    self._ids,
                    self._hps,
                    self.random.getstate(),
                )
            ).encode()
        )
        for column in (self._xs, self._ys, self._angles):
            h.update(array("d", column).tobytes())
        return h.hexdigest()
