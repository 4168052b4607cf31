"""``gameserver serve``: run a game server until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import sys

import trio

from gameserver.cli.common import (
    SERVE_SHOWN_DEFAULTS,
    SubParsers,
    serve_base,
    serve_until_signal,
    tune_collector,
)
from gameserver.config import Config
from gameserver.rules.loading import GameLoadError


def add(sub: SubParsers) -> None:
    from gameserver.configcli import add_config_sources

    p = sub.add_parser(
        "serve",
        help="run a game server until SIGINT/SIGTERM",
        usage="%(prog)s [-h] [--config FILE] [--SETTING VALUE ...]",
        description="Runs a game server. Every setting comes from, highest first: these "
        "options, GAMESERVER_* environment variables, the --config file, the defaults "
        "(docs/operations.md). gameserver config prints the result.",
    )
    add_config_sources(p, SERVE_SHOWN_DEFAULTS)


def run(args: argparse.Namespace) -> int:
    try:
        from gameserver.auth import Authenticator
        from gameserver.configcli import effective

        config = effective(args, serve_base()).config
        Authenticator.from_config(config)  # key files read now: a bad one stops the start
    except (ValueError, GameLoadError) as exc:
        print(f"gameserver: {exc}", file=sys.stderr)
        return 2
    trio.run(_serve, config)
    return 0


async def _serve(config: Config) -> None:
    from gameserver.server import GameServer

    server = GameServer(config)
    tune_collector(config)
    await serve_until_signal(server)
