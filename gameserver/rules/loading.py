"""Finding a game's rules by name, and making its settings.

A game is named either by a dotted path, ``package.module:RulesClass`` (any importable
module: the developer's own game), or by a short name: the games shipped with the
server, and every game an installed package declares in the ``gameserver.games`` entry
point group, so that ``pip install their-game`` makes it available by name::

    [project.entry-points."gameserver.games"]
    their-game = "their_game.rules:TheirRules"

Problems are reported as ``GameLoadError`` with a message a developer can act on; the
server turns them into a refusal to start (exit status 2), not a traceback.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Mapping
from typing import Any

import attrs

from gameserver.errors import GameServerError

from ._api import Rules, rules_class_problems
from ._savedstate import import_module_or_private

ENTRY_POINT_GROUP = "gameserver.games"
SHIPPED = {
    "arena": "gameserver.games.arena:ArenaRules",
    "crazyeights": "gameserver.games.crazyeights:CrazyEights",
    "bench": "gameserver.games.bench:Bench",
}


class GameLoadError(GameServerError):
    """A game that cannot be found, imported or used; the message says why."""


def available_games() -> dict[str, str]:
    """Short name -> ``module:Class`` of every game known by name."""
    games = dict(SHIPPED)
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        games.setdefault(entry.name, entry.value)
    return games


def load_rules(spec: str) -> type[Rules[Any, Any]]:
    """The rules class ``spec`` names (a short name or ``package.module:Class``)."""
    target = spec if ":" in spec else available_games().get(spec)
    if target is None:
        known = ", ".join(sorted(available_games()))
        raise GameLoadError(
            f"no game named {spec!r} (known: {known}); "
            "or give its rules class as package.module:Class"
        )
    module_name, _, attribute = target.partition(":")
    try:
        module = import_module_or_private(module_name)
    except ImportError as error:
        raise GameLoadError(f"cannot import {module_name!r} for game {spec!r}: {error}") from None
    cls = getattr(module, attribute, None)
    if cls is None:
        raise GameLoadError(f"module {module_name!r} has no {attribute!r} (game {spec!r})")
    problems = rules_class_problems(cls)
    if problems:
        raise GameLoadError(f"game {spec!r}: " + "; ".join(problems))
    return cls  # type: ignore[no-any-return]


def make_settings(rules: type[Rules[Any, Any]], values: Mapping[str, Any] | object) -> object:
    """The game's settings object from a mapping (a config file's table) or as given."""
    settings_type = rules.settings_type
    if isinstance(values, settings_type):
        return values
    if not isinstance(values, Mapping):
        raise GameLoadError(
            f"settings for game {rules.id!r} must be a table of its "
            f"{settings_type.__name__} fields, got {type(values).__name__}"
        )
    known = {field.name for field in attrs.fields(settings_type)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise GameLoadError(
            f"game {rules.id!r} has no setting {', '.join(map(repr, unknown))} "
            f"(its settings: {', '.join(sorted(known)) or 'none'})"
        )
    try:
        return settings_type(**values)
    except (TypeError, ValueError) as error:
        raise GameLoadError(f"settings for game {rules.id!r}: {error}") from None


def settings_to_table(settings: object) -> dict[str, Any]:
    """Settings as a plain table (recordings store them this way)."""
    return attrs.asdict(settings, recurse=True)  # type: ignore[arg-type]
