"""``gameserver spectate``: watch a room live in the terminal (a client command)."""

from __future__ import annotations

import argparse
import sys

import trio

from gameserver.cli.common import SubParsers


def add(sub: SubParsers) -> None:
    p = sub.add_parser("spectate", help="watch a room live in the terminal (q quits)")
    p.add_argument("--url", required=True, help="server WebSocket URL, e.g. ws://127.0.0.1:8000/ws")
    p.add_argument("--once", action="store_true", help="take one snapshot and exit")
    p.add_argument("--json", action="store_true", help="with --once: print the world as JSON")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")


def run(args: argparse.Namespace) -> int:
    from trio_websocket import HandshakeError

    from gameserver.clients import ClientClosed

    try:
        return trio.run(_spectate, args)
    except KeyboardInterrupt:
        return 0
    except (OSError, HandshakeError, ClientClosed, trio.TooSlowError) as exc:
        cause = exc.__cause__ or exc
        print(f"gameserver spectate: cannot watch {args.url}: {cause}", file=sys.stderr)
        return 1


async def _spectate(args: argparse.Namespace) -> int:
    from gameserver.clients.spectate import dump_json, snapshot_json, spectate_live, summary

    if args.once:
        data = await snapshot_json(args.url)
        print(dump_json(data) if args.json else summary(data))
        return 0
    await spectate_live(args.url, args.duration)
    return 0
