"""The effective configuration: defaults, a config file, the environment and flags, layered.

Precedence, lowest first: the defaults (``Config``'s, or a command's own, such as serve's
bundled web root), the config file (``configfile.py``), the environment
(``GAMESERVER_<FIELD>``, plus the older names some fields keep, such as
``GAMESERVER_SECRET``), then the command-line flags (``cliflags.py``). A later layer
replaces a value of an earlier one whole (a table included). Each value keeps its origin,
so an error found only when the ``Config`` is built (``snapshot_divisor`` must divide
``tick_rate``) still names where the offending value came from, and ``gameserver config``
can say where each setting was given.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from gameserver.config import Config, Mode, about, setting_fields
from gameserver.configfile import read_mode
from gameserver.configvalues import (
    ConfigError,
    Kind,
    Origin,
    Setting,
    from_text,
    shape_of,
    toml_value,
)

ENV_PREFIX = "GAMESERVER_"
# The config file's path (``--config``'s default): not a setting itself.
CONFIG_ENV_VAR = "GAMESERVER_CONFIG"
DEFAULT = Origin("default")

log = logging.getLogger("gameserver.config")


def env_names(field: attrs.Attribute[Any]) -> tuple[str, ...]:
    """The environment variables of a field, the first found wins."""
    return (*about(field).env, ENV_PREFIX + field.name.upper())


def read_env(env: Mapping[str, str]) -> dict[str, Setting]:
    """The settings the environment gives; variables of other names are ignored."""
    settings: dict[str, Setting] = {}
    for field in setting_fields():
        name = next((name for name in env_names(field) if name in env), None)
        if name is None:
            continue
        origin = Origin("environment", name)
        try:
            if shape_of(field).kind is Kind.MODES:
                value: Any = _modes_from_text(env[name], origin)
            else:
                value = from_text(field, env[name])
        except ValueError as error:
            if isinstance(error, ConfigError):
                raise
            raise origin.error(str(error)) from None
        settings[field.name] = Setting(value, origin)
    _warn_of_strangers(env)
    return settings


def _warn_of_strangers(env: Mapping[str, str]) -> None:
    """A GAMESERVER_ variable that is no setting is most likely a misspelt one."""
    known = {name for field in setting_fields() for name in env_names(field)}
    known.add(CONFIG_ENV_VAR)
    for name in sorted(env):
        if name.startswith(ENV_PREFIX) and name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            log.warning("%s is not a setting and is ignored%s", name, hint)


def _modes_from_text(text: str, origin: Origin) -> tuple[Mode, ...]:
    """Modes as one TOML inline table: ``{duel = {game = "arena", max_players = 2}}``."""
    table = toml_value(text)
    if not isinstance(table, dict):
        raise origin.error('expected a TOML inline table of modes: {NAME = {game = "GAME"}}')
    return tuple(read_mode(name, values, lambda *path: origin) for name, values in table.items())


@attrs.frozen
class Loaded:
    """The effective ``Config`` and where each setting that is not a default came from."""

    config: Config
    given: dict[str, Setting]

    def origin(self, field_name: str) -> Origin:
        found = self.given.get(field_name)
        return DEFAULT if found is None else found.origin


def merge(layers: Iterable[Mapping[str, Setting]]) -> dict[str, Setting]:
    """The layers' settings, later layers winning."""
    merged: dict[str, Setting] = {}
    for layer in layers:
        merged.update(layer)
    return merged


_WORD = re.compile(r"[a-z_][a-z0-9_]*")


def build(layers: Iterable[Mapping[str, Setting]], base: Config | None = None) -> Loaded:
    """The ``Config`` of ``base`` (default: ``Config()``) with the layers' settings."""
    given = merge(layers)
    if "view_ring" in given and "inner_ring" not in given:
        # A smaller view ring takes the inner ring down with it unless that was set too.
        inner = min((base or Config()).interest.inner_ring, given["view_ring"].value)
        given["inner_ring"] = Setting(inner, given["view_ring"].origin)
    values = {name: setting.value for name, setting in given.items()}
    try:
        config = Config.of(**values) if base is None else base.replace(**values)
    except ValueError as error:
        raise _placed(str(error), given) from None
    return Loaded(config, given)


def _placed(message: str, given: Mapping[str, Setting]) -> ConfigError:
    """A ``Config`` error at the origin of the first given setting its message names."""
    for word in _WORD.findall(message):
        if word in given:
            return given[word].origin.error(message)
    return ConfigError("configuration", "", message)


def check_games(loaded: Loaded) -> None:
    """Every mode's game found and its settings valid, or ``ConfigError`` where it was set."""
    from gameserver.rules.loading import GameLoadError, load_rules, make_settings

    config = loaded.config
    rooms = [(config.game.game, config.game.game_settings, loaded.origin("game"),
              loaded.origin("game_settings"))]  # fmt: skip
    modes = loaded.given.get("modes")
    for mode in config.modes:
        parts = modes.parts if modes is not None else {}
        rooms.append((
            mode.game.game or config.game.game,
            mode.game.game_settings,
            parts.get(f"{mode.name}.game", loaded.origin("modes" if mode.game.game else "game")),
            parts.get(f"{mode.name}.settings", loaded.origin("modes")),
        ))  # fmt: skip
    for game, settings, game_origin, settings_origin in rooms:
        try:
            rules = load_rules(game)
        except GameLoadError as error:
            raise game_origin.error(str(error)) from None
        try:
            make_settings(rules, settings)
        except GameLoadError as error:
            raise settings_origin.error(str(error)) from None
    from gameserver.server.rooms.modes import all_modes, resolved

    for mode in all_modes(config).values():  # a divisor that does not divide the game's rate
        try:
            resolved(mode, load_rules(mode.game.game))
        except ValueError as error:
            where = "snapshot_divisor" if mode.name == "default" else "modes"
            raise loaded.origin(where).error(str(error)) from None
