"""Pure ("sans-I/O") game simulation: no I/O, no clocks, randomness only from a seeded RNG."""

from __future__ import annotations

from gameserver.sim.arena import DEFAULT_SETTINGS, Arena, ArenaSettings, Obstacle
from gameserver.sim.game import (
    AIM_STEPS,
    ALL_BUTTONS,
    ANGLE_WIRE_STEPS,
    POSITION_SCALE,
    Buttons,
    EntityKind,
    Event,
    EventKind,
    Game,
)
from gameserver.sim.grid import SpatialGrid
from gameserver.sim.movement import make_mover, move, resolve_obstacles

__all__ = [
    "AIM_STEPS",
    "ALL_BUTTONS",
    "ANGLE_WIRE_STEPS",
    "DEFAULT_SETTINGS",
    "POSITION_SCALE",
    "Arena",
    "ArenaSettings",
    "Buttons",
    "EntityKind",
    "Event",
    "EventKind",
    "Game",
    "Obstacle",
    "SpatialGrid",
    "make_mover",
    "move",
    "resolve_obstacles",
]
