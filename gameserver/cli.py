"""Command line: ``gameserver serve | swarm | spectate | token | demo | replay | new-game``."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from gameserver.config import Config
from gameserver.rules.loading import GameLoadError, load_rules

if TYPE_CHECKING:
    from gameserver.server import GameServer


def tune_collector(config: Config) -> None:
    """For a server process: no full collection every few seconds (``Config`` explains)."""
    import gc

    if config.gc_full_collection_every:
        gc.freeze()  # what start-up made lives for the whole run: never scan it again
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, config.gc_full_collection_every)


async def _serve(config: Config) -> None:
    from gameserver.server import GameServer

    server = GameServer(config)
    tune_collector(config)
    await _serve_until_signal(server)


async def _serve_until_signal(server: GameServer, banner: str = "") -> None:
    """Run ``server`` until SIGINT or SIGTERM, then shut down gracefully (a second: at once)."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            await nursery.start(server.run)
            if banner:
                print(banner.format(http_url=server.http_url, url=server.url), flush=True)
            log = logging.getLogger("gameserver")
            async for signum in signals:
                log.info("received %s", signal.Signals(signum).name)
                break

            async def force_on_second_signal() -> None:
                async for signum in signals:
                    log.warning("received %s again: stopping now", signal.Signals(signum).name)
                    nursery.cancel_scope.cancel()

            nursery.start_soon(force_on_second_signal)
            await server.shutdown()
            nursery.cancel_scope.cancel()


# The defaults serve and config show where they are not Config's.
_SERVE_SHOWN_DEFAULTS = {"web_root": "the bundled browser client; '' serves none"}


def _serve_base() -> Config:
    """Serve's defaults: Config's, but with the bundled browser client at /."""
    return Config(web_root=bundled_web_root())


def _add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gameserver.configcli import add_config_sources

    p = sub.add_parser(
        "serve",
        help="run a game server until SIGINT/SIGTERM",
        usage="%(prog)s [-h] [--config FILE] [--SETTING VALUE ...]",
        description="Runs a game server. Every setting comes from, highest first: these "
        "options, GAMESERVER_* environment variables, the --config file, the defaults "
        "(docs/operations.md). gameserver config prints the result.",
    )
    add_config_sources(p, _SERVE_SHOWN_DEFAULTS)


def _add_swarm(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


async def _swarm(args: argparse.Namespace) -> int:
    from clients.swarm import (
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
    from clients.swarm_stats import SwarmTotals
    from clients.swarm_view import ProgressView

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
        from clients.botdriver import BotLoadError, load_bot

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


def _add_spectate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("spectate", help="watch a room live in the terminal (q quits)")
    p.add_argument("--url", required=True, help="server WebSocket URL, e.g. ws://127.0.0.1:8000/ws")
    p.add_argument("--once", action="store_true", help="take one snapshot and exit")
    p.add_argument("--json", action="store_true", help="with --once: print the world as JSON")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")


async def _spectate(args: argparse.Namespace) -> int:
    from clients.spectate import dump_json, snapshot_json, spectate_live, summary

    if args.once:
        data = await snapshot_json(args.url)
        print(dump_json(data) if args.json else summary(data))
        return 0
    await spectate_live(args.url, args.duration)
    return 0


def _add_token(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "token",
        help="print a development token (a JWT signed with the shared secret)",
        description="Prints one token signed with the shared secret (--secret, else the "
        "GAMESERVER_SECRET environment variable; at least 32 bytes), HS256. Without --room: "
        "an identity token, as the game's identity provider would issue (use it as "
        "?token= and as Authorization: Bearer for POST /api/match). With --room: a join "
        "token for that room, good once. Exit status 2 without a secret.",
    )
    p.add_argument("--subject", required=True, help="account id the token is for (sub)")
    p.add_argument("--name", required=True, help="display name (1..32 printable chars)")
    p.add_argument(
        "--role",
        choices=("player", "spectator"),
        default="player",
        help="role the token allows (default %(default)s)",
    )
    p.add_argument("--room", default=None, help="make a join token for this room, good once")
    p.add_argument(
        "--ttl", type=float, default=3600.0, help="seconds until it expires (default %(default)s)"
    )
    p.add_argument("--issuer", default=None, help="iss of an identity token (the server's)")
    p.add_argument("--audience", default=None, help="aud of an identity token (the server's)")
    p.add_argument(
        "--secret",
        "--jwt-secret",
        default=None,
        help="signing secret (default: $GAMESERVER_SECRET; other local users can see a secret "
        "given here)",
    )


def _token(args: argparse.Namespace) -> int:
    import time

    from gameserver.auth import issue_identity_token
    from gameserver.protocol import Role
    from gameserver.tokens import issue_token, load_secret

    try:
        secret = load_secret(args.secret, os.environ)
        if secret is None:
            raise ValueError("no secret: pass --secret or set GAMESERVER_SECRET")
        if args.room is None:
            token = issue_identity_token(
                secret,
                subject=args.subject,
                name=args.name,
                role=args.role,
                ttl_s=args.ttl,
                now_s=time.time(),
                issuer=args.issuer,
                audience=args.audience,
            )
        else:
            token = issue_token(
                secret,
                subject=args.subject,
                name=args.name,
                role=Role.SPECTATOR if args.role == "spectator" else Role.PLAYER,
                room=args.room,
                ttl_s=args.ttl,
                now_s=time.time(),
            )
    except ValueError as exc:
        print(f"gameserver token: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


def _add_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    defaults = Config()
    p = sub.add_parser(
        "demo",
        help="a server with bots playing, watched live in the terminal (q quits)",
        description="Runs a server, a few bots that play on it, and the terminal spectator "
        "view, in one process. Other clients can join at the URL shown.",
    )
    p.add_argument(
        "--host", default=defaults.host, help="address to listen on (default %(default)s)"
    )
    p.add_argument("--port", type=int, default=defaults.port, help="TCP port (default %(default)s)")
    p.add_argument("--bots", type=int, default=12, help="bots playing (default %(default)s)")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.add_argument(
        "--web-root",
        default=None,
        help="directory served at / (default: the bundled browser client)",
    )


def bundled_web_root() -> str:
    """The browser client shipped with the package (``clients/web``)."""
    import clients

    return str(Path(clients.__file__).parent / "web")


def _web_root(option: str | None) -> str:
    return bundled_web_root() if option is None else option


async def _demo(args: argparse.Namespace) -> int:
    from clients.spectate import spectate_live
    from clients.swarm import Swarm, SwarmOptions
    from gameserver.server import GameServer

    config = Config(
        host=args.host, port=args.port, interest_cell_size=150.0, web_root=_web_root(args.web_root)
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


def _add_replay(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def _replay(args: argparse.Namespace) -> int:
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

    config = Config(host=args.host, port=args.port, web_root=bundled_web_root())
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
    trio.run(_serve_until_signal, server, banner)
    return 0


def _add_new_game(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def _new_game(args: argparse.Namespace) -> int:
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


def _add_config(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gameserver.configcli import add_config_command

    add_config_command(sub, _SERVE_SHOWN_DEFAULTS)


def build_parser() -> argparse.ArgumentParser:
    from gameserver import __version__

    parser = argparse.ArgumentParser(prog="gameserver", description=__doc__)
    parser.add_argument("--version", action="version", version=f"gameserver {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_serve(sub)
    _add_swarm(sub)
    _add_spectate(sub)
    _add_token(sub)
    _add_demo(sub)
    _add_replay(sub)
    _add_new_game(sub)
    _add_config(sub)
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
            from gameserver.auth import Authenticator
            from gameserver.configcli import effective

            config = effective(args, _serve_base()).config
            Authenticator.from_config(config)  # key files read now: a bad one stops the start
        except (ValueError, GameLoadError) as exc:
            print(f"gameserver: {exc}", file=sys.stderr)
            return 2
        trio.run(_serve, config)
        return 0
    if args.command == "config":
        from gameserver.configcli import run_config_command

        return run_config_command(args, _serve_base())
    if args.command == "swarm":
        try:
            return trio.run(_swarm, args)
        except ValueError as exc:
            print(f"gameserver swarm: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            return 130
    if args.command == "token":
        return _token(args)
    if args.command == "replay":
        return _replay(args)
    if args.command == "new-game":
        return _new_game(args)
    if args.command == "demo":
        logging.getLogger().setLevel(logging.WARNING)  # the live view owns the terminal
        try:
            return trio.run(_demo, args)
        except KeyboardInterrupt:
            return 0
    if args.command == "spectate":
        from trio_websocket import HandshakeError

        from clients import ClientClosed

        try:
            return trio.run(_spectate, args)
        except KeyboardInterrupt:
            return 0
        except (OSError, HandshakeError, ClientClosed, trio.TooSlowError) as exc:
            cause = exc.__cause__ or exc
            print(f"gameserver spectate: cannot watch {args.url}: {cause}", file=sys.stderr)
            return 1
    return 2
