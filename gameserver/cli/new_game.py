"""``gameserver new-game``: write a new game's project (rules, a bot, tests, a README)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gameserver.cli.common import SubParsers


def add(sub: SubParsers) -> None:
    p = sub.add_parser(
        "new-game",
        help="write a new game's project: rules, a bot, tests and a README",
        description="Writes a runnable game package written against gameserver.rules: "
        "its rules, settings and schema, a bot, tests that pass at once, and a README. "
        "Installed with pip, the game is served by name (gameserver serve --game NAME).",
    )
    p.add_argument(
        "name",
        help="the game's name: a lowercase identifier (its package, its id, its --game name)",
    )
    p.add_argument(
        "--dir",
        default=None,
        help="the folder to write the project into: new or empty (default: ./NAME)",
    )


def run(args: argparse.Namespace) -> int:
    import shlex

    from gameserver.scaffold import NewGameError, write_project

    folder = Path(args.name if args.dir is None else args.dir)
    try:
        written = write_project(args.name, folder)
    except NewGameError as error:
        print(f"gameserver new-game: {error}", file=sys.stderr)
        return 2
    print(f"wrote the game {args.name!r} into {folder}:")
    for path in written:
        print(f"  {path}")
    print("next:")
    print(f"  cd {shlex.quote(str(folder))}")
    print('  pip install -e ".[test]"   # the game, then known by name to the server')
    print("  pytest                     # its tests")
    print(f"  gameserver serve --game {args.name}")
    return 0
