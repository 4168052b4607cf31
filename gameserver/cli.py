"""Command line: ``gameserver serve`` (more commands join as they are built)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

import trio

from gameserver.config import Config


async def _serve(config: Config) -> None:
    from gameserver.server import GameServer

    server = GameServer(config)
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            await nursery.start(server.run)
            async for signum in signals:
                logging.getLogger("gameserver").info("received %s", signal.Signals(signum).name)
                break
            await server.shutdown()
            nursery.cancel_scope.cancel()


def _add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    defaults = Config()
    p = sub.add_parser("serve", help="run a game server until SIGINT/SIGTERM")
    p.add_argument(
        "--host", default=defaults.host, help="address to listen on (default %(default)s)"
    )
    p.add_argument(
        "--port",
        type=int,
        default=defaults.port,
        help="TCP port, 0 = any free (default %(default)s)",
    )
    p.add_argument(
        "--tick-rate",
        type=int,
        default=defaults.tick_rate,
        help="ticks per second (default %(default)s)",
    )
    p.add_argument(
        "--snapshot-divisor",
        type=int,
        default=defaults.snapshot_divisor,
        help="send a snapshot every Nth tick (default %(default)s)",
    )
    p.add_argument("--seed", type=int, default=None, help="world seed (default: random, logged)")
    p.add_argument(
        "--max-players",
        type=int,
        default=defaults.max_players_per_room,
        help="players per room (default %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gameserver", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_serve(sub)
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
    if args.command == "serve":
        try:
            config = Config(
                host=args.host,
                port=args.port,
                tick_rate=args.tick_rate,
                snapshot_divisor=args.snapshot_divisor,
                seed=args.seed,
                max_players_per_room=args.max_players,
            )
        except ValueError as exc:
            print(f"gameserver: {exc}", file=sys.stderr)
            return 2
        trio.run(_serve, config)
        return 0
    return 2
