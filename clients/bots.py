"""Bot behaviours: what a headless player presses each tick.

A behaviour is a small object with ``next_input(world, me_id, tick) ->
(buttons, aim)``. Each bot owns its seeded RNG, so a swarm run is
repeatable. ``bench`` is the benchmark workload: a random walk whose
direction (dx, dy in {-1, 0, 1}) changes about once a second and whose aim
changes every tick, so every entity changes every tick.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Protocol

from gameserver.games.arena import AIM_STEPS, POSITION_SCALE, Buttons, EntityKind

BEHAVIOURS = ("wander", "chase", "idle", "bench", "mixed")
_MIXED_CYCLE = ("wander", "chase", "wander", "idle")
_DIRECTIONS = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
CHASE_FIRE_RANGE = 350.0  # world units


def direction_buttons(dx: int, dy: int) -> int:
    buttons = 0
    if dx < 0:
        buttons |= Buttons.LEFT
    elif dx > 0:
        buttons |= Buttons.RIGHT
    if dy < 0:
        buttons |= Buttons.UP
    elif dy > 0:
        buttons |= Buttons.DOWN
    return int(buttons)


def aim_towards(dx: float, dy: float) -> int:
    return round(math.atan2(dy, dx) / (2 * math.pi) * AIM_STEPS) % AIM_STEPS


class Behaviour(Protocol):
    def next_input(
        self, world: Mapping[int, tuple[int, ...]], me: int, tick_rate: int
    ) -> tuple[int, int]: ...


class Idle:
    def next_input(
        self, world: Mapping[int, tuple[int, ...]], me: int, tick_rate: int
    ) -> tuple[int, int]:
        return 0, 0


class RandomWalk:
    """Changes direction about every ``change_s`` seconds; ``spin`` re-aims every tick."""

    def __init__(
        self, rng: random.Random, *, change_s: float = 1.0, spin: bool, fire: bool
    ) -> None:
        self.rng = rng
        self.change_s = change_s
        self.spin = spin
        self.fire = fire
        self.direction = rng.choice(_DIRECTIONS)
        self.aim = rng.randrange(AIM_STEPS)

    def next_input(
        self, world: Mapping[int, tuple[int, ...]], me: int, tick_rate: int
    ) -> tuple[int, int]:
        rng = self.rng
        if rng.random() < 1.0 / (self.change_s * tick_rate):
            self.direction = rng.choice(_DIRECTIONS)
            if not self.spin and self.direction != (0, 0):
                self.aim = aim_towards(*self.direction)
        if self.spin:
            self.aim = rng.randrange(AIM_STEPS)
        buttons = direction_buttons(*self.direction)
        if self.fire and rng.random() < 0.05:
            buttons |= Buttons.FIRE
        return buttons, self.aim


class Chase:
    """Walks toward the nearest other living player and shoots when in range."""

    def __init__(self, rng: random.Random) -> None:
        self.wander = RandomWalk(rng, spin=False, fire=False)

    def next_input(
        self, world: Mapping[int, tuple[int, ...]], me: int, tick_rate: int
    ) -> tuple[int, int]:
        mine = world.get(me)
        if mine is None:
            return self.wander.next_input(world, me, tick_rate)
        best: tuple[float, float, float] | None = None
        for eid, entity in world.items():
            if eid == me or entity[0] != EntityKind.PLAYER or not entity[6] & 1:
                continue
            dx, dy = (entity[1] - mine[1]) / POSITION_SCALE, (entity[2] - mine[2]) / POSITION_SCALE
            distance = math.hypot(dx, dy)
            if best is None or distance < best[0]:
                best = (distance, dx, dy)
        if best is None:
            return self.wander.next_input(world, me, tick_rate)
        distance, dx, dy = best
        buttons = direction_buttons((dx > 20) - (dx < -20), (dy > 20) - (dy < -20))
        if distance < CHASE_FIRE_RANGE:
            buttons |= Buttons.FIRE
        return buttons, aim_towards(dx, dy)


def make_behaviour(name: str, index: int, seed: int) -> Behaviour:
    """Behaviour ``name`` for bot number ``index``; ``mixed`` cycles through the others."""
    rng = random.Random(seed * 1_000_003 + index)
    if name == "mixed":
        name = _MIXED_CYCLE[index % len(_MIXED_CYCLE)]
    if name == "wander":
        return RandomWalk(rng, spin=False, fire=True)
    if name == "bench":
        return RandomWalk(rng, spin=True, fire=False)
    if name == "chase":
        return Chase(rng)
    if name == "idle":
        return Idle()
    raise ValueError(f"unknown behaviour {name!r}; choose from {', '.join(BEHAVIOURS)}")
