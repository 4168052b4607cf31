"""Rebuilding a wire type from its description, strictly: descriptions arrive over the network.

``describe()`` on a wire type gives ``{"type": kind, ...parameters, "interpolate": bool}``
(plus ``"position"`` when set). ``wire_type_from_description`` checks the exact set of
keys for the kind, rebuilds the type through its ordinary constructor (which checks every
parameter as a declaration would), and turns any refusal into ``SchemaError``.
"""

from __future__ import annotations

import enum
import keyword
from collections.abc import Callable, Mapping
from typing import Any

from ._errors import SchemaError
from ._wiretypes import (
    SAFE_INT_MAX,
    Angle,
    Bool,
    Enum,
    Fixed,
    Flags,
    Int,
    Text,
    WireType,
)

_HINT_KEYS = frozenset({"type", "interpolate", "position"})


def _is_identifier(name: object) -> bool:
    # Any identifier: a private class name (``_Flags``) describes and rebuilds as well.
    return type(name) is str and name.isidentifier() and not keyword.iskeyword(name)


def _members(doc: Mapping[str, Any], base: type[enum.IntEnum] | type[enum.IntFlag]) -> Any:
    name, members = doc.get("class"), doc.get("members")
    if not _is_identifier(name) or type(members) is not dict or not members:
        raise ValueError("needs a class name and a non-empty map of members")
    for key, value in members.items():
        if not _is_identifier(key) or type(value) is not int:
            raise ValueError("members map identifiers to integers")
    if len(set(members.values())) != len(members):
        raise ValueError("member values must be distinct")
    functional_api: Callable[..., Any] = base  # the class-building call mypy cannot follow
    return functional_api(name, members)


_PARAMS: dict[str, tuple[frozenset[str], Callable[[Mapping[str, Any]], WireType[Any]]]] = {}


def _register(kind: str, keys: set[str], build: Callable[[Mapping[str, Any]], Any]) -> None:
    _PARAMS[kind] = (frozenset(keys) | _HINT_KEYS, build)


def _build_fixed(doc: Mapping[str, Any]) -> WireType[Any]:
    scale, wlo, whi = doc["scale"], doc["min"], doc["max"]
    if type(wlo) is not int or type(whi) is not int:
        raise ValueError("fixed min and max are wire integers")
    if type(scale) not in (int, float) or not 0 < scale <= SAFE_INT_MAX:
        raise ValueError("fixed scale must be a positive number")
    hints = _hints(doc)
    wire_type = Fixed(scale, wlo / scale, whi / scale, **hints)
    if (wire_type.wire_lo, wire_type.wire_hi) != (wlo, whi):
        raise ValueError("fixed bounds do not survive the scale")
    return wire_type


def _hints(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {"interpolate": doc.get("interpolate", False), "position": doc.get("position")}


_register("int", {"min", "max"}, lambda d: Int(d["min"], d["max"], **_hints(d)))
_register("fixed", {"scale", "min", "max"}, _build_fixed)
_register("angle", {"steps"}, lambda d: Angle(d["steps"], **_hints(d)))
_register("enum", {"class", "members"}, lambda d: Enum(_members(d, enum.IntEnum), **_hints(d)))
_register("flags", {"class", "members"}, lambda d: Flags(_members(d, enum.IntFlag), **_hints(d)))
_register("bool", set(), lambda d: Bool(**_hints(d)))
_register("text", {"max_chars"}, lambda d: Text(d["max_chars"], **_hints(d)))


def wire_type_from_description(doc: object) -> WireType[Any]:
    """Rebuild a wire type from ``describe()``'s output; ``SchemaError`` if it is malformed.

    Enums and flag sets come back as new ``IntEnum`` / ``IntFlag`` classes with the same
    names and members; ``BinaryAngle`` comes back as ``Angle`` (radians).
    """
    if type(doc) is not dict or not all(type(k) is str for k in doc):
        raise SchemaError("a field description must be a map with text keys")
    kind = doc.get("type")
    entry = _PARAMS.get(kind) if type(kind) is str else None
    if entry is None:
        raise SchemaError(f"unknown field type {doc.get('type')!r}")
    keys, build = entry
    if not keys >= doc.keys() or not (keys - _HINT_KEYS) <= doc.keys():
        raise SchemaError(f"a {doc['type']} field has exactly the keys {sorted(keys)}")
    try:
        return build(doc)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"bad {doc['type']} field: {exc}") from None
