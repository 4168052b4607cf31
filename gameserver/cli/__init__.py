"""Command line: ``gameserver serve | swarm | spectate | token | demo | replay | new-game | ...``.

One module per subcommand, each with ``add(sub)`` (its options) and ``run(args)`` (its exit
status); ``common`` holds what several share. Only the client commands (``swarm``,
``spectate``, ``demo``) import the client library ``gameserver.clients``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from gameserver.cli import config, demo, new_game, replay, serve, spectate, swarm, token

__all__ = ["build_parser", "main"]

USAGE = (
    "Command line: gameserver serve | swarm | spectate | token | demo | replay | new-game | config"
)

# The subcommands, in the order --help lists them.
COMMANDS: dict[str, ModuleType] = {
    "serve": serve,
    "swarm": swarm,
    "spectate": spectate,
    "token": token,
    "demo": demo,
    "replay": replay,
    "new-game": new_game,
    "config": config,
}


def build_parser() -> argparse.ArgumentParser:
    from gameserver import __version__

    parser = argparse.ArgumentParser(prog="gameserver", description=USAGE)
    parser.add_argument("--version", action="version", version=f"gameserver {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        command.add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        logging.getLogger("trio-websocket").setLevel(logging.WARNING)
    run: Callable[[argparse.Namespace], int] = COMMANDS[args.command].run
    return run(args)
