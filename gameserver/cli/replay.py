"""``gameserver replay``: check a match recording by re-simulating it, or serve it."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import trio

from gameserver.cli.common import SubParsers, bundled_web_root, serve_until_signal, tune_collector
from gameserver.config import Config
from gameserver.rules.loading import GameLoadError, load_rules


def add(sub: SubParsers) -> None:
    p = sub.add_parser(
        "replay",
        help="check a match recording by re-simulating it",
        description="Re-simulates a recording (serve --record DIR) from its seed and inputs "
        "and checks every recorded state hash; exits 1 at the first divergence, naming the "
        "tick and the entity, and 2 if the file cannot be replayed (format, rules version).",
    )
    p.add_argument("file", help="a recording (*.rec)")
    p.add_argument("--verify", action="store_true", help="re-simulate and check (the default)")
    p.add_argument(
        "--from-tick",
        type=_tick_number,
        default=None,
        metavar="N",
        help="start at the newest snapshot at or before tick N and re-simulate only from "
        "there (checking from there to the end; with --serve, the match starts at tick N)",
    )
    p.add_argument(
        "--serve",
        action="store_true",
        help="serve the match to spectators (browser: http://HOST:PORT/?spectate)",
    )
    p.add_argument("--host", default="127.0.0.1", help="with --serve: address to listen on")
    p.add_argument("--port", type=int, default=8000, help="with --serve: TCP port")
    p.add_argument("--speed", type=float, default=1.0, help="with --serve: 1 = real time")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")


def _tick_number(text: str) -> int:
    tick = int(text)
    if tick < 0:
        raise argparse.ArgumentTypeError(f"a tick is 0 or more, got {tick}")
    return tick


def run(args: argparse.Namespace) -> int:
    import json

    from gameserver.recording import RecordingError, verify

    if args.serve:
        return _serve_replay(args)

    try:
        with open(args.file, "rb") as source:
            result = verify(source, from_tick=args.from_tick)
    except (OSError, RecordingError) as error:
        print(f"gameserver replay: {error}", file=sys.stderr)
        return 2
    divergence = result.divergence
    if args.json:
        print(json.dumps({
            "ok": result.ok,
            "ticks": result.ticks,
            "hashes_checked": result.hashes_checked,
            "snapshots_checked": result.snapshots_checked,
            "start_tick": result.start_tick,
            "gaps": [list(gap) for gap in result.gaps],
            "divergence": None if divergence is None else {
                "tick": divergence.tick,
                "entity": divergence.entity_id,
                "reason": divergence.reason,
            },
        }))  # fmt: skip
    elif divergence is not None:
        print(f"DIVERGED at tick {divergence.tick}: {divergence.reason}")
    elif result.gaps:
        first, last = result.gaps[0]
        print(f"replayed {result.ticks} ticks, then a gap: ticks {first}..{last} were not "
              "recorded (the disk was too slow)")  # fmt: skip
    else:
        start = f" from the snapshot at tick {result.start_tick}" if result.start_tick else ""
        print(f"OK: replayed {result.ticks} ticks{start}, {result.hashes_checked} state hashes "
              f"and {result.snapshots_checked} snapshots match")  # fmt: skip
    return 0 if result.ok else 1


def _serve_replay(args: argparse.Namespace) -> int:
    from gameserver.recording import RecordingError
    from gameserver.server import GameServer

    config = Config.of(host=args.host, port=args.port, web_root=bundled_web_root())
    try:
        server = GameServer(config, replay=Path(args.file), replay_speed=args.speed)
        if args.from_tick is not None and server.replay is not None:
            server.replay.seek(args.from_tick)
    except (OSError, RecordingError) as error:
        print(f"gameserver replay: {error}", file=sys.stderr)
        return 2
    tune_collector(config)

    # The recorded game's page watches it (docs/web.md: a game's page is /games/GAME/).
    assert server.replay is not None  # given a recording, the server replays it
    game = server.replay.head["rules"]
    with contextlib.suppress(GameLoadError):
        game = load_rules(game).id
    banner = (
        f"replaying {args.file} at {args.speed:g}x: watch at {{http_url}}games/{game}/?spectate "
        "(or gameserver spectate --url {url}); seek with POST {http_url}api/replay "
        '{{"seek": TICK}}'
    )
    trio.run(serve_until_signal, server, banner)
    return 0
