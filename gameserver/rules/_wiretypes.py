"""Wire types: how one field of the rules' state travels, and how it is checked on arrival.

Theory of operation
-------------------
A wire type maps a value as the rules hold it (a float position, an enum member, radians)
to a CBOR-simple wire value (an integer, or a short text string for ``Text``) and back:

- ``to_wire`` quantizes the rules' own value. A value outside the declared range is a bug
  in the rules and raises ``EncodeError`` (a ``ValueError``): the declaration is the
  promise clients' strict decoders rely on, so nothing outside it is ever sent. Angles are
  the exception: they wrap, as angles do.
- ``from_wire`` is strict, because its input is untrusted (a client's input): the
  exact Python type (``bool`` is not an integer, ``1.0`` is not ``1``), the range, printable
  text. Anything else raises ``SchemaError`` (close code 4002), and nothing else escapes.
- ``describe`` is a CBOR-able dict from which ``wire_type_from_description`` rebuilds an
  equivalent type (so a client in any language can decode the field), with the hints:
  ``interpolate`` (clients interpolate the field between snapshots instead of snapping it;
  numeric types only) and ``position`` (``"x"``, ``"y"`` or ``"z"``: the field is that
  coordinate of the entity in world units, so interest management finds it generically).

Each type builds its two converters once, as closures over precomputed constants, because
they run for every field of every entity every tick.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

import attrs

from ._errors import EncodeError, SchemaError

T = TypeVar("T")
E = TypeVar("E", bound=enum.IntEnum)
F = TypeVar("F", bound=enum.IntFlag)

WireValue = int | str
Encoder = Callable[[Any], WireValue]
Decoder = Callable[[object], Any]

SAFE_INT_MAX = 2**53 - 1  # what a JavaScript number holds exactly: every wire int stays within
POSITION_ROLES = ("x", "y", "z")
TEXT_MAX_CHARS = 1024  # a short string: longer text does not belong in every snapshot
_FLAG_TABLE_BITS = 10  # flag sets up to this many bits decode through a precomputed table
_TWO_PI = 2.0 * math.pi
_FINITE = 1e300  # radians beyond this are not an angle anyone meant


def _check_int_bound(value: object, what: str) -> int:
    if type(value) is not int or not -SAFE_INT_MAX <= value <= SAFE_INT_MAX:
        raise ValueError(f"{what} must be an integer within +-(2**53 - 1), got {value!r}")
    return value


@attrs.frozen
class WireType(Generic[T]):
    """Base of every wire type: the hints, and converters built once at construction."""

    kind: ClassVar[str] = ""
    numeric: ClassVar[bool] = False  # may be interpolated
    spatial: ClassVar[bool] = False  # may be a position

    interpolate: bool = attrs.field(default=False, kw_only=True)
    position: str | None = attrs.field(default=None, kw_only=True)
    _encode: Encoder = attrs.field(init=False, eq=False, repr=False)
    _decode: Decoder = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if type(self.interpolate) is not bool:
            raise TypeError("interpolate must be True or False")
        if self.interpolate and not self.numeric:
            raise ValueError(f"a {self.kind} field cannot be interpolated")
        if self.position is not None and (self.position not in POSITION_ROLES or not self.spatial):
            raise ValueError(f"position must be one of {POSITION_ROLES}, on an int or fixed field")
        encode, decode = self._converters()
        object.__setattr__(self, "_encode", encode)
        object.__setattr__(self, "_decode", decode)

    def _converters(self) -> tuple[Encoder, Decoder]:
        raise NotImplementedError

    def _params(self) -> dict[str, Any]:
        raise NotImplementedError

    def inline_encoder(self, value: str, out: str, tag: str, ns: dict[str, Any]) -> tuple[str, str]:
        """Source for a compiled encoder: a statement setting ``out`` from the expression
        ``value``, and a condition (or "") that holds when the result is a valid wire value.

        The statement may raise TypeError, ValueError, OverflowError or KeyError on a bad
        value; the caller then falls back to ``to_wire`` for the precise error. ``tag``
        prefixes any name this puts into the namespace ``ns``. This default calls ``to_wire``.
        """
        ns[f"{tag}enc"] = self._encode
        return f"{out} = {tag}enc({value})", ""

    @property
    def encoder(self) -> Encoder:
        """``to_wire`` as a plain function, for callers that convert many values."""
        return self._encode

    @property
    def decoder(self) -> Decoder:
        """``from_wire`` as a plain function."""
        return self._decode

    def to_wire(self, value: T) -> WireValue:
        """The wire value of the rules' ``value``; ``EncodeError`` if it is out of range."""
        return self._encode(value)

    def from_wire(self, raw: object) -> T:
        """The rules' value of an untrusted wire value; ``SchemaError`` if it does not fit."""
        value: T = self._decode(raw)
        return value

    def describe(self) -> dict[str, Any]:
        """A CBOR-able description: ``wire_type_from_description`` rebuilds this type."""
        doc: dict[str, Any] = {"type": self.kind, **self._params()}
        doc["interpolate"] = self.interpolate
        if self.position is not None:
            doc["position"] = self.position
        return doc


@attrs.frozen
class Int(WireType[int]):
    """An integer in ``[lo, hi]``, sent as itself."""

    kind: ClassVar[str] = "int"
    numeric: ClassVar[bool] = True
    spatial: ClassVar[bool] = True

    lo: int
    hi: int

    def _converters(self) -> tuple[Encoder, Decoder]:
        lo = _check_int_bound(self.lo, "Int lo")
        hi = _check_int_bound(self.hi, "Int hi")
        if lo > hi:
            raise ValueError(f"Int needs lo <= hi, got [{lo}, {hi}]")
        reason = f"must be an integer in [{lo}, {hi}]"

        def encode(value: Any) -> int:
            if type(value) is int and lo <= value <= hi:
                return value
            if isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi:
                return int(value)  # an IntEnum member or another int subclass
            raise EncodeError(f"{reason}, got {value!r}")

        def decode(raw: object) -> int:
            if type(raw) is int and lo <= raw <= hi:
                return raw
            raise SchemaError(reason)

        return encode, decode

    def _params(self) -> dict[str, Any]:
        return {"min": self.lo, "max": self.hi}

    def inline_encoder(self, value: str, out: str, tag: str, ns: dict[str, Any]) -> tuple[str, str]:
        return f"{out} = {value}", f"type({out}) is int and {self.lo!r} <= {out} <= {self.hi!r}"


def _fixed_wire_bound(value: object, scale: float, what: str) -> int:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"Fixed {what} must be a finite number, got {value!r}")
    scaled = value * scale
    if not abs(scaled) <= SAFE_INT_MAX:
        raise ValueError(f"Fixed {what} * scale must be within +-(2**53 - 1)")
    return round(scaled)


@attrs.frozen
class Fixed(WireType[float]):
    """A number in ``[lo, hi]`` held as a float, sent as the integer ``round(value * scale)``.

    The wire range is ``[round(lo * scale), round(hi * scale)]``; decoding gives
    ``wire / scale``, within ``0.5 / scale`` of what was encoded. ``round`` is Python's
    (half to even), as ``docs/protocol.md`` states for positions.
    """

    kind: ClassVar[str] = "fixed"
    numeric: ClassVar[bool] = True
    spatial: ClassVar[bool] = True

    scale: float
    lo: float
    hi: float

    @property
    def wire_lo(self) -> int:
        return round(self.lo * self.scale)

    @property
    def wire_hi(self) -> int:
        return round(self.hi * self.scale)

    def _converters(self) -> tuple[Encoder, Decoder]:
        scale = self.scale
        if type(scale) not in (int, float) or not 0 < scale <= SAFE_INT_MAX:
            raise ValueError(f"Fixed scale must be a positive number, got {scale!r}")
        wlo = _fixed_wire_bound(self.lo, scale, "lo")
        whi = _fixed_wire_bound(self.hi, scale, "hi")
        if wlo > whi:
            raise ValueError(f"Fixed needs lo <= hi, got [{self.lo}, {self.hi}]")
        # Compared before rounding, so NaN and infinities fail here and round() never sees them.
        slo, shi = wlo - 1.0, whi + 1.0
        reason = f"must be a number in [{self.lo}, {self.hi}] (x{scale} on the wire)"
        wire_reason = f"must be an integer in [{wlo}, {whi}] (a number x{scale})"

        def encode(value: Any) -> int:
            if type(value) is float or type(value) is int:
                scaled = value * scale
                if slo <= scaled <= shi:
                    q: int = round(scaled)
                    if wlo <= q <= whi:
                        return q
            raise EncodeError(f"{reason}, got {value!r}")

        def decode(raw: object) -> float:
            if type(raw) is int and wlo <= raw <= whi:
                return raw / scale
            raise SchemaError(wire_reason)

        return encode, decode

    def _params(self) -> dict[str, Any]:
        return {"scale": self.scale, "min": self.wire_lo, "max": self.wire_hi}

    def inline_encoder(self, value: str, out: str, tag: str, ns: dict[str, Any]) -> tuple[str, str]:
        raw = f"{tag}raw"
        return (
            f"{raw} = {value}; {out} = round({raw} * {self.scale!r})",
            f"(type({raw}) is float or type({raw}) is int) "
            f"and {self.wire_lo!r} <= {out} <= {self.wire_hi!r}",
        )


def _check_steps(steps: object, what: str) -> int:
    if type(steps) is not int or not 2 <= steps <= SAFE_INT_MAX:
        raise ValueError(f"{what} must be an integer >= 2, got {steps!r}")
    return steps


@attrs.frozen
class Angle(WireType[float]):
    """An angle held in radians, sent as ``round(radians / 2pi * steps) mod steps``.

    Decoding gives ``wire * 2pi / steps`` in ``[0, 2pi)``. Clients interpolating it go the
    short way round.
    """

    kind: ClassVar[str] = "angle"
    numeric: ClassVar[bool] = True

    steps: int

    def _converters(self) -> tuple[Encoder, Decoder]:
        steps = _check_steps(self.steps, "Angle steps")
        to_steps = steps / _TWO_PI
        to_radians = _TWO_PI / steps
        reason = f"must be an integer in [0, {steps - 1}] (1/{steps} turn)"

        def encode(value: Any) -> int:
            if (type(value) is float or type(value) is int) and -_FINITE < value < _FINITE:
                q: int = round(value * to_steps) % steps
                return q
            raise EncodeError(f"must be a finite number of radians, got {value!r}")

        def decode(raw: object) -> float:
            if type(raw) is int and 0 <= raw < steps:
                return raw * to_radians
            raise SchemaError(reason)

        return encode, decode

    def _params(self) -> dict[str, Any]:
        return {"steps": self.steps}

    def inline_encoder(self, value: str, out: str, tag: str, ns: dict[str, Any]) -> tuple[str, str]:
        raw = f"{tag}raw"
        to_steps = self.steps / _TWO_PI
        return (
            f"{raw} = {value}; {out} = round({raw} * {to_steps!r}) % {self.steps!r}",
            f"(type({raw}) is float or type({raw}) is int)",
        )


@attrs.frozen
class BinaryAngle(WireType[int]):
    """An angle the rules hold as an integer of ``rules_steps`` per turn (exact, deterministic).

    The wire carries ``steps`` per turn: ``(value mod rules_steps) * steps // rules_steps``,
    the top bits when both are powers of two (``aim >> 8`` for 65536 and 256). Decoding
    gives the smallest rules value that encodes to the wire value. It describes itself as
    an ``Angle(steps)``: how the rules hold it is nobody else's business.
    """

    kind: ClassVar[str] = "angle"
    numeric: ClassVar[bool] = True

    steps: int
    rules_steps: int = 65536

    def _converters(self) -> tuple[Encoder, Decoder]:
        steps = _check_steps(self.steps, "BinaryAngle steps")
        rules_steps = _check_steps(self.rules_steps, "BinaryAngle rules_steps")
        if steps > rules_steps:
            raise ValueError("BinaryAngle cannot send more steps than the rules hold")
        reason = f"must be an integer in [0, {steps - 1}] (1/{steps} turn)"

        def encode(value: Any) -> int:
            if type(value) is int or (isinstance(value, int) and not isinstance(value, bool)):
                return (int(value) % rules_steps) * steps // rules_steps
            raise EncodeError(f"must be an integer (1/{rules_steps} turn), got {value!r}")

        def decode(raw: object) -> int:
            if type(raw) is int and 0 <= raw < steps:
                return -(-raw * rules_steps // steps)
            raise SchemaError(reason)

        return encode, decode

    def _params(self) -> dict[str, Any]:
        return {"steps": self.steps}

    def inline_encoder(self, value: str, out: str, tag: str, ns: dict[str, Any]) -> tuple[str, str]:
        n, rules_n = self.steps, self.rules_steps
        raw = f"{tag}raw"
        if n & (n - 1) == 0 and rules_n & (rules_n - 1) == 0:  # powers of two: the top bits
            shift = rules_n.bit_length() - n.bit_length()
            expr = f"({raw} & {rules_n - 1}) >> {shift}"
        else:
            expr = f"({raw} % {rules_n}) * {n} // {rules_n}"
        return f"{raw} = {value}; {out} = {expr}", f"type({raw}) is int"


def _check_members(cls: object, base: type[enum.Enum], what: str) -> dict[str, int]:
    if not isinstance(cls, type) or not issubclass(cls, base):
        raise TypeError(f"{what} needs an {base.__name__} class, got {cls!r}")
    # Iterating the class skips aliases (and, for flags, composite and zero members).
    members = {m.name: int(m.value) for m in cls}
    if not members:
        raise ValueError(f"{what} of {cls.__name__} needs at least one member")
    for name, value in members.items():
        _check_int_bound(value, f"{cls.__name__}.{name}")
    return members


@attrs.frozen
class Enum(WireType[E]):
    """One member of an ``IntEnum``, sent as its integer value."""

    kind: ClassVar[str] = "enum"

    enum_class: type[E]

    def _converters(self) -> tuple[Encoder, Decoder]:
        cls = self.enum_class
        _check_members(cls, enum.IntEnum, "Enum")
        by_value: dict[int, E] = {int(m): m for m in cls}
        # Keyed by ints; members hash and compare as their ints, so both look up.
        to_wire: dict[object, int] = {int(m): int(m) for m in cls}
        reason = f"must be one of {sorted(by_value)} ({cls.__name__})"

        def encode(value: Any) -> int:
            if type(value) is not bool:
                try:
                    return to_wire[value]
                except (KeyError, TypeError):
                    pass
            raise EncodeError(f"{reason}, got {value!r}")

        def decode(raw: object) -> E:
            if type(raw) is int:
                member = by_value.get(raw)
                if member is not None:
                    return member
            raise SchemaError(reason)

        return encode, decode

    def inline_encoder(self, value: str, out: str, tag: str, ns: dict[str, Any]) -> tuple[str, str]:
        ns[f"{tag}table"] = {int(m): int(m) for m in self.enum_class}
        raw = f"{tag}raw"
        return f"{raw} = {value}; {out} = {tag}table[{raw}]", f"type({raw}) is not bool"

    def _params(self) -> dict[str, Any]:
        return {"class": self.enum_class.__name__, "members": _check_members(
            self.enum_class, enum.IntEnum, "Enum")}  # fmt: skip


@attrs.frozen
class Flags(WireType[F]):
    """A set of ``IntFlag`` bits, sent as their integer; undeclared bits are refused."""

    kind: ClassVar[str] = "flags"

    flag_class: type[F]

    def _converters(self) -> tuple[Encoder, Decoder]:
        cls = self.flag_class
        members = _check_members(cls, enum.IntFlag, "Flags")
        mask = 0
        for name, value in members.items():
            if value <= 0:
                raise ValueError(f"Flags member {cls.__name__}.{name} must be positive")
            mask |= value
        reason = f"must be an integer of the bits {mask:#x} ({cls.__name__})"
        table: tuple[F, ...] | None = None
        if mask.bit_length() <= _FLAG_TABLE_BITS:
            table = tuple(cls(v) if v & ~mask == 0 else cls(0) for v in range(mask + 1))

        def encode(value: Any) -> int:
            if isinstance(value, int) and not isinstance(value, bool):
                v = int(value)
                if v >= 0 and not v & ~mask:
                    return v
            raise EncodeError(f"{reason}, got {value!r}")

        def decode(raw: object) -> F:
            if type(raw) is int and raw >= 0 and not raw & ~mask:
                return table[raw] if table is not None else cls(raw)
            raise SchemaError(reason)

        return encode, decode

    def inline_encoder(self, value: str, out: str, tag: str, ns: dict[str, Any]) -> tuple[str, str]:
        ns[f"{tag}cls"] = self.flag_class
        unknown_bits = ~sum(_check_members(self.flag_class, enum.IntFlag, "Flags").values())
        raw = f"{tag}raw"
        return (
            f"{raw} = {value}; {out} = int({raw})",
            f"(type({raw}) is {tag}cls or type({raw}) is int) "
            f"and {out} >= 0 and not {out} & {unknown_bits}",
        )

    def _params(self) -> dict[str, Any]:
        return {"class": self.flag_class.__name__, "members": _check_members(
            self.flag_class, enum.IntFlag, "Flags")}  # fmt: skip


@attrs.frozen
class Bool(WireType[bool]):
    """``True`` or ``False``, sent as 1 or 0."""

    kind: ClassVar[str] = "bool"

    def _converters(self) -> tuple[Encoder, Decoder]:
        def encode(value: Any) -> int:
            if value is True:
                return 1
            if value is False:
                return 0
            raise EncodeError(f"must be True or False, got {value!r}")

        def decode(raw: object) -> bool:
            if type(raw) is int and (raw == 0 or raw == 1):
                return raw == 1
            raise SchemaError("must be 0 or 1")

        return encode, decode

    def _params(self) -> dict[str, Any]:
        return {}

    def inline_encoder(self, value: str, out: str, tag: str, ns: dict[str, Any]) -> tuple[str, str]:
        raw = f"{tag}raw"
        return f"{raw} = {value}; {out} = 1 if {raw} is True else 0", f"type({raw}) is bool"


@attrs.frozen
class Text(WireType[str]):
    """A string of at most ``max_chars`` printable characters, sent as CBOR text."""

    kind: ClassVar[str] = "text"

    max_chars: int

    def _converters(self) -> tuple[Encoder, Decoder]:
        n = self.max_chars
        if type(n) is not int or not 1 <= n <= TEXT_MAX_CHARS:
            raise ValueError(f"Text max_chars must be an integer in [1, {TEXT_MAX_CHARS}]")
        reason = f"must be text of at most {n} printable characters"

        def encode(value: Any) -> str:
            if type(value) is str and len(value) <= n and value.isprintable():
                return value
            raise EncodeError(f"{reason}, got {value!r}")

        def decode(raw: object) -> str:
            if type(raw) is str and len(raw) <= n and raw.isprintable():
                return raw
            raise SchemaError(reason)

        return encode, decode

    def _params(self) -> dict[str, Any]:
        return {"max_chars": self.max_chars}

    def inline_encoder(self, value: str, out: str, tag: str, ns: dict[str, Any]) -> tuple[str, str]:
        return (
            f"{out} = {value}",
            f"type({out}) is str and len({out}) <= {self.max_chars} and {out}.isprintable()",
        )
