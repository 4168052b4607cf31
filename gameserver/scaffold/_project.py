"""Writing a new game's project from the templates shipped in this package.

Theory of operation
-------------------
``templates/`` mirrors the project's tree: ``package/`` becomes the game's package (named
after the game), every file drops its ``.tmpl`` suffix (``gitignore.tmpl`` becomes
``.gitignore``), and its ``${placeholders}`` (``string.Template``) are filled from
``ProjectNames``. Nothing is written until every check has passed: the name (a lowercase
identifier, not a name Python or the server already knows), then the folder (absent, or
an empty directory), so a refusal leaves no trace.

The templates are Python that must stay ruff-clean (lint and format) whatever the name.
So a line that carries a generated name leaves room for the longest one, a signature
that carries one is split with a trailing comma, and no import list mixes a generated
name with fixed ones (their sorted order would then depend on the name).
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import string
import sys
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

import attrs

import gameserver
from gameserver.errors import GameServerError
from gameserver.rules.loading import available_games

NAME_MAX_CHARS = 24  # as a mode's name: the game's id travels in the same places
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_SUFFIX = ".tmpl"
_PACKAGE_DIR = "package"  # in templates/: becomes the game's package
_RENAMED = {"gitignore": ".gitignore"}
# Top-level names in a generated project that a package of the same name would clash with.
_PROJECT_NAMES = frozenset({"tests", "build", "dist"})
# Names the templates define next to the rules class: the class takes another name then.
_TEMPLATE_NAMES = frozenset(
    {"Bot", "Coin", "CoinTaken", "Color", "MatchWon", "PickColor", "Runner", "Stick", "Table"}
    | {"Act", "BotView", "GameSchema", "Headless", "MatchResult", "Player", "Rules"}
    | {"TickCommand", "TickInput"}
)


class NewGameError(GameServerError):
    """A name or folder that ``new-game`` refuses; the message says why and what to do."""


@attrs.frozen
class ProjectNames:
    """The names a project is written with, all made from the game's name."""

    name: str  # the package, the distribution, the rules' id and the entry point's name
    title: str  # for people: "coin_rush" -> "Coin Rush"
    rules_class: str
    settings_class: str

    @classmethod
    def for_name(cls, name: str) -> ProjectNames:
        check_name(name)
        parts = [part for part in name.split("_") if part]
        camel = "".join(part[0].upper() + part[1:] for part in parts)
        if camel in _TEMPLATE_NAMES:
            camel += "Game"
        title = " ".join(part[0].upper() + part[1:] for part in parts)
        return cls(name, title, camel, f"{camel}Settings")

    def placeholders(self) -> dict[str, str]:
        public = sorted(
            {self.rules_class, self.settings_class, "Bot", "Coin", "CoinTaken", "Color"}
            | {"MatchWon", "PickColor", "Runner", "Stick"}
        )
        return {
            "name": self.name,
            "title": self.title,
            "rules_class": self.rules_class,
            "settings_class": self.settings_class,
            "all_names": "\n".join(f'    "{public_name}",' for public_name in public),
            "framework_version": gameserver.__version__,
        }


def check_name(name: str) -> None:
    """``NewGameError`` unless ``name`` can name a new game's package, id and entry point."""
    if not _NAME.fullmatch(name) or len(name) > NAME_MAX_CHARS:
        raise NewGameError(
            f"a game's name must be a lowercase identifier of 1..{NAME_MAX_CHARS} characters "
            f"(a-z, then a-z 0-9 _), got {name!r}: it names the Python package, the game's "
            "id and its --game name"
        )
    if keyword.iskeyword(name):
        raise NewGameError(f"{name!r} is a Python keyword: pick another name")
    if name in sys.stdlib_module_names or name in _PROJECT_NAMES:
        raise NewGameError(f"{name!r} would hide a module of the same name: pick another name")
    known = available_games()
    if name in known:
        raise NewGameError(
            f"a game named {name!r} is already known to this server ({known[name]}): "
            "pick another name"
        )
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin is not None:  # (a namespace package is only a folder)
        raise NewGameError(
            f"a module named {name!r} is already importable here ({spec.origin}): pick another name"
        )


def check_folder(folder: Path) -> None:
    """``NewGameError`` unless ``folder`` is absent or an empty directory."""
    if folder.is_dir():
        if any(folder.iterdir()):
            raise NewGameError(f"{folder} is not empty: give an empty or new folder with --dir")
    elif folder.exists():
        raise NewGameError(f"{folder} exists and is not a directory")


def render(names: ProjectNames) -> dict[PurePosixPath, str]:
    """Every file of the project: its path in the project, and its text."""
    values = names.placeholders()
    rendered: dict[PurePosixPath, str] = {}
    for path, template in _templates(files("gameserver.scaffold") / "templates", PurePosixPath()):
        parts = [names.name if part == _PACKAGE_DIR else part for part in path.parts[:-1]]
        leaf = path.name.removesuffix(_SUFFIX)
        target = PurePosixPath(*parts, _RENAMED.get(leaf, leaf))
        rendered[target] = string.Template(template.read_text(encoding="utf-8")).substitute(values)
    return dict(sorted(rendered.items()))


def _templates(folder: Traversable, at: PurePosixPath) -> list[tuple[PurePosixPath, Traversable]]:
    found: list[tuple[PurePosixPath, Traversable]] = []
    for entry in folder.iterdir():
        if entry.is_dir():
            found += _templates(entry, at / entry.name)
        elif entry.name.endswith(_SUFFIX):
            found.append((at / entry.name, entry))
    return found


def write_project(name: str, folder: Path) -> list[PurePosixPath]:
    """Write the project of a new game called ``name`` into ``folder``; the files written."""
    names = ProjectNames.for_name(name)
    check_folder(folder)
    rendered = render(names)
    try:
        for path, text in rendered.items():
            target = folder.joinpath(*path.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise NewGameError(f"cannot write the project into {folder}: {error}") from None
    return list(rendered)
