"""``gameserver demo``: a server with bots playing, watched live in the terminal."""

from __future__ import annotations

import argparse
import logging

import trio

from gameserver.cli.common import SubParsers, tune_collector, web_root
from gameserver.config import Config


def add(sub: SubParsers) -> None:
    defaults = Config()
    p = sub.add_parser(
        "demo",
        help="a server with bots playing, watched live in the terminal (q quits)",
        description="Runs a server, a few bots that play on it, and the terminal spectator "
        "view, in one process. Other clients can join at the URL shown.",
    )
    p.add_argument(
        "--host", default=defaults.network.host, help="address to listen on (default %(default)s)"
    )
    p.add_argument(
        "--port", type=int, default=defaults.network.port, help="TCP port (default %(default)s)"
    )
    p.add_argument("--bots", type=int, default=12, help="bots playing (default %(default)s)")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.add_argument(
        "--web-root",
        default=None,
        help="directory served at / (default: the bundled browser client)",
    )


def run(args: argparse.Namespace) -> int:
    logging.getLogger().setLevel(logging.WARNING)  # the live view owns the terminal
    try:
        return trio.run(_demo, args)
    except KeyboardInterrupt:
        return 0


async def _demo(args: argparse.Namespace) -> int:
    from gameserver.clients.spectate import spectate_live
    from gameserver.clients.swarm import Swarm, SwarmOptions
    from gameserver.server import GameServer

    config = Config.of(
        host=args.host, port=args.port, interest_cell_size=150.0, web_root=web_root(args.web_root)
    )
    server = GameServer(config)
    tune_collector(config)
    duration = args.duration if args.duration is not None else 24 * 3600.0
    async with trio.open_nursery() as nursery:
        await nursery.start(server.run)
        banner = f"play in a browser: {server.http_url}   live monitor: {server.http_url}monitor"
        print(f"gameserver demo: {banner}\n  game WebSocket: {server.url}; q quits", flush=True)
        swarm = Swarm(SwarmOptions(url=server.url, bots=args.bots, duration_s=duration))
        nursery.start_soon(swarm.run)
        await spectate_live(server.url, duration, banner=banner)
        await server.shutdown()
        nursery.cancel_scope.cancel()
    print(f"gameserver demo: stopped ({banner})")
    return 0
