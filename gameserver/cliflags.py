"""``gameserver serve``'s setting flags, made from ``Config``'s fields.

Each field gets ``--field-name VALUE`` (a boolean: ``--field-name`` and
``--no-field-name``), or the flags its ``About.flags`` lists (older short names are kept
there as aliases), grouped by section, with the field's doc as help. A flag records the
value it was given, with its origin, in the namespace (``given_settings``), and only
those: a flag left out leaves the config file's and the environment's values alone
(``configload.py``'s layers), which a default stored by argparse could not tell apart.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from gameserver.config import SECTIONS, TABLES, Config, about
from gameserver.configload import env_names
from gameserver.configvalues import Kind, Origin, Setting, from_text, shape_of

GIVEN = "settings_given"
COMMAND_LINE = "command line"


def flags_of(field: attrs.Attribute[Any]) -> tuple[str, ...]:
    """The option strings of a field (empty: it has none)."""
    declared = about(field).flags
    if declared is not None:
        return declared
    flag = "--" + field.name.replace("_", "-")
    if shape_of(field).kind is Kind.BOOL:
        return (flag, "--no-" + flag[2:])
    return (flag,)


def _record(namespace: argparse.Namespace, name: str, value: Any, flag: str) -> None:
    given = getattr(namespace, GIVEN, None)
    if given is None:
        given = {}
        setattr(namespace, GIVEN, given)
    given[name] = Setting(value, Origin(COMMAND_LINE, flag))


class _SettingFlag(argparse.Action):
    """A flag with one value (or none, for a boolean) for one field."""

    def __init__(self, *args: Any, field: attrs.Attribute[Any], **kwargs: Any) -> None:
        self.field = field
        super().__init__(*args, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        flag = option_string or self.dest
        if shape_of(self.field).kind is Kind.BOOL:
            value: Any = not flag.startswith("--no-")
        else:
            try:
                value = from_text(self.field, str(values))
            except ValueError as error:
                raise argparse.ArgumentError(self, str(error)) from None
        setattr(namespace, self.dest, value)
        _record(namespace, self.field.name, value, flag)


class _GameSetting(argparse.Action):
    """``--game-setting NAME=VALUE``, repeatable: one entry of the game's settings table."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        name, sep, text = str(values).partition("=")
        if not sep or not name.strip():
            raise argparse.ArgumentError(self, f"wants NAME=VALUE, got {values!r}")
        previous = given_settings(namespace).get(self.dest)
        table = dict(previous.value) if previous is not None else {}
        try:
            table[name.strip()] = json.loads(text)
        except ValueError:
            table[name.strip()] = text
        _record(namespace, self.dest, table, option_string or "--game-setting")


class _Record(argparse.Action):
    """``--record DIR``: record every room's match to DIR (two fields at once)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        _record(namespace, "record_all", True, "--record")
        _record(namespace, "recordings_dir", str(values), "--record")


def _metavar(field: attrs.Attribute[Any]) -> str | None:
    declared = about(field).metavar
    if declared is not None:
        return declared
    kind = shape_of(field).kind
    if kind is Kind.FLOAT:
        if field.name.endswith("per_s"):
            return "R"
        return "S" if field.name.endswith("_s") else "X"
    return {Kind.INT: "N", Kind.TEXT: "TEXT", Kind.TEXTS: "LIST", Kind.BOOL: None}.get(kind)


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value) or "empty"
    return str(value) if value != "" else "empty"


def add_setting_flags(
    parser: argparse.ArgumentParser, shown_defaults: Mapping[str, str] | None = None
) -> None:
    """A flag for every field that has one, grouped by section; ``shown_defaults`` replaces
    the default a field's help shows (a command's own default, such as serve's web root)."""
    shown_defaults = shown_defaults or {}
    defaults = Config()
    for section, description in SECTIONS.items():
        in_section = [f for f in TABLES[section].values() if flags_of(f)]
        if not in_section and section != "recording":
            continue
        group = parser.add_argument_group(f"[{section}]", description)
        for field in in_section:
            _add_flag(group, field, defaults.get(field.name), shown_defaults)
        if section == "recording":
            group.add_argument(
                "--record",
                action=_Record,
                metavar="DIR",
                dest="record",
                default=None,
                help="record every room's match to DIR (record_all and recordings_dir; check "
                "one with: gameserver replay FILE --verify)",
            )


def _add_flag(
    group: argparse._ArgumentGroup,
    field: attrs.Attribute[Any],
    default: Any,
    shown_defaults: Mapping[str, str],
) -> None:
    info = about(field)
    shown = shown_defaults.get(field.name, _shown(default))
    help_text = f"{info.doc} (default: {shown})"
    if info.secret:
        variable = env_names(field)[0]
        help_text += f"; other local users can see a value given here: prefer ${variable}"
    help_text = help_text.replace("%", "%%")
    flags = flags_of(field)
    if field.name == "game_settings":
        group.add_argument(
            *flags,
            action=_GameSetting,
            dest=field.name,
            default=None,
            metavar=info.metavar,
            help=f"one of the game's settings (repeatable); VALUE is read as JSON when it "
            f'parses (10, 2.5, true, "text"), else as text. {help_text}',
        )
        return
    if field.name in shown_defaults or default is None:
        stored: Any = None
    elif isinstance(default, tuple):
        stored = ",".join(default)
    else:
        stored = default
    boolean = shape_of(field).kind is Kind.BOOL
    group.add_argument(
        *flags,
        action=_SettingFlag,
        field=field,
        dest=field.name,
        default=stored,
        nargs=0 if boolean else None,
        metavar=_metavar(field),
        help=help_text,
    )


def given_settings(args: argparse.Namespace) -> dict[str, Setting]:
    """The settings the flags given on the command line set."""
    given: dict[str, Setting] = getattr(args, GIVEN, None) or {}
    return given
