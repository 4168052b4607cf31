"""``gameserver swarm``: headless bots (and spectators) against a server, with live stats.

The bots are the client library's (``clients``): this is one of the commands that run it.
"""

from __future__ import annotations

import argparse
import os
import sys

import trio

from gameserver.cli.common import SubParsers


def add(sub: SubParsers) -> None:
    p = sub.add_parser(
        "swarm",
        help="run headless bots (and spectators) against a server, with live stats",
        description="Runs bots that join, play at the tick rate and leave after --duration "
        "(or at SIGTERM, still printing the summary). "
        "Exit status is non-zero if any bot failed to connect or met a protocol error.",
    )
    p.add_argument("--url", required=True, help="server WebSocket URL, e.g. ws://127.0.0.1:8000/ws")
    p.add_argument("--bots", type=int, default=10, help="player bots (default %(default)s)")
    p.add_argument(
        "--duration", type=float, default=10.0, help="seconds to play (default %(default)s)"
    )
    p.add_argument("--spectators", type=int, default=0, help="spectator connections (default 0)")
    p.add_argument("--procs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument(
        "--bot",
        default=None,
        metavar="MODULE:CLASS",
        help="the bot that plays (a gameserver.rules.Bot, e.g. my_game.bot:Bot); "
        "default: the game's own Bot, found by the game's name in the Welcome",
    )
    p.add_argument(
        "--behaviour",
        default=None,
        metavar="NAME",
        help="instead of a game's bot, a load pattern the game ships by this name (the "
        "BEHAVIOURS of its package's behaviours module; the benchmarks use bench)",
    )
    p.add_argument("--ramp", type=float, default=0.0, help="spread joins over this many seconds")
    p.add_argument("--seed", type=int, default=0, help="seed of the bots' choices (default 0)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        help="seconds a bot waits for its connection and welcome (default %(default)s)",
    )
    p.add_argument(
        "--lean",
        action="store_true",
        help="all bots of a process in one loop over raw sockets: far less client CPU "
        "(for benchmarks); any game, its bots decoding from the Welcome's description",
    )
    p.add_argument(
        "--decode-sample",
        type=float,
        default=0.01,
        metavar="F",
        help="with --lean: fraction of bots that fully decode and verify snapshots "
        "(at least one; default %(default)s); a game's bots always decode, so this applies "
        "to spectators, and to players with --behaviour (whose bots that do not decode are "
        "shown an empty world)",
    )
    p.add_argument(
        "--match",
        default=None,
        metavar="MODE",
        help="place each bot through matchmaking in MODE; --url is then a node's http:// URL",
    )
    p.add_argument(
        "--replace-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="with --match: a bot whose room's node dies goes back through matchmaking for "
        "up to S seconds, telling it which node it cannot reach (0: never; "
        "default %(default)s)",
    )
    p.add_argument(
        "--tokens",
        default=None,
        metavar="FILE",
        help="identity tokens, one per line: bot N (bot-N, spectator-N) carries line N; the "
        "file must hold one for every bot and spectator",
    )
    p.add_argument(
        "--jwt-secret",
        default=None,
        metavar="SECRET",
        help="the HS256 key the server trusts: each bot carries an identity token minted for "
        "it (sub bot-N) (default: $GAMESERVER_SECRET; other local users can see a key given "
        "here)",
    )
    p.add_argument("--jwt-issuer", default=None, help="iss of minted tokens (the server's)")
    p.add_argument("--jwt-audience", default=None, help="aud of minted tokens (the server's)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--first-index", type=int, default=0, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    try:
        return trio.run(_swarm, args)
    except ValueError as exc:
        print(f"gameserver swarm: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def _swarm(args: argparse.Namespace) -> int:
    from gameserver.clients.swarm import (
        SwarmOptions,
        bot_tokens,
        exit_status,
        make_swarm,
        run_worker,
        run_workers,
        stop_on_sigterm,
        summary_json,
        summary_text,
    )
    from gameserver.clients.swarm_stats import SwarmTotals
    from gameserver.clients.swarm_view import ProgressView

    options = SwarmOptions(
        url=args.url,
        bots=args.bots,
        duration_s=args.duration,
        spectators=args.spectators,
        procs=args.procs,
        behaviour=args.behaviour,
        bot=args.bot,
        ramp_s=args.ramp,
        seed=args.seed,
        first_index=args.first_index,
        lean=args.lean,
        decode_sample=args.decode_sample,
        connect_timeout_s=args.connect_timeout,
        match_mode=args.match,
        replace_timeout_s=args.replace_timeout,
        # A token file replaces the key: an environment's GAMESERVER_SECRET is not meant then.
        token_secret=None
        if args.tokens is not None
        else (args.jwt_secret or os.environ.get("GAMESERVER_SECRET") or None),
        token_file=args.tokens,
        token_issuer=args.jwt_issuer,
        token_audience=args.jwt_audience,
    )
    if options.bot is not None:
        from gameserver.clients.botdriver import BotLoadError, load_bot

        try:
            load_bot(options.bot)  # a bad --bot stops the run before any bot connects
        except BotLoadError as error:
            raise ValueError(str(error)) from None
    if args.tokens is not None and args.jwt_secret is not None:
        raise ValueError("give --tokens or --jwt-secret, not both")
    bot_tokens(options)  # a token file that cannot serve every bot stops the run now
    if args.match is not None and not options.url.startswith(("http://", "https://")):
        raise ValueError("--match needs a node's http:// URL (where POST /api/match is)")
    if args.lean and not options.url.startswith("ws://"):
        raise ValueError("--lean needs a ws:// URL")
    if args.worker:
        return exit_status(await run_worker(options))
    mode = " (lean)" if options.lean else ""
    view = ProgressView(f"swarm {options.bots} bots{mode} -> {options.url}")
    async with trio.open_nursery() as nursery:
        if options.procs > 1:
            live = SwarmTotals()

            def on_progress(totals: SwarmTotals) -> None:
                nonlocal live
                live = totals

            stop = trio.Event()
            nursery.start_soon(view.run, lambda: live)
            nursery.start_soon(stop_on_sigterm, stop.set)
            totals, duration = await run_workers(options, on_progress, stop)
        else:
            swarm = make_swarm(options)
            nursery.start_soon(view.run, swarm.totals)
            nursery.start_soon(stop_on_sigterm, swarm.stop)
            totals = await swarm.run()
            duration = swarm.elapsed_s()
        nursery.cancel_scope.cancel()
    print(summary_json(totals, duration) if args.json else summary_text(totals, duration))
    return exit_status(totals)
