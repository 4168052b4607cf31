"""A game's whole schema: entity types, input, commands and events, and its description.

Theory of operation
-------------------
The server builds a ``GameSchema`` from the rules' declared classes. Entity kinds,
command kinds and event kinds are indexes in the lists given, so the order of each list
is part of the wire contract. ``describe()`` is one CBOR-able document (for the Welcome)
that says everything a client needs to decode the game: per entity type, input, command
and event, the field names in wire order and each field's wire type and hints.

A client calls ``GameSchema.from_description(doc)`` on that document: it checks the
document strictly (it came over the network: anything malformed raises ``SchemaError``),
generates one frozen attrs class per type with the described names and fields, and builds
the same schemas over them. Property (tested): the rebuilt schema decodes exactly what the
original encodes, and describes itself identically. Values come back in their canonical
client form: an angle in radians even where the rules hold it as an integer.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._declare import field
from ._descriptions import wire_type_from_description
from ._errors import SchemaError
from ._records import (
    CommandSchema,
    EntitySchema,
    EventSchema,
    InputSchema,
    PositionLayout,
    check_unique_names,
)
from ._wiretypes import Text, WireValue


class GameSchema:
    """Everything about a game that travels, declared once by its rules."""

    def __init__(
        self,
        *,
        entities: Sequence[type],
        input: type | None = None,
        commands: Sequence[type] = (),
        events: Sequence[type] = (),
    ) -> None:
        self.entities: tuple[EntitySchema[Any], ...] = tuple(
            EntitySchema(cls, kind) for kind, cls in enumerate(entities)
        )
        check_unique_names(self.entities, "entity")
        self.input: InputSchema[Any] | None = None if input is None else InputSchema(input)
        self.commands = CommandSchema(commands)
        self.events = EventSchema(events)
        self._by_type: dict[type, EntitySchema[Any]] = {e.cls: e for e in self.entities}
        self._layouts: tuple[PositionLayout | None, ...] = tuple(
            e.position_layout for e in self.entities
        )
        # Whether any entity carries text (recordings digest such tuples differently).
        self.has_text = any(
            isinstance(wire_type, Text) for e in self.entities for wire_type in e.wire_types
        )

    def entity(self, cls: type) -> EntitySchema[Any]:
        """The schema of a declared entity type of this game."""
        return self._by_type[cls]

    def entity_to_wire(self, obj: object) -> tuple[WireValue, ...]:
        """``(kind, *fields)`` of an entity of any of the game's types."""
        schema = self._by_type.get(type(obj))
        if schema is None:
            raise TypeError(f"{type(obj).__name__} is not an entity type of this game")
        return schema.to_wire(obj)

    def entity_from_wire(self, wire: object) -> Any:
        """An entity from an untrusted wire tuple, of the type its kind names."""
        if (type(wire) is not tuple and type(wire) is not list) or not wire:
            raise SchemaError("an entity is an array starting with its kind")
        kind = wire[0]
        if type(kind) is not int or not 0 <= kind < len(self.entities):
            raise SchemaError(f"unknown entity kind {kind!r}")
        return self.entities[kind].from_wire(wire)

    def wire_state(self, entities: Mapping[int, object]) -> dict[int, tuple[WireValue, ...]]:
        """Entity id -> wire tuple: what ``protocol.diff`` compares, for a whole world."""
        by_type = self._by_type
        return {eid: by_type[type(obj)].to_wire(obj) for eid, obj in entities.items()}

    def position_layout(self, kind: int) -> PositionLayout | None:
        """Where entities of ``kind`` keep their position; None for a type without one."""
        return self._layouts[kind]

    def common_position_layout(self) -> PositionLayout | None:
        """The one layout every entity type shares, or None (then no interest management)."""
        layouts = set(self._layouts)
        if len(layouts) != 1:
            return None
        return next(iter(layouts))

    def position(self, wire: Sequence[Any]) -> tuple[float, float] | None:
        """World position of an entity's wire tuple, or None if its type has none."""
        layout = self._layouts[wire[0]]
        return None if layout is None else layout.position(wire)

    def describe(self) -> dict[str, Any]:
        """The CBOR-able description of the whole game, for the Welcome."""
        return {
            "entities": [e.describe() for e in self.entities],
            "input": None if self.input is None else self.input.describe(),
            "commands": self.commands.describe(),
            "events": self.events.describe(),
        }

    @classmethod
    def from_description(cls, doc: object) -> GameSchema:
        """A decoding schema rebuilt from ``describe()``; ``SchemaError`` if malformed.

        The Welcome's whole game description (which also names the game: ``id``,
        ``version``, ``prediction``) is accepted as it is. Other keys are ignored, as
        the protocol asks of every client (docs/protocol.md 4.4.1), so a client keeps
        decoding a newer server's description that adds one.
        """
        parts = {"entities", "input", "commands", "events"}
        if type(doc) is not dict or not parts <= doc.keys():
            raise SchemaError("a game description is a map of entities, input, commands, events")
        input_doc = doc["input"]
        try:
            return cls(
                entities=_classes(doc["entities"], "entities"),
                input=None if input_doc is None else _make_class(input_doc, "input"),
                commands=_classes(doc["commands"], "commands"),
                events=_classes(doc["events"], "events"),
            )
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"bad game description: {exc}") from None


def _classes(docs: object, where: str) -> list[type]:
    if type(docs) is not list:
        raise SchemaError(f"{where} must be an array")
    return [_make_class(d, where) for d in docs]


def _public_name(name: object) -> bool:
    return (
        type(name) is str
        and name.isidentifier()
        and not name.startswith("_")
        and not keyword.iskeyword(name)
        and name != "self"  # attrs' generated __init__ takes self
    )


def _make_class(doc: object, where: str) -> type:
    """A frozen attrs class with the described fields, each carrying its wire type."""
    if type(doc) is not dict or set(doc) != {"name", "fields"}:
        raise SchemaError(f"each of {where} is a map of name and fields")
    name, fields = doc["name"], doc["fields"]
    if not _public_name(name) or type(fields) is not list:
        raise SchemaError(f"{where}: a type needs a public name and an array of fields")
    attributes: dict[str, Any] = {}
    for field_doc in fields:
        if type(field_doc) is not dict:
            raise SchemaError(f"{name}: each field is a map")
        field_doc = dict(field_doc)
        field_name = field_doc.pop("name", None)
        if not _public_name(field_name) or field_name in attributes:
            raise SchemaError(f"{name}: field names must be distinct public identifiers")
        try:
            wire_type = wire_type_from_description(field_doc)
        except SchemaError as exc:
            raise SchemaError(exc.detail, f"{name}.{field_name}") from None
        attributes[field_name] = field(wire_type)
    try:
        made: type = attrs.make_class(name, attributes, frozen=True, slots=True, kw_only=True)
    except (TypeError, ValueError, SyntaxError) as exc:
        raise SchemaError(f"cannot build {name}: {exc}") from None
    return made
