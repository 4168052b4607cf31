"""Modes: the rules and settings a room is made with, chosen by name when joining.

The server always has the mode ``default``, made from the top-level settings
of ``Config`` (its game and settings, tick rate, room caps), whose permanent room is
also called ``default``. ``Config.modes`` adds more; rooms of those modes are
made on demand and close after staying empty for ``empty_room_grace_s``.
"""

from __future__ import annotations

import attrs

from gameserver.config import Config, Mode

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


def room_config(config: Config, mode: Mode) -> Config:
    """The server's settings with the mode's own where it has them."""
    return attrs.evolve(
        config,
        tick_rate=mode.tick_rate,
        snapshot_divisor=mode.snapshot_divisor,
        max_players_per_room=mode.max_players,
        max_spectators_per_room=mode.max_spectators,
        game=mode.game,
        game_settings=mode.settings,
    )
