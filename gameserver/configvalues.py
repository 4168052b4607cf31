"""One setting's value from outside: its shape, read from TOML or from text, and checked.

A config file gives typed values (TOML has integers, floats, booleans, strings, arrays and
tables); the environment and the command line give text. Both are turned into the value a
``Config`` (or ``Mode``) field holds here, and checked against the field's own validator
before the ``Config`` is built, so an error can name the one key that is wrong and say
what is allowed. Checks between fields (``snapshot_divisor`` divides ``tick_rate``) stay
in ``Config`` itself.
"""

from __future__ import annotations

import enum
import math
import tomllib
from typing import Any

import attrs

from gameserver.config import Bound, Choice
from gameserver.errors import GameServerError


class ConfigError(GameServerError, ValueError):
    """A setting that cannot be used: where it came from, its key, and what is allowed."""

    def __init__(self, where: str, key: str, problem: str) -> None:
        self.where = where
        self.key = key
        self.problem = problem
        super().__init__(": ".join(part for part in (where, key, problem) if part))


@attrs.frozen
class Origin:
    """Where a value was given: ``server.toml:12`` and ``network.port``, or an env var."""

    where: str
    key: str = ""

    def error(self, problem: str) -> ConfigError:
        return ConfigError(self.where, self.key, problem)

    def __str__(self) -> str:
        return f"{self.where} ({self.key})" if self.key else self.where


@attrs.frozen
class Setting:
    """A value for one field, and where it came from (``parts``: its sub-keys' origins)."""

    value: Any
    origin: Origin
    parts: dict[str, Origin] = attrs.field(factory=dict)


class Kind(enum.Enum):
    INT = "an integer"
    FLOAT = "a number"
    BOOL = "true or false"
    TEXT = "text"
    TEXTS = "a list of texts"
    TABLE = "a table"
    MODES = "a table of modes"


@attrs.frozen
class Shape:
    kind: Kind
    optional: bool


_KINDS = {
    "int": Kind.INT,
    "float": Kind.FLOAT,
    "bool": Kind.BOOL,
    "str": Kind.TEXT,
    "tuple[str, ...]": Kind.TEXTS,
    "Any": Kind.TABLE,
    "tuple[Mode, ...]": Kind.MODES,
}

# An empty value means "not set" for an optional setting, but never for the token secret:
# an empty one is a mistake (a missing file in "$(cat ...)"), not a request for development
# mode, and Config refuses it.
_EMPTY_IS_A_VALUE = frozenset({"join_secret"})


def shape_of(field: attrs.Attribute[Any]) -> Shape:
    """The field's kind, from its annotation (a string: the modules use postponed ones)."""
    annotation = str(field.type)
    optional = annotation.endswith(" | None")
    kind = _KINDS.get(annotation.removesuffix(" | None"))
    if kind is None:
        raise TypeError(f"setting {field.name}: no reader for the type {annotation}")
    return Shape(kind, optional)


def allowed(field: attrs.Attribute[Any]) -> str:
    """What the field accepts, in words: ``an integer in 0..65535``."""
    shape = shape_of(field)
    words = shape.kind.value
    if isinstance(field.validator, Bound):
        words += f" {field.validator.allowed}"
    elif isinstance(field.validator, Choice):
        words = field.validator.allowed
    return words


def describe(value: object) -> str:
    """A value as the error shows it, with its TOML type where that is the problem."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"text {value!r}"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def from_toml(field: attrs.Attribute[Any], value: object) -> Any:
    """A TOML value as the field's value, or ``ValueError`` saying what is allowed."""
    shape = shape_of(field)
    kind = shape.kind
    integer = isinstance(value, int) and not isinstance(value, bool)
    fits = {
        Kind.INT: integer,
        Kind.FLOAT: integer or isinstance(value, float),
        Kind.BOOL: isinstance(value, bool),
        Kind.TEXT: isinstance(value, str),
        Kind.TEXTS: isinstance(value, list) and all(isinstance(item, str) for item in value),
        Kind.TABLE: isinstance(value, dict),
        Kind.MODES: False,  # read table by table (configfile.py)
    }[kind]
    if not fits:
        raise ValueError(f"expected {allowed(field)}, got {describe(value)}")
    converted: Any = value
    if kind is Kind.FLOAT:
        converted = _finite(float(value))  # type: ignore[arg-type]
    elif kind is Kind.TEXTS:
        converted = tuple(value)  # type: ignore[arg-type]
    elif kind is Kind.TEXT and value == "" and shape.optional:
        converted = None if field.name not in _EMPTY_IS_A_VALUE else value
    check(field, converted)
    return converted


def from_text(field: attrs.Attribute[Any], text: str) -> Any:
    """Text from the environment or a flag as the field's value, or ``ValueError``."""
    shape = shape_of(field)
    kind = shape.kind
    stripped = text.strip()
    value: Any
    if shape.optional and stripped == "" and field.name not in _EMPTY_IS_A_VALUE:
        return None
    try:
        if kind is Kind.INT:
            value = int(stripped)
        elif kind is Kind.FLOAT:
            value = _finite(float(stripped))
        elif kind is Kind.BOOL:
            value = _boolean(stripped)
        elif kind is Kind.TEXT:
            value = text
        elif kind is Kind.TEXTS:
            value = tuple(item.strip() for item in text.split(",") if item.strip())
        else:
            value = toml_value(text)
            if not isinstance(value, dict):
                raise ValueError
    except ValueError:
        example = "; a TOML inline table: {name = value}" if kind is Kind.TABLE else ""
        raise ValueError(f"expected {allowed(field)}{example}, got {text!r}") from None
    check(field, value)
    return value


def check(field: attrs.Attribute[Any], value: Any) -> None:
    """The field's own validator, its message without the field's name (the key says it)."""
    if field.validator is None or (value is None and shape_of(field).optional):
        return
    try:
        field.validator(None, field, value)
    except ValueError as error:
        raise ValueError(str(error).removeprefix(f"{field.name} ")) from None


def toml_value(text: str) -> Any:
    """One TOML value written alone (``{width = 500}``, ``[1, 2]``, ``"x"``)."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        raise ValueError(f"not a TOML value: {text!r}") from None


def _finite(number: float) -> float:
    """TOML and float() both read inf and nan, which no duration or rate may be."""
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {number!r}")
    return number


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in {"true", "1", "yes", "on"}:
        return True
    if lowered in {"false", "0", "no", "off"}:
        return False
    raise ValueError(text)
