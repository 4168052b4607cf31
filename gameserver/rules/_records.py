"""Schemas of one declared class: entity types, the input, commands and events.

Theory of operation
-------------------
A declared class (``declare.entity`` / ``declare.message``) lists its wire fields in
order. Its schema turns an instance into a wire sequence and an untrusted wire sequence
back into an instance:

- an entity is the tuple ``(kind, *fields)``: ``kind`` is the type's index in the game's
  list of entity types, as ``docs/protocol.md`` 6.1 has it (and ``protocol.diff`` compares);
- the input is the list ``[*fields]``;
- a command or an event is the list ``[kind, *fields]``, ``kind`` its index among the
  game's commands (or events).

Encoding runs for every entity every tick, so each schema compiles it into one
straight-line function: each wire type contributes its conversion inline
(``v0 = round(obj.x * 16)``) and a validity condition (``0 <= v0 <= 16000``); one combined
check guards the ``return (kind, v0, ...)``. Constants are literals, and no per-field call
is made. On any doubt (a condition fails, or a conversion raises) the encoder falls back
to the wire types' own ``to_wire``, field by field, which returns the same result for a
valid value and otherwise raises naming the field (``Player.hp: must be an integer in
[0, 100]``). Decoding is compiled the same way over the wire types' strict decoders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import attrs

from ._declare import wire_fields
from ._errors import EncodeError, SchemaError
from ._wiretypes import WireType, WireValue

T = TypeVar("T")
W = TypeVar("W")  # the wire sequence: a tuple (an entity) or a list


@attrs.frozen
class PositionLayout:
    """Where an entity type keeps its position in its wire tuple, and the scale to world units.

    ``world_x = wire[x_index] / x_scale`` (likewise y). Interest management reads the ints
    directly; ``position()`` gives world units.
    """

    x_index: int
    y_index: int
    x_scale: float
    y_scale: float

    def position(self, wire: Sequence[Any]) -> tuple[float, float]:
        return wire[self.x_index] / self.x_scale, wire[self.y_index] / self.y_scale


def _compile(source: str, namespace: dict[str, Any], name: str) -> Any:
    exec(compile(source, f"<gameserver.rules {name}>", "exec"), namespace)
    return namespace[name]


class _Record(Generic[T]):
    """The fields of one declared class and its compiled converters.

    ``prefix`` is the kind (or None for the input): the first wire item, before the fields.
    """

    def __init__(self, cls: type[T], prefix: int | None, as_tuple: bool) -> None:
        if not attrs.has(cls):
            raise TypeError(f"{cls!r} is not a declared class (use rules.entity or rules.message)")
        self.cls = cls
        self.name: str = cls.__name__
        fields = wire_fields(cls)
        self.field_names: tuple[str, ...] = tuple(name for name, _ in fields)
        self.wire_types: tuple[WireType[Any], ...] = tuple(wt for _, wt in fields)
        self.prefix = prefix
        self._offset = 0 if prefix is None else 1
        self.length = self._offset + len(fields)
        self.encode: Callable[[T], Any] = self._compile_encoder(as_tuple)
        self.decode: Callable[[Sequence[Any]], T] = self._compile_decoder()

    def _compile_encoder(self, as_tuple: bool) -> Callable[[T], Any]:
        namespace: dict[str, Any] = {"_slow": self._encode_slowly}
        statements: list[str] = []
        conditions: list[str] = []
        items = [] if self.prefix is None else [str(self.prefix)]
        for i, (name, wire_type) in enumerate(zip(self.field_names, self.wire_types, strict=True)):
            statement, condition = wire_type.inline_encoder(
                f"obj.{name}", f"v{i}", f"_f{i}_", namespace
            )
            statements.append(f"        {statement}\n")
            if condition:
                conditions.append(f"({condition})")
            items.append(f"v{i}")
        self._as_tuple = as_tuple
        body = f"({', '.join(items)},)" if as_tuple else f"[{', '.join(items)}]"
        if as_tuple and not items:
            body = "()"
        check = f"    if not ({' and '.join(conditions)}):\n        return _slow(obj)\n"
        source = (
            "def encode(obj):\n"
            "    try:\n"
            + "".join(statements or ["        pass\n"])
            + "    except (TypeError, ValueError, OverflowError, KeyError):\n"
            "        return _slow(obj)\n" + (check if conditions else "") + f"    return {body}\n"
        )
        encode: Callable[[T], Any] = _compile(source, namespace, "encode")
        return encode

    def _compile_decoder(self) -> Callable[[Sequence[Any]], T]:
        namespace: dict[str, Any] = {
            "SchemaError": SchemaError,
            "_cls": self.cls,
            "_fail": self._decode_failed,
        }
        args = []
        for i, (name, wire_type) in enumerate(zip(self.field_names, self.wire_types, strict=True)):
            namespace[f"_d{i}"] = wire_type.decoder
            args.append(f"{name}=_d{i}(wire[{i + self._offset}])")
        source = (
            "def decode(wire):\n"
            "    try:\n"
            f"        return _cls({', '.join(args)})\n"
            "    except SchemaError:\n"
            "        _fail(wire)\n"
            "        raise\n"
        )
        decode: Callable[[Sequence[Any]], T] = _compile(source, namespace, "decode")
        return decode

    def _encode_slowly(self, obj: object) -> Any:
        """The compiled encoder's fallback: field by field, naming the first bad field."""
        values: list[Any] = [] if self.prefix is None else [self.prefix]
        for name, wire_type in zip(self.field_names, self.wire_types, strict=True):
            try:
                values.append(wire_type.to_wire(getattr(obj, name)))
            except EncodeError as exc:
                raise EncodeError(exc.detail, f"{self.name}.{name}") from None
        return tuple(values) if self._as_tuple else values

    def _decode_failed(self, wire: Sequence[Any]) -> None:
        for i, (name, wire_type) in enumerate(zip(self.field_names, self.wire_types, strict=True)):
            try:
                wire_type.from_wire(wire[i + self._offset])
            except SchemaError as exc:
                raise SchemaError(exc.detail, f"{self.name}.{name}") from None

    def check_shape(self, wire: object) -> Sequence[Any]:
        """``wire`` as a sequence of the right length and prefix; else ``SchemaError``."""
        if type(wire) is not tuple and type(wire) is not list:
            raise SchemaError(f"must be an array of {self.length} items", self.name)
        if len(wire) != self.length:
            raise SchemaError(
                f"must be an array of {self.length} items, got {len(wire)}", self.name
            )
        if self.prefix is not None and (type(wire[0]) is not int or wire[0] != self.prefix):
            raise SchemaError(f"item 0 must be the kind {self.prefix}", self.name)
        return wire

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fields": [
                {"name": name, **wire_type.describe()}
                for name, wire_type in zip(self.field_names, self.wire_types, strict=True)
            ],
        }


def _position_layout(record: _Record[Any]) -> PositionLayout | None:
    found: dict[str, tuple[int, float]] = {}
    for i, wire_type in enumerate(record.wire_types):
        role = wire_type.position
        if role is None:
            continue
        if role in found:
            raise ValueError(f"{record.name}: two fields are position {role!r}")
        scale = float(getattr(wire_type, "scale", 1))
        found[role] = (i + 1, scale)
    if not found:
        return None
    if "x" not in found or "y" not in found:
        raise ValueError(f"{record.name}: a position needs both an 'x' and a 'y' field")
    (xi, xs), (yi, ys) = found["x"], found["y"]
    return PositionLayout(xi, yi, xs, ys)


class _RecordSchema(Generic[T, W]):
    """A declared class <-> its wire sequence: ``[*fields]``, or ``kind`` first."""

    def __init__(self, cls: type[T], kind: int | None, *, as_tuple: bool = False) -> None:
        self._record = _Record(cls, kind, as_tuple=as_tuple)
        self.cls = cls
        self.name = self._record.name
        self.field_names = self._record.field_names
        self.wire_types = self._record.wire_types
        # Plain attributes, not methods: one call, no wrapper, on the per-tick path.
        self.to_wire: Callable[[T], W] = self._record.encode
        self._decode = self._record.decode

    def from_wire(self, wire: object) -> T:
        """An instance from an untrusted wire sequence; ``SchemaError`` naming the field."""
        return self._decode(self._record.check_shape(wire))

    def describe(self) -> dict[str, Any]:
        return self._record.describe()


class EntitySchema(_RecordSchema[T, tuple[WireValue, ...]]):
    """One entity type: an instance <-> the wire tuple ``(kind, *fields)``."""

    def __init__(self, cls: type[T], kind: int) -> None:
        super().__init__(cls, kind, as_tuple=True)
        self.kind = kind
        self.position_layout = _position_layout(self._record)


class InputSchema(_RecordSchema[T, list[WireValue]]):
    """The input's payload: an instance <-> the wire list ``[*fields]``."""

    def __init__(self, cls: type[T]) -> None:
        super().__init__(cls, None)


class MessageSchema(_RecordSchema[T, list[WireValue]]):
    """One command or event type: an instance <-> the wire list ``[kind, *fields]``."""

    def __init__(self, cls: type[T], kind: int) -> None:
        super().__init__(cls, kind)
        self.kind = kind


class MessageCatalog:
    """A game's commands (or events): each type's kind is its index in the list."""

    what = "message"

    def __init__(self, classes: Sequence[type]) -> None:
        self.messages: tuple[MessageSchema[Any], ...] = tuple(
            MessageSchema(cls, kind) for kind, cls in enumerate(classes)
        )
        self._by_type: dict[type, MessageSchema[Any]] = {m.cls: m for m in self.messages}
        check_unique_names(self.messages, self.what)

    def __len__(self) -> int:
        return len(self.messages)

    def to_wire(self, message: object) -> list[WireValue]:
        """``[kind, *fields]`` of a declared message; ``TypeError`` for an undeclared type."""
        schema = self._by_type.get(type(message))
        if schema is None:
            raise TypeError(f"{type(message).__name__} is not a declared {self.what}")
        return schema.to_wire(message)

    def from_wire(self, wire: object) -> Any:
        """A typed message from an untrusted ``[kind, *fields]``; ``SchemaError`` otherwise."""
        if (type(wire) is not list and type(wire) is not tuple) or not wire:
            raise SchemaError(f"a {self.what} is an array starting with its kind")
        kind = wire[0]
        if type(kind) is not int or not 0 <= kind < len(self.messages):
            raise SchemaError(f"unknown {self.what} kind {kind!r}")
        return self.messages[kind].from_wire(wire)

    def describe(self) -> list[dict[str, Any]]:
        return [m.describe() for m in self.messages]


class CommandSchema(MessageCatalog):
    """Typed messages from a client to the rules (ready, pick a team, play a card)."""

    what = "command"


class EventSchema(MessageCatalog):
    """Typed messages from the rules to clients (a hit, a death, a card played)."""

    what = "event"


def check_unique_names(items: Sequence[Any], what: str) -> None:
    names = [item.name for item in items]
    if len(set(names)) != len(names):
        raise ValueError(f"two {what} types share a name: {names}")
