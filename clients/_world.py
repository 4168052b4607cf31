"""The world mirror: the server's wire tuples, read as the game's named entity objects.

Theory of operation
-------------------
Snapshots are deltas between wire states (``protocol.diff``), so the mirror keeps the
wire tuples themselves (``wire``), exactly as the server diffed them: each snapshot names
the baseline tick it was diffed against, which must be the mirror's tick (or 0 for a
full snapshot, applied to an empty world), else ``DeltaError``.

Reading the mirror decodes: ``world[eid]`` is an instance of the class the game's
description names for that entity's kind (``GameSchema.from_description``), with one
attribute per described field in its client form (world units, radians, enum members).
Decoding is lazy: an entity is decoded when something reads it, and cached until a
snapshot changes or removes it, so an entity that stays still is decoded once and a
client that reads only the wire tuples (a load bot) decodes nothing. A tuple the
description does not allow raises ``SchemaError`` (a ``ProtocolError``) where it is read;
with ``eager`` the changed entities are decoded as the snapshot is applied, so such a
server is caught there instead. An index by kind (updated only as entities come and go)
answers ``of_type`` without looking at every entity.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from gameserver.protocol import DeltaError, apply
from gameserver.rules import GameSchema, wire_fields

__all__ = ["World", "describe_entity", "plain_value"]


class World(Mapping[int, Any]):
    """Entity id -> decoded entity (a ``Mapping``); ``wire`` holds the tuples themselves."""

    __slots__ = (
        "_by_kind",
        "_decoded",
        "_eager",
        "_of_type",
        "schema",
        "server_time_ms",
        "tick",
        "wire",
    )

    def __init__(self, schema: GameSchema | None = None, *, eager: bool = False) -> None:
        self.schema = schema  # None before the Welcome
        self.wire: dict[int, tuple[Any, ...]] = {}
        self.tick = 0  # the tick of the mirrored state (0: nothing yet)
        self.server_time_ms = 0
        self._decoded: dict[int, Any] = {}
        self._by_kind: dict[Any, dict[int, None]] = {}  # kind -> ids (an ordered set)
        self._of_type: dict[str, dict[int, Any]] = {}  # of_type's answers until a change
        self._eager = eager

    def clear(self, schema: GameSchema | None = None) -> None:
        """Forget everything (a new connection); ``schema`` is the new game's, if known."""
        self.schema = schema
        self.wire = {}
        self.tick = 0
        self.server_time_ms = 0
        self._decoded.clear()
        self._by_kind.clear()
        self._of_type.clear()

    def apply(
        self,
        tick: int,
        baseline_tick: int,
        server_time_ms: int,
        changes: Sequence[Sequence[Any]],
        removed: Sequence[int],
    ) -> None:
        """Apply one snapshot's delta; ``DeltaError`` (a ``ProtocolError``) if it does not fit."""
        if baseline_tick == 0:
            base: Mapping[int, tuple[Any, ...]] = {}
        elif baseline_tick == self.tick:
            base = self.wire
        else:
            raise DeltaError(
                f"snapshot {tick} is against tick {baseline_tick}, the mirror has {self.tick}"
            )
        old = self.wire
        wire = self.wire = apply(base, changes, removed)
        self.tick = tick
        self.server_time_ms = server_time_ms
        decoded, by_kind = self._decoded, self._by_kind
        self._of_type.clear()
        if baseline_tick == 0:
            decoded.clear()
            by_kind.clear()
            for eid, t in wire.items():
                by_kind.setdefault(t[0], {})[eid] = None
        else:
            for eid in removed:
                decoded.pop(eid, None)
                by_kind[old[eid][0]].pop(eid, None)
            for change in changes:
                eid = change[0]
                decoded.pop(eid, None)
                if eid not in base or eid in removed:
                    by_kind.setdefault(wire[eid][0], {})[eid] = None
        if self._eager and self.schema is not None:
            for change in changes:
                self[change[0]]

    # -- the Mapping -----------------------------------------------------------------

    def __getitem__(self, entity_id: int) -> Any:
        entity = self._decoded.get(entity_id)
        if entity is None:
            wire = self.wire[entity_id]
            if self.schema is None:
                raise KeyError(entity_id)  # no description: only the wire tuples are known
            entity = self._decoded[entity_id] = self.schema.entity_from_wire(wire)
        return entity

    def __iter__(self) -> Iterator[int]:
        return iter(self.wire)

    def __len__(self) -> int:
        return len(self.wire)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self.wire

    # -- reading by type -------------------------------------------------------------

    def kind_of(self, entity_id: int) -> str:
        """The described type name of an entity (``KeyError`` if it is not in the world)."""
        return type(self[entity_id]).__name__

    def of_type(self, name: str) -> Mapping[int, Any]:
        """Every entity whose described type is ``name``, by id (read-only: it is shared
        by every caller until the next snapshot)."""
        found = self._of_type.get(name)
        if found is None:
            by_kind = self._by_kind
            entities = self.schema.entities if self.schema is not None else ()
            found = self._of_type[name] = {
                eid: self[eid]
                for e in entities
                if e.name == name and e.kind in by_kind
                for eid in by_kind[e.kind]
            }
        return found

    def describe(self) -> list[dict[str, Any]]:
        """Every entity as plain data (JSON-able), by ascending id."""
        return [describe_entity(eid, self[eid]) for eid in sorted(self.wire)]


def plain_value(value: object) -> Any:
    """A decoded field value as plain data: enum members by name, flag sets as name lists."""
    if isinstance(value, enum.IntFlag):
        return [m.name for m in type(value) if m in value]
    if isinstance(value, enum.Enum):
        return value.name
    return value


def describe_entity(entity_id: int, entity: object) -> dict[str, Any]:
    """One decoded entity as ``{"id", "type", <field>: value, ...}`` in plain data."""
    out: dict[str, Any] = {"id": entity_id, "type": type(entity).__name__}
    if attrs.has(type(entity)):
        for name, _ in wire_fields(type(entity)):
            out[name] = plain_value(getattr(entity, name))
    return out
