"""The config file: TOML tables named for ``Config``'s sections, read into settings.

```toml
[network]
port = 9000

[game]
game = "crazyeights"

[modes.duel]            # a Mode; its settings table is its game's settings
game = "arena"
max_players = 2
[modes.duel.settings]
width = 500.0
```

Each key is a ``Config`` field's name under the table of its section (``About.section``);
the ``[modes.NAME]`` tables are ``Mode``s. Anything else (an unknown table or key, a key
under the wrong table, a value of the wrong type or out of range) is a ``ConfigError``
naming the file, the line, the key and what is allowed.

Lines: ``tomllib`` gives values without positions, so the file's text is scanned once for
table headers and ``key =`` lines (a simple scan, not a second TOML parser: a key inside a
multi-line string could fool it, and a key it cannot see is reported at the line of its
nearest table, or line 1).
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from gameserver.config import MODE_KEYS, TABLE_OF, TABLES, Mode, about
from gameserver.configvalues import ConfigError, Origin, Setting, from_toml

log = logging.getLogger("gameserver.config")

_HEADER = re.compile(r"^\s*\[\[?([^\]]+)\]\]?\s*(?:#.*)?$")
_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_KEY = re.compile(rf"^\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")
_PARTS = re.compile(r""""([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+)""")
_DECODE_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def _dotted(text: str) -> tuple[str, ...]:
    return tuple(next(group for group in match if group) for match in _PARTS.findall(text))


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The first line (from 1) of each table header and key, by its full dotted path."""
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _dotted(header.group(1))
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            lines.setdefault(table + _dotted(key.group(1)), number)
    return lines


@attrs.frozen
class _File:
    name: str
    lines: dict[tuple[str, ...], int]

    def origin(self, *path: str) -> Origin:
        """The origin of a key: the line of the key (or of its first sub-key: a table only
        given as [modes.NAME] has no line of its own), else of its nearest table."""
        inside = [line for key, line in self.lines.items() if key[: len(path)] == path]
        line = min(inside, default=None)
        for end in range(len(path) - 1, 0, -1):
            if line is not None:
                break
            line = self.lines.get(path[:end])
        line = line or 1
        return Origin(f"{self.name}:{line}", ".".join(path))


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean {close[0]}?" if close else ""


def read_file(path: str | os.PathLike[str]) -> dict[str, Setting]:
    """The settings a config file gives, by field name; ``ConfigError`` if one is wrong."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ConfigError(name, "", f"cannot read the config file: {reason}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = _DECODE_LINE.search(str(error))
        where = f"{name}:{found.group(1)}" if found else name
        raise ConfigError(where, "", f"not valid TOML: {error}") from None
    file = _File(name, key_lines(text))
    settings = _read_document(file, document)
    secrets = [key for key in settings if about(TABLES[TABLE_OF[key]][key]).secret]
    if secrets and os.stat(path).st_mode & 0o004:
        log.warning(
            "%s holds %s and other users can read it; give secrets in the environment "
            "(GAMESERVER_*) or make the file readable by its owner only",
            name,
            ", ".join(secrets),
        )
    return settings


def _read_document(file: _File, document: dict[str, Any]) -> dict[str, Setting]:
    settings: dict[str, Setting] = {}
    for section, table in document.items():
        if section not in TABLES:
            if section in TABLE_OF:
                raise file.origin(section).error(
                    f"a setting goes under its table: put it under [{TABLE_OF[section]}]"
                )
            raise file.origin(section).error(
                f"unknown table [{section}]{_did_you_mean(section, list(TABLES))} "
                f"(the tables: {', '.join(TABLES)})"
            )
        if not isinstance(table, dict):
            raise file.origin(section).error(f"expected a table [{section}], got a value")
        if section == "modes":
            settings["modes"] = _read_modes(file, table)
            continue
        for key, value in table.items():
            field = TABLES[section].get(key)
            origin = file.origin(section, key)
            if field is None:
                if key in TABLE_OF:
                    raise origin.error(f"not a setting of [{section}]: it goes under "
                                       f"[{TABLE_OF[key]}]")  # fmt: skip
                known = list(TABLES[section])
                raise origin.error(
                    f"unknown setting{_did_you_mean(key, known)} "
                    f"([{section}] has: {', '.join(known)})"
                )
            try:
                settings[key] = Setting(from_toml(field, value), origin)
            except ValueError as error:
                raise origin.error(str(error)) from None
    return settings


def _read_modes(file: _File, table: dict[str, Any]) -> Setting:
    modes: list[Mode] = []
    parts: dict[str, Origin] = {}
    for name, values in table.items():
        modes.append(read_mode(name, values, file.origin))
        for key in ("game", "settings"):
            parts[f"{name}.{key}"] = file.origin("modes", name, key)
    return Setting(tuple(modes), file.origin("modes"), parts)


def read_mode(name: str, values: object, origin_of: Callable[..., Origin]) -> Mode:
    """One ``[modes.NAME]`` table as a ``Mode``; ``origin_of(*path)`` places its keys."""
    origin = origin_of("modes", name)
    if not isinstance(values, dict):
        raise origin.error("expected a table [modes.NAME] of the mode's settings")
    given: dict[str, Any] = {}
    for key, value in values.items():
        key_origin = origin_of("modes", name, key)
        found = MODE_KEYS.get(key)
        if found is None:
            raise key_origin.error(
                f"unknown mode setting{_did_you_mean(key, list(MODE_KEYS))} "
                f"(a mode has: {', '.join(MODE_KEYS)})"
            )
        try:
            given[key] = from_toml(found[1], value)
        except ValueError as error:
            raise key_origin.error(str(error)) from None
    try:
        return Mode.of(name, **given)
    except ValueError as error:
        raise origin.error(str(error)) from None
