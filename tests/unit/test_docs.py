"""The docs say what the code does: option tables against the parsers, settings, CI.

Each subcommand's options table in ``docs/operations.md`` names every option its
``--help`` shows and no other, with the same defaults where the table gives one in code
quotes; so a new flag, or a renamed one, cannot land undocumented. Every ``Config`` field
has its row in the configuration reference, and every counter of ``Metrics`` in the
counters table.
"""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path

import attrs
import pytest

import gameserver
from gameserver.cli import build_parser
from gameserver.config import setting_fields
from gameserver.server.metrics import Metrics

REPO_ROOT = Path(gameserver.__file__).resolve().parent.parent
OPERATIONS = REPO_ROOT / "docs" / "operations.md"

# The section of docs/operations.md whose options table documents each subcommand.
SECTIONS = {
    "serve": "Running the server",
    "token": "Join tokens",
    "replay": "Recording matches and replaying them",
    "swarm": "Load testing: `gameserver swarm`",
    "spectate": "Watching a room: `gameserver spectate`",
    "new-game": "A new game's project: `gameserver new-game`",
}
OPTION = re.compile(r"(?<![\w-])(--?[a-z][a-z0-9-]*)")
QUOTED = re.compile(r"`([^`]*)`")


def subcommand(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    (choices,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found: argparse.ArgumentParser = choices.choices[name]
    return found


def documented_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """What ``--help`` shows: every action but help and the hidden ones."""
    return [
        action
        for action in parser._actions
        if action.help is not argparse.SUPPRESS and not isinstance(action, argparse._HelpAction)
    ]


def section(title: str) -> str:
    text = OPERATIONS.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def options_table(title: str) -> list[list[str]]:
    """The rows (cells) of the first table in the section whose header says "option"."""
    rows: list[list[str]] = []
    for line in section(title).splitlines():
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if not rows and "option" not in cells[0].lower():
            continue
        rows.append(cells)
    assert rows, f"no options table in {title!r}"
    return rows[2:]  # past the header and its rule


def names_in(cell: str) -> list[str]:
    """Option names (``--port``) and positionals (``FILE``) in a table's first cell."""
    quoted = QUOTED.findall(cell)
    positionals = [q for q in quoted if re.fullmatch(r"[A-Z][A-Z_]*", q)]
    return [name for q in quoted for name in OPTION.findall(q)] + positionals


def cli_names(action: argparse.Action) -> set[str]:
    if action.option_strings:
        return set(action.option_strings) - {"-v"}  # short aliases need no row
    return {action.dest.upper()}


@pytest.mark.parametrize("command", sorted(SECTIONS))
def test_every_option_of_a_subcommand_is_in_its_docs_table(command: str) -> None:
    parser = subcommand(command)
    rows = options_table(SECTIONS[command])
    documented = {name for row in rows for name in names_in(row[0])} - {"-v"}
    shown = {name for action in documented_actions(parser) for name in cli_names(action)}
    if command == "serve":
        shown |= {"--verbose"}  # given before the subcommand, documented with serve's
    assert documented == shown, (
        f"gameserver {command}: documented but not an option: {sorted(documented - shown)}; "
        f"an option not documented: {sorted(shown - documented)}"
    )


@pytest.mark.parametrize("command", sorted(SECTIONS))
def test_documented_defaults_are_the_parsers(command: str) -> None:
    """A default in code quotes is the parser's, for rows of one option each."""
    actions = {
        name: action
        for action in documented_actions(subcommand(command))
        for name in action.option_strings
    }
    checked = 0
    for row in options_table(SECTIONS[command]):
        names, defaults = names_in(row[0]), QUOTED.findall(row[1])
        if len(names) != 1 or len(defaults) != 1 or names[0] not in actions:
            continue
        default = actions[names[0]].default
        if default in (None, "", False) or defaults[0].startswith("$"):
            continue  # the table says what "none" means (environment, derived values)
        assert defaults[0] == str(default), f"gameserver {command} {names[0]}"
        checked += 1
    assert checked or command in {"new-game", "spectate"}


def test_demo_usage_line_names_every_option() -> None:
    usage = re.search(
        r"`gameserver demo ([^`]*)`", section("A server with bots to watch: `gameserver demo`")
    )
    assert usage is not None
    documented = set(OPTION.findall(usage.group(1)))
    shown = {name for a in documented_actions(subcommand("demo")) for name in a.option_strings}
    assert documented == shown


def test_the_top_level_help_names_every_subcommand() -> None:
    help_text = build_parser().format_help()
    for command in ("serve", "swarm", "spectate", "token", "demo", "replay", "new-game"):
        assert re.search(rf"^\s+{command}\s+\S", help_text, re.MULTILINE), command
    assert "--version" in help_text


def test_the_readme_test_command_is_the_one_ci_runs() -> None:
    """.ci/run runs "exactly the README's test command": keep the two the same."""
    ci = (REPO_ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    readme = (REPO_ROOT / "README.md").read_text()
    assert "nox -s" in ci
    assert f"```sh\n{ci.replace(' --quiet', '')}\n```" in readme


def test_every_setting_has_a_row_in_the_configuration_reference() -> None:
    rows = [line for line in section("Configuration reference").splitlines() if line[:2] == "| "]
    named = {name for row in rows for name in QUOTED.findall(row.split("|")[1])}
    missing = [field.name for field in setting_fields() if field.name not in named]
    assert not missing, f"Config fields without a row in docs/operations.md: {missing}"


@pytest.mark.parametrize(
    ("module", "heading"),
    [
        ("gameserver.rules", "## 4. Reference: `gameserver.rules`"),
        ("gameserver.testing", "## 5. Reference: `gameserver.testing`"),
    ],
)
def test_the_games_guide_reference_names_every_public_name(module: str, heading: str) -> None:
    text = (REPO_ROOT / "docs" / "games.md").read_text()
    start = text.index(f"\n{heading}\n")
    reference = text[start : text.index("\n## ", start + 1)]
    public = importlib.import_module(module).__all__
    missing = [name for name in public if not re.search(rf"`{name}\b", reference)]
    assert not missing, f"{module}: not in docs/games.md's reference: {missing}"


def test_every_counter_has_a_row_in_the_counters_table() -> None:
    rows = [line for line in section("Counters").splitlines() if line[:2] == "| "]
    named = {name for row in rows for name in QUOTED.findall(row.split("|")[1])}
    missing = [field.name for field in attrs.fields(Metrics) if field.name not in named]
    assert not missing, f"Metrics counters without a row in docs/operations.md: {missing}"


def test_nothing_tells_a_user_to_depend_on_the_other_projects_gameserver() -> None:
    """The distribution is trio-gameserver: "gameserver" on the index is someone else's."""
    places = [
        REPO_ROOT / "README.md",
        *(REPO_ROOT / "docs").glob("*.md"),
        *(REPO_ROOT / "gameserver" / "scaffold" / "templates").rglob("*.tmpl"),
    ]
    wrong = re.compile(
        r"""["']gameserver\s*(?:[<>=!~]=?[^"']*)?["']\s*[,\]]|pip install gameserver\b"""
    )
    found = [p.relative_to(REPO_ROOT).as_posix() for p in places if wrong.search(p.read_text())]
    assert not found, f"a dependency on the distribution 'gameserver' in {found}"
