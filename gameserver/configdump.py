"""The effective configuration as a config file (``gameserver config``), secrets masked.

The output is a valid config file in the layout ``configfile.py`` reads: a table per
section, every setting with its value, a comment saying where each value that is not a
default came from, and the modes as ``[modes.NAME]`` tables. A setting that is not set
(``None``) is a comment, since TOML has no null. Secrets are masked: the output is meant to
be pasted into an issue or a chat, so it must never carry a token, and a URL keeps only
what says where it points.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import attrs

from gameserver.config import MODE_KEYS, TABLES, Mode, about
from gameserver.configload import Loaded
from gameserver.configvalues import Kind, Origin, shape_of
from gameserver.rules.loading import settings_to_table

MASK = "********"
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def mask(value: str) -> str:
    """A secret as shown: a URL keeps its scheme, host, port and path; anything else: stars."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    credentials = f"{MASK}@" if parts.username or parts.password else ""
    where = host if port is None else f"{host}:{port}"
    query = f"?{MASK}" if parts.query else ""
    return f"{parts.scheme}://{credentials}{where}{parts.path}{query}"


def toml_string(text: str) -> str:
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def toml_literal(value: Any) -> str:
    """A value as TOML: booleans, numbers, text, arrays and (inline) tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{toml_key(str(k))} = {toml_literal(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if attrs.has(type(value)):
        return toml_literal(_table(value))
    raise TypeError(f"no TOML for a {type(value).__name__}")


def _table(value: Any) -> dict[str, Any]:
    """A settings table, or a game's settings object as one."""
    return value if isinstance(value, dict) else settings_to_table(value)


def _origin_comment(origin: Origin) -> str:
    if origin.where == "default":
        return ""
    if origin.where == "environment":
        return f"  # ${origin.key}"
    if origin.where == "command line":
        return f"  # {origin.key}"
    return f"  # {origin.where}"


def to_toml(loaded: Loaded) -> str:
    """The configuration as a config file, secrets masked."""
    config = loaded.config
    lines = [
        "# The effective configuration: defaults, then the config file, the environment and",
        "# the command line. A comment after a value says where it was given.",
    ]
    for section, fields in TABLES.items():
        if section == "modes":
            continue
        tables: list[tuple[str, Any, str]] = []
        lines += ["", f"[{section}]"]
        for field in fields.values():
            value = config.get(field.name)
            comment = _origin_comment(loaded.origin(field.name))
            if value is None:
                lines.append(f"# {field.name} is not set{comment.replace('  #', ';', 1)}")
            elif shape_of(field).kind is Kind.TABLE:
                tables.append((f"{section}.{field.name}", _table(value), comment))
            elif about(field).secret:
                masked = f"{comment} (masked)" if comment else "  # masked"
                lines.append(f"{field.name} = {toml_string(mask(value))}{masked}")
            else:
                lines.append(f"{field.name} = {toml_literal(value)}{comment}")
        for header, table, comment in tables:
            lines += ["", f"[{header}]{comment}"]
            lines += [f"{toml_key(k)} = {toml_literal(v)}" for k, v in table.items()]
    lines += ["", f"[modes]{_origin_comment(loaded.origin('modes'))}"]
    for mode in config.modes:
        lines += _mode_lines(mode)
    return "\n".join(lines) + "\n"


def _mode_lines(mode: Mode) -> list[str]:
    lines = ["", f"[modes.{toml_key(mode.name)}]"]
    for key, (part, field) in MODE_KEYS.items():
        if key != "settings":
            value = getattr(getattr(mode, part) if part else mode, field.name)
            lines.append(f"{key} = {toml_literal(value)}")
    settings = _table(mode.game.game_settings)
    if settings:
        lines += ["", f"[modes.{toml_key(mode.name)}.settings]"]
        lines += [f"{toml_key(k)} = {toml_literal(v)}" for k, v in settings.items()]
    return lines
