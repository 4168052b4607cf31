"""The arena: a top-down shooter among round obstacles, written against gameserver.rules.

``ArenaRules`` is the game (``README.md`` in this folder: rules, schema, settings,
prediction, bot). Pure: no I/O, no clocks, randomness only from the seeded generator.
"""

from __future__ import annotations

from ._bot import Bot
from ._rules import RULES_VERSION, ArenaRules
from ._schema import (
    AIM_STEPS,
    ANGLE_WIRE_STEPS,
    ARENA_BUTTONS,
    POSITION_SCALE,
    SCHEMA,
    Buttons,
    Controls,
    Death,
    EntityKind,
    EventKind,
    Hit,
    Obstacle,
    Player,
    PlayerFlags,
    Projectile,
    Respawn,
    Score,
    Shot,
)
from ._settings import ArenaSettings
from .movement import predictor

__all__ = [
    "AIM_STEPS",
    "ANGLE_WIRE_STEPS",
    "ARENA_BUTTONS",
    "POSITION_SCALE",
    "RULES_VERSION",
    "SCHEMA",
    "ArenaRules",
    "ArenaSettings",
    "Bot",
    "Buttons",
    "Controls",
    "Death",
    "EntityKind",
    "EventKind",
    "Hit",
    "Obstacle",
    "Player",
    "PlayerFlags",
    "Projectile",
    "Respawn",
    "Score",
    "Shot",
    "predictor",
]
