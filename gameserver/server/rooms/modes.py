"""Modes: the rules and settings a room is made with, chosen by name when joining.

The server always has the mode ``default``, made from ``Config``'s ``game`` and
``rooms`` sections (its game and settings, tick rate, room caps), whose permanent room is
also called ``default``. ``Config.modes`` adds more; rooms of those modes are
made on demand and close after staying empty for ``empty_room_grace_s``.

A mode holds the same two parts the default one takes from ``Config``: a ``GameSection``
and a ``RoomShape``. A room's ``Config`` is the server's with those two parts replaced
by its mode's (``room_config``).

A mode's tick rate and seats left at 0 are the game's own (its rules class's
``tick_rate`` and ``max_players``); ``resolved`` fills them in once the game is loaded,
so every room, matchmaking and the status documents see the numbers the room runs with.
An explicit setting always wins.
"""

from __future__ import annotations

from typing import Any

import attrs

from gameserver.config import Config, Mode, RoomShape
from gameserver.rules import Rules

DEFAULT_MODE = "default"


def default_mode(config: Config) -> Mode:
    return Mode(DEFAULT_MODE, game=config.game, room=shape_of(config))


def shape_of(config: Config) -> RoomShape:
    """The room shape in ``config.rooms`` (a ``RoomShape`` with more besides)."""
    fields = attrs.fields(RoomShape)
    return RoomShape(**{field.name: getattr(config.rooms, field.name) for field in fields})


def all_modes(config: Config) -> dict[str, Mode]:
    modes = {DEFAULT_MODE: default_mode(config)}
    for mode in config.modes:
        if not mode.game.game:  # the server's game, with the mode's settings
            mode = attrs.evolve(mode, game=attrs.evolve(mode.game, game=config.game.game))
        modes[mode.name] = mode
    return modes


def resolved(mode: Mode, rules: type[Rules[Any, Any]]) -> Mode:
    """The mode with the game's own tick rate and seats where it sets none (0)."""
    room = mode.room
    tick_rate = room.tick_rate or rules.tick_rate
    if tick_rate % room.snapshot_divisor:
        raise ValueError(
            f"mode {mode.name}: snapshot_divisor {room.snapshot_divisor} must divide the tick "
            f"rate {tick_rate}" + ("" if room.tick_rate else f" (game {rules.id}'s own)")
        )
    max_players = room.max_players_per_room or rules.max_players
    return attrs.evolve(
        mode,
        room=attrs.evolve(room, tick_rate=tick_rate, max_players_per_room=max_players),
    )


def room_config(config: Config, mode: Mode) -> Config:
    """The server's settings with the mode's game and room shape (a ``resolved`` mode)."""
    shape = attrs.asdict(mode.room, recurse=False)
    return attrs.evolve(config, game=mode.game, rooms=attrs.evolve(config.rooms, **shape))
