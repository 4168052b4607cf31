"""Readable views of the arena's wire tuples (for spectators, tools and JSON output)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gameserver.games.arena import ANGLE_WIRE_STEPS, POSITION_SCALE, EntityKind

ALIVE_FLAG = 1


def describe(entity_id: int, entity: tuple[int, ...]) -> dict[str, Any]:
    """One wire tuple as a dict in world units (degrees for angles)."""
    kind = entity[0]
    view: dict[str, Any] = {
        "id": entity_id,
        "x": entity[1] / POSITION_SCALE,
        "y": entity[2] / POSITION_SCALE,
    }
    if kind == EntityKind.PLAYER:
        view.update(
            kind="player",
            angle_deg=round(entity[3] * 360 / ANGLE_WIRE_STEPS, 2),
            hp=entity[4],
            score=entity[5],
            alive=bool(entity[6] & ALIVE_FLAG),
        )
    elif kind == EntityKind.PROJECTILE:
        view.update(
            kind="projectile",
            angle_deg=round(entity[3] * 360 / ANGLE_WIRE_STEPS, 2),
            owner=entity[4],
        )
    elif kind == EntityKind.OBSTACLE:
        view.update(kind="obstacle", radius=entity[3] / POSITION_SCALE)
    else:
        view.update(kind=f"unknown-{kind}", fields=list(entity[3:]))
    return view


def describe_world(world: Mapping[int, tuple[int, ...]]) -> list[dict[str, Any]]:
    return [describe(eid, entity) for eid, entity in sorted(world.items())]


def scoreboard(world: Mapping[int, tuple[int, ...]]) -> list[tuple[int, int, int, bool]]:
    """(player id, score, hp, alive), best score first."""
    players = [
        (eid, e[5], e[4], bool(e[6] & ALIVE_FLAG))
        for eid, e in world.items()
        if e[0] == EntityKind.PLAYER
    ]
    return sorted(players, key=lambda p: (-p[1], p[0]))
