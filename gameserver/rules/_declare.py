"""Declaring entity types and messages: plain classes whose fields carry their wire types.

A game declares each entity type, its input and each command and event as a class of
typed fields, in wire order::

    @rules.entity
    class Player:
        x: float = rules.fixed(16, 0, 1000, interpolate=True, position="x")
        hp: int = rules.integer(0, 100, default=100)
        cooldown: int = 0  # no wire type: the rules' own, never sent

``entity`` makes a mutable slotted attrs class (the rules change entities as they step),
``message`` a frozen one (inputs, commands and events are values). Both take keyword
arguments only, so defaults may sit anywhere. Fields declared with a wire type travel, in
declaration order; fields without one stay on the server and need a default (decoding
fills them with it). ``typing.dataclass_transform`` tells type checkers all of this.
"""

from __future__ import annotations

import enum as enum_module
from typing import Any, TypeVar, dataclass_transform

import attrs

from ._wiretypes import (
    Angle,
    BinaryAngle,
    Bool,
    Enum,
    Fixed,
    Flags,
    Int,
    Text,
    WireType,
)

C = TypeVar("C", bound=type)
_WIRE_KEY = "gameserver.rules.wire"
_NOTHING: Any = attrs.NOTHING


def field(wire_type: WireType[Any], *, default: Any = _NOTHING) -> Any:
    """A field of the given wire type (the helpers below build the common ones)."""
    if not isinstance(wire_type, WireType):
        raise TypeError(f"not a wire type: {wire_type!r}")
    return attrs.field(default=default, metadata={_WIRE_KEY: wire_type})


def integer(
    lo: int,
    hi: int,
    *,
    default: Any = _NOTHING,
    interpolate: bool = False,
    position: str | None = None,
) -> Any:
    """An integer in ``[lo, hi]``."""
    return field(Int(lo, hi, interpolate=interpolate, position=position), default=default)


def fixed(
    scale: float,
    lo: float,
    hi: float,
    *,
    default: Any = _NOTHING,
    interpolate: bool = False,
    position: str | None = None,
) -> Any:
    """A float in ``[lo, hi]``, sent as ``round(value * scale)``."""
    wire_type = Fixed(scale, lo, hi, interpolate=interpolate, position=position)
    return field(wire_type, default=default)


def angle(steps: int, *, default: Any = _NOTHING, interpolate: bool = False) -> Any:
    """Radians, sent in ``steps`` per turn."""
    return field(Angle(steps, interpolate=interpolate), default=default)


def binary_angle(
    steps: int, rules_steps: int = 65536, *, default: Any = _NOTHING, interpolate: bool = False
) -> Any:
    """An integer angle of ``rules_steps`` per turn, sent in ``steps`` per turn."""
    return field(BinaryAngle(steps, rules_steps, interpolate=interpolate), default=default)


def enum(enum_class: type[enum_module.IntEnum], *, default: Any = _NOTHING) -> Any:
    """One member of an ``IntEnum``."""
    return field(Enum(enum_class), default=default)


def flags(flag_class: type[enum_module.IntFlag], *, default: Any = _NOTHING) -> Any:
    """A set of ``IntFlag`` bits."""
    return field(Flags(flag_class), default=default)


def boolean(*, default: Any = _NOTHING) -> Any:
    """True or False."""
    return field(Bool(), default=default)


def text(max_chars: int, *, default: Any = _NOTHING) -> Any:
    """A string of at most ``max_chars`` printable characters."""
    return field(Text(max_chars), default=default)


def wire_fields(cls: type) -> tuple[tuple[str, WireType[Any]], ...]:
    """The ``(name, wire type)`` of each field of a declared class that travels, in order."""
    return tuple(
        (a.name, a.metadata[_WIRE_KEY]) for a in attrs.fields(cls) if _WIRE_KEY in a.metadata
    )


def _declare(cls: C, *, frozen: bool) -> C:
    if attrs.has(cls):
        raise TypeError(f"{cls.__name__} is already an attrs class: declare it with one decorator")
    if not cls.__name__.isidentifier() or cls.__name__.startswith("_"):
        raise ValueError(f"a declared class needs a public name, got {cls.__name__!r}")
    made: C = attrs.define(cls, kw_only=True, frozen=frozen, slots=True)
    for a in attrs.fields(made):
        if _WIRE_KEY in a.metadata:
            if a.name.startswith("_"):
                raise ValueError(
                    f"{made.__name__}.{a.name}: a field that travels needs a public name"
                )
        elif a.default is attrs.NOTHING:
            raise TypeError(
                f"{made.__name__}.{a.name} has no wire type, so it stays on the server and "
                "needs a default"
            )
    return made


@dataclass_transform(
    kw_only_default=True,
    field_specifiers=(
        attrs.field,
        field,
        integer,
        fixed,
        angle,
        binary_angle,
        enum,
        flags,
        boolean,
        text,
    ),
)
def entity(cls: C) -> C:
    """Declare an entity type: a mutable slotted class of typed fields, in wire order."""
    return _declare(cls, frozen=False)


@dataclass_transform(
    kw_only_default=True,
    frozen_default=True,
    field_specifiers=(
        attrs.field,
        field,
        integer,
        fixed,
        angle,
        binary_angle,
        enum,
        flags,
        boolean,
        text,
    ),
)
def message(cls: C) -> C:
    """Declare an input, command or event: a frozen slotted class of typed fields."""
    return _declare(cls, frozen=True)
