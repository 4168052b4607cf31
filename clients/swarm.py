"""The bot swarm: many headless clients against one server, with live stats.

Theory of operation: every bot is one trio task holding one ``GameClient``,
played by the game's own bot (``botdriver.py``: asked after each snapshot, its
input encoded from the Welcome's game description), by ``bot``, or, with
``behaviour``, by one of the load patterns the game ships (the benchmarks run
the arena's ``bench``). Bots start spread evenly over the ramp,
send one input per server tick
on absolute deadlines (so they never drift into sending faster than the
tick), ping once a second for RTT, and leave with a normal close when the
duration ends: the run is bounded in time and in connection count. With
``procs > 1`` the parent starts worker processes (this same command with
``--worker``), each running its share of bots and printing JSON lines
(progress, then a final total with samples); the parent merges them.

A bot placed by matchmaking (``match_mode``) whose room's node dies (closed
with 1006, 1001 or 1011) goes back to matchmaking, as the client library
does: it first checks whether the node still answers a TCP connection and, if
not, names it in its request (``unreachable``), so matchmaking can stop
offering it at once; the entry URL is asked first, then any node seen placing
bots. Attempts back off from 0.1 s to 2 s, at most ``REPLACE_ATTEMPTS`` of
them within ``replace_timeout_s``; the time from the drop to the new Welcome
is reported per re-placement.

``lean=True`` runs the same bots through ``gameserver.clients.lean`` instead: one loop
over raw sockets for every bot of a process, for runs where the swarm's own
CPU must stay far below the server's. SIGTERM ends a run early but normally
(bots leave with 1000 and the summary is printed): benchmarks use it to stop
a swarm when their measuring window is over.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, Protocol

import attrs
import trio
from trio_websocket import ConnectionRejected, HandshakeError

from gameserver.protocol import CloseCode, Role

from ._client import ABNORMAL_CLOSURE, ClientClosed, GameClient, connect
from .botdriver import BotDriver, BotFactory, BotLoadError, choose_bot, schema_from_welcome
from .matchmaking import Match, MatchFailed, find_match, reachable
from .swarm_options import LIVE_SAMPLES as LIVE_SAMPLES
from .swarm_options import RunClock as RunClock
from .swarm_options import SwarmOptions as SwarmOptions
from .swarm_options import bot_name
from .swarm_options import bot_tokens as bot_tokens
from .swarm_stats import SwarmTotals, close_kind
from .swarm_tokens import SECRET_ENV

PROGRESS_INTERVAL_S = 0.5
# Closes that mean the room's node (or the room) is gone rather than that the bot erred:
# a bot placed by matchmaking goes back to matchmaking after them.
REPLACED_AFTER = frozenset({ABNORMAL_CLOSURE, CloseCode.GOING_AWAY, CloseCode.INTERNAL_ERROR})
REPLACE_ATTEMPTS = 10  # matchmaking attempts per re-placement, within replace_timeout_s
REPLACE_BASE_DELAY_S = 0.1  # before the second attempt; doubles up to the next
REPLACE_MAX_DELAY_S = 2.0
REACH_TIMEOUT_S = 1.0  # the check that a lost node cannot be reached, before reporting it


@attrs.define(eq=False)
class BotRecord:
    index: int
    role: Role
    client: GameClient | None = None
    state: str = "waiting"  # waiting, connected, done, failed, dropped
    joined_s: float | None = None  # run start -> connected
    ticks: int = 0  # server ticks spent connected (known once the bot has ended)
    room: str = ""  # the room matchmaking placed it in (--match)
    earlier: list[GameClient] = attrs.field(factory=list)  # connections before a re-placement
    replaced_s: list[float] = attrs.field(factory=list)  # drop -> welcome, per re-placement


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRejected):
        return f"rejected_http_{exc.status_code}"
    if isinstance(exc, ClientClosed):
        return close_kind(exc.code)
    if isinstance(exc, HandshakeError):
        # trio-websocket reports a refused TCP connection as a HandshakeError caused by OSError.
        return "connect_error" if isinstance(exc.__cause__, OSError) else "handshake_error"
    if isinstance(exc, trio.TooSlowError):
        return "connect_timeout"
    if isinstance(exc, MatchFailed):
        return f"match_http_{exc.status}"
    return "connect_error"


class SwarmRunner(Protocol):
    """What the command needs from a swarm, normal or lean."""

    async def run(self) -> SwarmTotals: ...

    def totals(self, *, samples: int | None = LIVE_SAMPLES) -> SwarmTotals: ...

    def elapsed_s(self) -> float: ...

    def stop(self) -> None: ...


def make_swarm(options: SwarmOptions) -> SwarmRunner:
    if options.lean:
        from .lean import LeanSwarm

        return LeanSwarm(options)
    return Swarm(options)


class Swarm(RunClock):
    def __init__(self, options: SwarmOptions) -> None:
        super().__init__()
        self.options = options
        self.records = [
            BotRecord(options.first_index + i, Role.PLAYER) for i in range(options.bots)
        ] + [
            BotRecord(options.first_index + options.bots + i, Role.SPECTATOR)
            for i in range(options.spectators)
        ]
        self.errors: dict[str, int] = {}
        self.node_urls: dict[str, str] = {}  # --match: node id -> its HTTP URL, as seen
        self.tokens = bot_tokens(options)
        self.bot_factories: dict[str, BotFactory] = {}  # game name -> its bot class
        self.bot_problem: str | None = None  # why no bot could play, once

    def totals(self, *, samples: int | None = LIVE_SAMPLES) -> SwarmTotals:
        """Totals so far, with each client's newest ``samples`` samples (None: all)."""
        totals = SwarmTotals(bots=self.options.bots, spectators=self.options.spectators)
        totals.errors.update(self.errors)
        for record in self.records:
            for earlier in record.earlier:
                totals.add_client(earlier.stats, earlier.tick, samples=samples)
            if record.client is not None:
                totals.add_client(record.client.stats, record.client.tick, samples=samples)
            totals.replaced += len(record.replaced_s)
            totals.replace_s.extend(record.replaced_s)
            if record.joined_s is not None:
                totals.join_s.append(record.joined_s)
                totals.decoders += 1  # every normal bot decodes everything
            totals.bot_ticks += record.ticks
            if record.room and record.joined_s is not None:
                totals.rooms[record.room] += 1
            totals.connected += record.state in ("connected", "done", "dropped")
            totals.active += record.state == "connected"
            totals.failed += record.state == "failed"
            totals.dropped += record.state == "dropped"
        totals.client_cpu_s = self.cpu_s()
        return totals

    async def run(self) -> SwarmTotals:
        options = self.options
        self.start(options.duration_s)
        count = len(self.records)
        async with trio.open_nursery() as nursery:
            for i, record in enumerate(self.records):
                start_at = self.started_at + (options.ramp_s * i / count if count > 1 else 0.0)
                nursery.start_soon(self._bot, record, start_at)
        self.finish()
        return self.totals(samples=None)

    def _count_error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    async def _bot(self, record: BotRecord, start_at: float) -> None:
        """One bot: placed (or joined at url), playing until the end; with --match, placed
        again through matchmaking when its room's node dies, within replace_timeout_s."""
        options = self.options
        await trio.sleep_until(start_at)
        if trio.current_time() >= self.deadline:
            return
        name = bot_name(record.index, record.role)
        token = self.tokens.token_for(record.index, name, record.role)
        lost: Match | None = None  # the placement whose node we lost, while re-placing
        lost_at = give_up_at = 0.0
        attempt = 0
        delay = REPLACE_BASE_DELAY_S
        while True:
            seat: Match | None = None
            if lost is not None and trio.current_time() >= give_up_at:
                self._count_error("replace_timeout")  # the run ended, or the time allowed
                return
            try:
                url = options.url
                if options.match_mode is not None:
                    seat = await self._find_seat(name, token, lost)
                    record.room = seat.room
                    url = seat.url
                async with connect(
                    url,
                    token=token,
                    role=record.role,
                    name=name,
                    connect_timeout_s=options.connect_timeout_s,
                    seed=options.seed + record.index,
                    interpolate=False,  # bots do not render
                ) as client:
                    if record.client is not None:
                        record.earlier.append(record.client)
                    record.client, record.state = client, "connected"
                    now = trio.current_time()
                    if lost is None:
                        record.joined_s = now - self.started_at
                    else:
                        record.replaced_s.append(now - lost_at)
                        lost = None
                    await self._play(record, client)
            except (OSError, HandshakeError, ClientClosed, trio.TooSlowError, MatchFailed) as exc:
                if record.state == "waiting":
                    record.state = "failed"
                    self._count_error(_error_kind(exc))
                    return
                if lost is None:
                    raise
                # One re-placement attempt failed: try again after a while, within bounds.
                attempt += 1
                now = trio.current_time()
                if attempt >= REPLACE_ATTEMPTS or now + delay >= give_up_at:
                    self._count_error(f"replace_failed_{_error_kind(exc)}")
                    return
                await trio.sleep(delay)
                delay = min(REPLACE_MAX_DELAY_S, delay * 2)
                continue
            failure = record.client.failure if record.client is not None else None
            if (
                seat is None
                or record.state != "dropped"
                or failure is None
                or failure.code not in REPLACED_AFTER
                or options.replace_timeout_s == 0
            ):
                return
            lost, lost_at = seat, trio.current_time()
            give_up_at = min(self.deadline, lost_at + options.replace_timeout_s)
            attempt, delay = 0, REPLACE_BASE_DELAY_S

    async def _find_seat(self, name: str, token: str | None, lost: Match | None) -> Match:
        """A seat from matchmaking: at the entry URL, else at any node seen placing us.

        ``lost``: the placement whose node was lost; when that node cannot be reached,
        matchmaking is told (it checks, and stops offering a dead node at once).
        """
        options = self.options
        assert options.match_mode is not None
        unreachable = None
        if lost is not None and not await reachable(lost.url, REACH_TIMEOUT_S):
            unreachable = lost.node
        urls = [options.url] + [
            url
            for node, url in self.node_urls.items()
            if node != unreachable and url.rstrip("/") != options.url.rstrip("/")
        ]
        for i, url in enumerate(urls):
            try:
                seat = await find_match(
                    url,
                    mode=options.match_mode,
                    name=name,
                    token=token,
                    unreachable=unreachable,
                    timeout_s=options.connect_timeout_s,
                )
            except OSError:
                if i == len(urls) - 1:
                    raise
                continue  # that node is gone too: ask another
            if seat.http_url:
                self.node_urls[seat.node] = seat.http_url
            return seat
        raise AssertionError("unreachable: urls is never empty")

    def _no_bot(self, record: BotRecord, problem: str) -> None:
        """No bot can play this game: the bot leaves, counted as failed, said once."""
        record.state = "failed"
        self._count_error("no_bot")
        if self.bot_problem is None:
            self.bot_problem = problem
            print(f"gameserver swarm: {problem}", file=sys.stderr)

    def _driver(self, record: BotRecord, client: GameClient) -> BotDriver | None:
        """The game's bot for this connection (None for a spectator); ``BotLoadError``."""
        welcome = client.welcome
        assert welcome is not None
        if record.role is not Role.PLAYER:
            return None
        factory = self.bot_factories.get(welcome.game)
        if factory is None:
            options = self.options
            factory = choose_bot(welcome.game, bot=options.bot, behaviour=options.behaviour)
            self.bot_factories[welcome.game] = factory
        schema = schema_from_welcome(welcome.schema)
        return BotDriver(
            factory(self.options.seed + record.index), schema, welcome.entity_id, welcome
        )

    async def _play(self, record: BotRecord, client: GameClient) -> None:
        assert client.welcome is not None
        tick_rate = client.welcome.tick_rate
        interval = 1.0 / tick_rate
        is_player = record.role is Role.PLAYER
        try:
            driver = self._driver(record, client)
        except BotLoadError as error:
            self._no_bot(record, str(error))
            return
        asked_tick = 0
        joined = next_input = next_ping = trio.current_time()
        while client.failure is None:
            now = trio.current_time()
            deadline = self.deadline  # stop() may move it
            if now >= deadline:
                break
            if driver is not None and client.tick != asked_tick:
                asked_tick = client.tick  # the bot is asked once per snapshot
                for command in driver.on_decoded_snapshot(
                    client.tick, client.entities, client.events
                ):
                    await client.send_raw(command)
            if is_player and now >= next_input:
                if driver is not None and driver.input_fields is not None:
                    await client.send_raw(client.session.wire_input_message(driver.input_fields))
                    client.stats.inputs_sent += 1
                next_input += interval
            if now >= next_ping:
                await client.ping()
                next_ping += self.options.ping_interval_s
            wake = min(next_ping, deadline, next_input if is_player else deadline)
            await trio.sleep_until(wake)
        record.ticks += round((trio.current_time() - joined) * tick_rate)
        if client.failure is not None:
            record.state = "dropped"
            self._count_error(close_kind(client.failure.code))
        else:
            record.state = "done"


# -- worker processes -----------------------------------------------------------


def worker_args(options: SwarmOptions, worker: int) -> tuple[list[str], int, int]:
    """Command line for worker ``worker``, and how many bots/spectators it runs."""

    def share(total: int) -> tuple[int, int]:
        base, extra = divmod(total, options.procs)
        first = worker * base + min(worker, extra)
        return first, base + (worker < extra)

    first_bot, bots = share(options.bots)
    first_spec, spectators = share(options.spectators)
    args = [
        sys.executable,
        "-m",
        "gameserver",
        "swarm",
        "--worker",
        "--url",
        options.url,
        "--bots",
        str(bots),
        "--spectators",
        str(spectators),
        "--duration",
        str(options.duration_s),
        "--ramp",
        str(options.ramp_s),
        "--seed",
        str(options.seed),
        "--first-index",
        str(first_bot + first_spec),
    ]
    args += ["--connect-timeout", str(options.connect_timeout_s)]
    if options.behaviour is not None:
        args += ["--behaviour", options.behaviour]
    if options.bot is not None:
        args += ["--bot", options.bot]
    if options.token_file is not None:
        args += ["--tokens", options.token_file]
    if options.token_issuer is not None:
        args += ["--jwt-issuer", options.token_issuer]
    if options.token_audience is not None:
        args += ["--jwt-audience", options.token_audience]
    if options.match_mode is not None:
        args += ["--match", options.match_mode]
        args += ["--replace-timeout", str(options.replace_timeout_s)]
    if options.lean:
        args += ["--lean", "--decode-sample", str(options.decode_sample)]
    return args, bots, spectators


async def run_workers(
    options: SwarmOptions,
    on_progress: Callable[[SwarmTotals], None],
    stop: trio.Event | None = None,
) -> tuple[SwarmTotals, float]:
    """Run ``options.procs`` worker processes; merge their totals.

    Setting ``stop`` asks every worker (SIGTERM) to end its run early, normally.
    """
    latest: dict[int, SwarmTotals] = {}
    finals: dict[int, SwarmTotals] = {}
    processes: list[trio.Process] = []
    started = trio.current_time()

    def combined(source: dict[int, SwarmTotals]) -> SwarmTotals:
        total = SwarmTotals()
        for part in source.values():
            total.merge(part)
        return total

    async def one(worker: int) -> None:
        args, bots, spectators = worker_args(options, worker)
        if bots + spectators == 0:
            return
        env = dict(os.environ)
        if options.token_secret is not None:
            env[SECRET_ENV] = options.token_secret  # a key never goes on a command line
        process = await trio.lowlevel.open_process(args, stdout=-1, env=env)
        processes.append(process)
        assert process.stdout is not None
        buffer = b""
        try:
            while chunk := await process.stdout.receive_some():
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    message = json.loads(line)
                    totals = SwarmTotals.from_json(message["totals"])
                    if message["type"] == "final":
                        finals[worker] = totals
                    latest[worker] = totals
                    on_progress(combined(latest))
        finally:
            with trio.CancelScope(shield=True):
                if process.returncode is None:
                    await process.wait()
        if worker not in finals:
            lost = SwarmTotals(bots=bots, spectators=spectators, failed=bots + spectators)
            lost.errors["worker_crashed"] = 1
            finals[worker] = lost

    async def forward_stop(event: trio.Event) -> None:
        await event.wait()
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)

    async with trio.open_nursery() as nursery:
        if stop is not None:
            nursery.start_soon(forward_stop, stop)
        async with trio.open_nursery() as workers:
            for worker in range(options.procs):
                workers.start_soon(one, worker)
        nursery.cancel_scope.cancel()
    return combined(finals), trio.current_time() - started


async def stop_on_sigterm(stop: Callable[[], None]) -> None:
    """Call ``stop`` at the first SIGTERM (run until cancelled)."""
    with trio.open_signal_receiver(signal.SIGTERM) as signals:
        async for _ in signals:
            stop()
            return


async def run_worker(options: SwarmOptions) -> SwarmTotals:
    """Worker mode: run the bots, print JSON lines of progress, then the final totals."""
    swarm = make_swarm(options)

    def emit(kind: str, totals: SwarmTotals) -> None:
        print(json.dumps({"type": kind, "totals": totals.to_json()}), flush=True)

    async with trio.open_nursery() as nursery:

        async def progress() -> None:
            while True:
                await trio.sleep(PROGRESS_INTERVAL_S)
                emit("progress", swarm.totals())

        nursery.start_soon(progress)
        nursery.start_soon(stop_on_sigterm, swarm.stop)
        totals = await swarm.run()
        nursery.cancel_scope.cancel()
    emit("final", totals)
    return totals


def exit_status(totals: SwarmTotals) -> int:
    """Non-zero when any bot failed to connect or met a protocol error."""
    protocol = any(kind.startswith("protocol_error") for kind in totals.errors)
    return 1 if totals.failed or protocol or "worker_crashed" in totals.errors else 0


def summary_json(totals: SwarmTotals, duration_s: float) -> str:
    return json.dumps(totals.summary(duration_s))


def summary_text(totals: SwarmTotals, duration_s: float) -> str:
    s: dict[str, Any] = totals.summary(duration_s)
    lines = [
        f"swarm: {s['bots']} bots + {s['spectators']} spectators for {s['duration_s']:.1f}s",
        f"  connected {s['connected']}  failed {s['failed']}  dropped {s['dropped']}",
        f"  snapshots {s['snapshots_received']} ({s['snapshots_per_bot_s']}/bot/s)",
        f"  received {s['bytes_received']} B ({s['bytes_per_bot_s']} B/bot/s)"
        f"  sent {s['bytes_sent']} B",
        f"  rtt p50 {s['rtt_ms_p50']} ms  p99 {s['rtt_ms_p99']} ms"
        f"  snapshot gap p99 {s['snapshot_gap_ms_p99']} ms",
        f"  client cpu {s['client_cpu_s']} s = {s['client_cpu_us_per_bot_tick']} us per bot-tick"
        f"  ({s['decoders']} decoding)",
        f"  errors: {s['errors'] or 'none'}",
    ]
    if s["replaced"]:
        lines.append(
            f"  re-placed after their node died: {s['replaced']}"
            f" in {s['replace_s_p50']} s (p50), {s['replace_s_max']} s (max)"
        )
    if s["loop_ticks_skipped"]:
        lines.append(
            f"  the bot loop fell behind ({s['loop_ticks_skipped']} ticks skipped): "
            "use a smaller --decode-sample or more --procs"
        )
    return "\n".join(lines)
