"""The arena's settings: one frozen attrs class, validated when a mode is configured.

Field order is part of the wire: ``client_params`` sends the scalar settings in this
order (``docs/protocol.md`` 7.5), so new fields go at the end.
"""

from __future__ import annotations

from typing import Any

import attrs

from ._schema import MAX_HP, MAX_WORLD


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _in(lo: float, hi: float, *, open_lo: bool = False) -> Any:
    """A validator: a number in [lo, hi] (or (lo, hi] with ``open_lo``)."""
    low = "(" if open_lo else "["

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not _number(value) or not (
            (lo < value if open_lo else lo <= value) and value <= hi  # type: ignore[operator]
        ):
            raise ValueError(f"arena setting {attribute.name} must be in {low}{lo}, {hi}], "
                             f"got {value!r}")  # fmt: skip

    return check


def _whole(lo: int, hi: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if type(value) is not int or not lo <= value <= hi:
            raise ValueError(f"arena setting {attribute.name} must be an integer in "
                             f"[{lo}, {hi}], got {value!r}")  # fmt: skip

    return check


def _radius_range(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if (
        type(value) is not tuple
        or len(value) != 2
        or not all(_number(v) for v in value)
        or not 0 < value[0] <= value[1] <= MAX_WORLD
    ):
        raise ValueError(f"arena setting obstacle_radius must be (min, max) with "
                         f"0 < min <= max, got {value!r}")  # fmt: skip


def _pair(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value  # TOML and CBOR give lists


def _flag(value: object) -> object:
    # client_params() sends booleans as 0/1, and ArenaSettings(**params) must rebuild them.
    return bool(value) if type(value) is int and value in (0, 1) else value


_SECONDS = 3600.0  # an hour: longer timers are not what anyone meant
_SPEED = MAX_WORLD * 100  # units per second


@attrs.frozen
class ArenaSettings:
    # World size in units; origin top-left, +y down.
    width: float = attrs.field(default=1000.0, validator=_in(0, MAX_WORLD, open_lo=True))
    height: float = attrs.field(default=1000.0, validator=_in(0, MAX_WORLD, open_lo=True))
    player_radius: float = attrs.field(default=16.0, validator=_in(0, MAX_WORLD, open_lo=True))
    # Units per second.
    player_speed: float = attrs.field(default=200.0, validator=_in(0, _SPEED))
    max_hp: int = attrs.field(default=100, validator=_whole(1, MAX_HP))
    # Minimum time between two shots of one player.
    fire_cooldown_s: float = attrs.field(default=0.4, validator=_in(0, _SECONDS))
    # Units per second.
    projectile_speed: float = attrs.field(default=600.0, validator=_in(0, _SPEED))
    projectile_radius: float = attrs.field(default=4.0, validator=_in(0, MAX_WORLD))
    projectile_lifetime_s: float = attrs.field(default=1.0, validator=_in(0, _SECONDS))
    projectile_damage: int = attrs.field(default=25, validator=_whole(0, MAX_HP))
    respawn_delay_s: float = attrs.field(default=2.0, validator=_in(0, _SECONDS))
    # Fewer are placed if the world is too crowded to fit them.
    obstacle_count: int = attrs.field(default=8, validator=_whole(0, 10_000))
    # (min, max) radius of an obstacle.
    obstacle_radius: tuple[float, float] = attrs.field(
        default=(30.0, 70.0), converter=_pair, validator=_radius_range
    )
    kill_score: int = attrs.field(default=1, validator=_whole(0, 1_000_000))
    # The hitscan weapon (HITSCAN button): instant, along the aim, up to hitscan_range.
    hitscan_damage: int = attrs.field(default=20, validator=_whole(0, MAX_HP))
    hitscan_range: float = attrs.field(default=700.0, validator=_in(0, MAX_WORLD))
    hitscan_cooldown_s: float = attrs.field(default=0.5, validator=_in(0, _SECONDS))
    # Judge hitscan shots where the shooter saw its targets (_hitscan.py), rewinding at
    # most max_rewind_s; False judges them at the current positions.
    lag_compensation: bool = attrs.field(
        default=True, converter=_flag, validator=attrs.validators.instance_of(bool)
    )
    max_rewind_s: float = attrs.field(default=0.2, validator=_in(0, 60.0))
