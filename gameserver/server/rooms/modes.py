"""Modes: the rules and settings a room is made with, chosen by name when joining.

The server always has the mode ``default``, made from the top-level settings
of ``Config`` (its game and settings, tick rate, room caps), whose permanent room is
also called ``default``. ``Config.modes`` adds more; rooms of those modes are
made on demand and close after staying empty for ``empty_room_grace_s``.

A mode's tick rate and seats left at 0 are the game's own (its rules class's
``tick_rate`` and ``max_players``); ``resolved`` fills them in once the game is loaded,
so every room, matchmaking and the status documents see the numbers the room runs with.
An explicit setting always wins.
"""

from __future__ import annotations

from typing import Any

import attrs

from gameserver.config import Config, Mode
from gameserver.rules import Rules

DEFAULT_MODE = "default"


def default_mode(config: Config) -> Mode:
    return Mode(
        name=DEFAULT_MODE,
        tick_rate=config.tick_rate,
        snapshot_divisor=config.snapshot_divisor,
        max_players=config.max_players_per_room,
        max_spectators=config.max_spectators_per_room,
        game=config.game,
        settings=config.game_settings,
    )


def all_modes(config: Config) -> dict[str, Mode]:
    modes = {DEFAULT_MODE: default_mode(config)}
    for mode in config.modes:
        modes[mode.name] = mode if mode.game else attrs.evolve(mode, game=config.game)
    return modes


def resolved(mode: Mode, rules: type[Rules[Any, Any]]) -> Mode:
    """The mode with the game's own tick rate and seats where it sets none (0)."""
    tick_rate = mode.tick_rate or rules.tick_rate
    if tick_rate % mode.snapshot_divisor:
        raise ValueError(
            f"mode {mode.name}: snapshot_divisor {mode.snapshot_divisor} must divide the tick "
            f"rate {tick_rate}" + ("" if mode.tick_rate else f" (game {rules.id}'s own)")
        )
    return attrs.evolve(
        mode, tick_rate=tick_rate, max_players=mode.max_players or rules.max_players
    )


def resolved_config(config: Config, default: Mode) -> Config:
    """The server's settings with the default room's tick rate and seats filled in."""
    return attrs.evolve(
        config, tick_rate=default.tick_rate, max_players_per_room=default.max_players
    )


def room_config(config: Config, mode: Mode) -> Config:
    """The server's settings with the mode's own where it has them (a ``resolved`` mode)."""
    return attrs.evolve(
        config,
        tick_rate=mode.tick_rate,
        snapshot_divisor=mode.snapshot_divisor,
        max_players_per_room=mode.max_players,
        max_spectators_per_room=mode.max_spectators,
        game=mode.game,
        game_settings=mode.settings,
    )
