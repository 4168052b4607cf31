"""Lean swarm mode: every bot of a process served by one trio task over raw sockets.

Theory of operation: a normal swarm bot is a trio task plus a trio-websocket
connection, which costs far more CPU per message than the server spends on
it; on a small machine the load generator then measures itself. Here each bot
is a plain non-blocking socket and a little state. Connecting (TCP, then an
HTTP/1.1 upgrade done by hand, then the Join frame) runs in short-lived tasks;
once a bot has sent its Join it belongs to the single loop, which wakes on
absolute deadlines twice per server tick:

- on every tick boundary it sends each joined player one input (and,
  about once a second per bot, a Ping) with one ``sock.send``; bytes the kernel
  does not take wait in a bounded per-bot buffer;
- on every wake-up it drains each socket with ``recv_into`` a shared buffer
  (a read shorter than the buffer means the socket is empty: no second,
  failing recv) and parses the server's frames.

The run's process CPU time (``time.process_time``) over the connection-ticks
served is reported as ``client_cpu_us_per_bot_tick``: the price of the load
generator itself, to compare with the server's.

Protocol: each bot holds a ``ClientSession`` (``session.py``), the same sans-I/O
receiver the trio client and the spectator wrap; this module only moves its bytes
(WebSocket frames with ``gameserver.protocol.wsframes``). Every bot decodes its
messages until it has the Welcome. After that only a sample of bots
(``decode_sample``, at least one player and one spectator) follows the world: their
sessions apply every snapshot to their mirror, which verifies the stream. The others'
sessions do not follow it (``follow_world=False``): ``count_snapshot`` recognises a
snapshot by its first bytes and only counts it and keeps its tick. Pongs, Welcome and
Error are decoded by everyone.

Bots: each player is a rules-API bot driven by a ``BotDriver`` (``botdriver.py``): the
game's own bot, the one ``--bot`` names, or the game's load pattern ``--behaviour``
names (the benchmarks' ``bench``). A bot that follows the world is asked after each
snapshot with its decoded entities and events; one that does not is asked with an
empty world; its commands go out at once and its input, encoded with the Welcome's game
description, every tick. A game's own bot reads the world, so without ``--behaviour``
every player decodes.

Timing figures: a message's arrival time is the moment its bot's socket was
read, so snapshot gaps and RTTs are quantised to the read period (half a tick:
about 17 ms at 30 Hz). A steady 30 Hz stream shows gaps of 33 ms; a
snapshot that arrived more than half a tick late shows as 50 ms; two snapshots
found in one read show a gap of 0. Spectators only read: no input, no Ping;
RTTs come from the players.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable
from typing import Final

import attrs
import trio

from gameserver.protocol import CloseCode, ProtocolError, Role, Snapshot, Welcome
from gameserver.protocol.wsframes import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    close_payload,
)
from gameserver.protocol.wsframes import (
    close_code as close_frame_code,
)

from ._client import ABNORMAL_CLOSURE, MAX_SERVER_MESSAGE_BYTES, with_query
from ._stats import ClientStats
from .botdriver import BotDriver, BotFactory, BotLoadError, choose_bot
from .rawws import (
    FrameError,
    HandshakeFailed,
    Target,
    client_frame,
    frame_bounds,
    open_websocket,
)
from .session import EVENT_HISTORY, ClientSession
from .swarm_options import LIVE_SAMPLES, RunClock, SwarmOptions, bot_name, bot_tokens
from .swarm_stats import SwarmTotals, close_kind

RECV_SIZE: Final = 256 * 1024  # one shared receive buffer for all bots of the process
OUT_LIMIT: Final = 64 * 1024  # unsent bytes per bot; beyond this inputs are dropped, not queued
CLOSE_TIMEOUT_S: Final = 2.0  # how long leaving bots wait for the server's close frame
LEAVE_POLL_S: Final = 0.005
MAX_BEHIND_TICKS: Final = 5  # like the server's ticker: beyond this, skip ahead
DEFAULT_TICK_RATE: Final = 30  # until the first Welcome says otherwise
DriverMaker = Callable[["LeanBot", Welcome], "BotDriver | None"]

# Bot states. "closing": we sent our close frame and wait for the server's.
WAITING, JOINING, CONNECTED, CLOSING = "waiting", "joining", "connected", "closing"
DONE, FAILED, DROPPED = "done", "failed", "dropped"
_LIVE = frozenset({JOINING, CONNECTED, CLOSING})


def is_decoder(position: int, count: int, fraction: float) -> bool:
    """Whether bot ``position`` of ``count`` decodes: ``max(1, round(count * fraction))``
    of them do, spread evenly, the first always."""
    chosen = max(1, round(count * fraction))
    return position * chosen % count < chosen


# -- one bot -----------------------------------------------------------------------


class LeanBot:
    """One connection's socket and frames around its ``ClientSession``; the loop drives
    it, it never awaits."""

    __slots__ = (
        "close_code",
        "decode",
        "driver",
        "error",
        "fragment_opcode",
        "fragments",
        "index",
        "join_deadline",
        "joined_at",
        "key",
        "make_driver",
        "out",
        "pending",
        "role",
        "session",
        "sock",
        "state",
    )

    def __init__(
        self,
        index: int,
        role: Role,
        *,
        decode: bool,
        make_driver: DriverMaker | None = None,
    ) -> None:
        self.index = index
        self.role = role
        self.make_driver = make_driver  # given the Welcome, the bot's driver (players)
        self.driver: BotDriver | None = None
        self.decode = decode
        # A bot that follows the world hands its bot the events too; the others decode none.
        history = EVENT_HISTORY if decode and role is Role.PLAYER else 0
        self.session = ClientSession(
            role=role,
            name=bot_name(index, role),
            predict=False,
            interpolate=False,
            event_history=history,
            follow_world=decode,
        )
        self.sock: socket.socket | None = None
        self.state = WAITING
        # One random mask per bot rather than per frame: RFC 6455 wants a fresh,
        # unpredictable key per frame to protect proxies from cache poisoning,
        # which cannot matter to a load generator on loopback.
        self.key = os.urandom(4)
        self.pending: bytes = b""  # start of a frame not yet complete
        self.fragments: bytearray | None = None
        self.fragment_opcode = 0
        self.out = bytearray()  # bytes the kernel has not taken yet
        self.close_code: int | None = None
        self.error: str | None = None  # the error kind to count, once the bot has ended
        self.join_deadline = 0.0
        self.joined_at: float | None = None

    @property
    def name(self) -> str:
        return self.session.name

    @property
    def stats(self) -> ClientStats:
        return self.session.stats

    @property
    def tick(self) -> int:
        """The newest snapshot tick seen."""
        return self.session.tick

    @property
    def welcome(self) -> Welcome | None:
        return self.session.welcome

    # -- sending -----------------------------------------------------------------

    def send(self, data: bytes) -> bool:
        """Send or buffer ``data``; False (nothing queued) when the buffer is full."""
        sock = self.sock
        if sock is None:
            return False
        out = self.out
        if out:
            if len(out) + len(data) > OUT_LIMIT:
                return False
            out += data
            self.flush()
            return True
        try:
            sent = sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.lost()
            return True  # the bytes were handed over as far as we can tell; the bot is gone
        if sent < len(data):
            out += data[sent:]
        return True

    def flush(self) -> None:
        out, sock = self.out, self.sock
        if not out or sock is None:
            return
        try:
            sent = sock.send(out)
        except BlockingIOError:
            return
        except OSError:
            self.lost()
            return
        del out[:sent]

    def send_message(self, payload: bytes) -> bool:
        if not self.send(client_frame(OP_BINARY, payload, self.key)):
            return False
        self.stats.messages_sent += 1
        self.stats.bytes_sent += len(payload)
        return True

    def send_tick(self, ping: bool) -> None:
        """Send this tick's input (players whose bot has an input), and a Ping when
        ``ping``."""
        session = self.session
        driver = self.driver
        is_player = False
        data = b""
        payload_bytes = 0
        if driver is not None and driver.input_fields is not None:
            payload = session.wire_input_message(driver.input_fields)
            is_player = True
            data = client_frame(OP_BINARY, payload, self.key)
            payload_bytes = len(payload)
        if ping:
            payload = session.ping_message(time.perf_counter())
            data += client_frame(OP_BINARY, payload, self.key)
            payload_bytes += len(payload)
        if not data:
            return
        stats = session.stats
        if not self.send(data):
            # The server is not reading us: nothing was queued, so nothing counts as sent
            # (and the next frame takes this one's sequence number).
            session.seq -= is_player
            stats.inputs_not_sent += is_player
            return
        stats.inputs_sent += is_player
        stats.messages_sent += is_player + ping
        stats.bytes_sent += payload_bytes

    def send_commands(self, commands: list[bytes]) -> None:
        for command in commands:
            self.send_message(command)

    # -- ending --------------------------------------------------------------------

    def start_close(self, code: int = CloseCode.NORMAL, reason: str = "") -> None:
        """Send our close frame; the bot waits for the server's in state ``closing``."""
        self.send(client_frame(OP_CLOSE, close_payload(code, reason), self.key))
        if self.state in _LIVE:
            self.state = CLOSING

    def end(self, state: str, error: str | None = None) -> None:
        self.state = state
        if error is not None and self.error is None:
            self.error = error
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()
        self.pending, self.fragments = b"", None
        self.out.clear()

    def lost(self) -> None:
        """The TCP connection ended without a close frame (or with a socket error)."""
        if self.state == CLOSING:
            self.end(DONE)
        elif self.state == CONNECTED:
            self.close_code = ABNORMAL_CLOSURE
            self.end(DROPPED, f"closed_{ABNORMAL_CLOSURE}")
        elif self.state in _LIVE:
            self.end(FAILED, "connect_error")

    def fail(self, code: int, reason: str) -> None:
        """We found a protocol violation: close with ``code`` and stop this bot."""
        self.close_code = code
        self.send(client_frame(OP_CLOSE, close_payload(code, reason), self.key))
        kind = f"protocol_error_{code}"
        self.end(FAILED if self.state == JOINING else DROPPED, kind)

    def on_close_frame(self, payload: bytes) -> None:
        code = close_frame_code(payload)
        if self.state == CLOSING:
            self.close_code = self.close_code or code
            self.end(DONE)
            return
        self.close_code = code
        self.send(client_frame(OP_CLOSE, payload[:2], self.key))  # echo, best effort
        self.end(FAILED if self.state == JOINING else DROPPED, close_kind(code))

    # -- receiving -----------------------------------------------------------------

    def feed(self, buf: bytes | bytearray, end: int, now: float) -> None:
        """Handle the complete frames in ``buf[:end]``; keep the incomplete rest."""
        pos = 0
        try:
            while True:
                bounds = frame_bounds(buf, pos, end)
                if bounds is None:
                    break
                b0, start, stop = bounds
                pos = stop
                opcode = b0 & 0x0F
                if opcode == OP_BINARY and b0 & 0x80 and self.fragments is None:
                    self._message(buf, start, stop, now)
                else:
                    self._other_frame(b0, bytes(buf[start:stop]), now)
                if self.sock is None:
                    return
        except FrameError as exc:
            self.fail(exc.code, str(exc))
            return
        except ProtocolError as exc:
            self.fail(exc.code, exc.reason)
            return
        self.pending = bytes(buf[pos:end]) if pos < end else b""

    def _other_frame(self, b0: int, payload: bytes, now: float) -> None:
        opcode, fin = b0 & 0x0F, b0 & 0x80
        if opcode >= 8:
            if not fin or len(payload) > 125:
                raise FrameError(CloseCode.PROTOCOL_ERROR, "fragmented or long control frame")
            if opcode == OP_CLOSE:
                self.on_close_frame(payload)
            elif opcode == OP_PING:
                self.send(client_frame(OP_PONG, payload, self.key))
            elif opcode != OP_PONG:
                raise FrameError(CloseCode.PROTOCOL_ERROR, f"unknown opcode {opcode}")
            return
        if opcode == OP_CONTINUATION:
            if self.fragments is None:
                raise FrameError(CloseCode.PROTOCOL_ERROR, "continuation without a start")
            self.fragments += payload
            if len(self.fragments) > MAX_SERVER_MESSAGE_BYTES:
                raise FrameError(CloseCode.MESSAGE_TOO_BIG, "fragmented message too big")
        elif opcode in (OP_TEXT, OP_BINARY):
            if self.fragments is not None:
                raise FrameError(CloseCode.PROTOCOL_ERROR, "new message inside a fragmented one")
            self.fragments, self.fragment_opcode = bytearray(payload), opcode
        else:
            raise FrameError(CloseCode.PROTOCOL_ERROR, f"unknown opcode {opcode}")
        if fin:
            whole, self.fragments = bytes(self.fragments), None
            if self.fragment_opcode == OP_TEXT:
                raise ProtocolError(CloseCode.UNSUPPORTED_DATA, "server sent a text frame")
            self._message(whole, 0, len(whole), now)

    def _message(self, buf: bytes | bytearray, start: int, stop: int, now: float) -> None:
        session = self.session
        driver = self.driver
        tick = session.count_snapshot(buf, start, stop, now)
        if tick is not None:
            if driver is not None:
                commands = driver.on_blind_snapshot(tick)
                if commands:
                    self.send_commands(commands)
            return
        message = session.receive(bytes(buf[start:stop]), now)
        if isinstance(message, Snapshot):
            if driver is None:
                return
            if session.follow_world:
                commands = driver.on_decoded_snapshot(session.tick, session.world, session.events)
            else:
                commands = driver.on_blind_snapshot(session.tick)
            self.send_commands(commands)
        elif isinstance(message, Welcome):
            if self.make_driver is not None and self.role is Role.PLAYER:
                self.driver = self.make_driver(self, message)
                if self.driver is None:  # no bot can play this game (said once by the swarm)
                    self.end(FAILED, "no_bot")
                    return
            if self.state == JOINING:
                self.state = CONNECTED
                self.joined_at = now


# -- the swarm -----------------------------------------------------------------------


class LeanSwarm(RunClock):
    """The lean counterpart of ``Swarm``: same options, same totals, one loop for every bot."""

    def __init__(self, options: SwarmOptions) -> None:
        super().__init__()
        self.options = options
        self.target = Target.from_url(options.url)
        self.tokens = bot_tokens(options)
        first, fraction = options.first_index, options.decode_sample
        # A game's bot reads the world: every player bot decodes then.
        players_fraction = fraction if options.behaviour is not None else 1.0
        self.bots = [
            LeanBot(first + i, Role.PLAYER,
                    decode=is_decoder(i, options.bots, players_fraction),
                    make_driver=self._make_driver)
            for i in range(options.bots)
        ] + [
            LeanBot(first + options.bots + i, Role.SPECTATOR,
                    decode=is_decoder(i, options.spectators, fraction))
            for i in range(options.spectators)
        ]  # fmt: skip
        self.live: list[LeanBot] = []  # bots with a socket, in the loop's hands
        self.unstarted = 0  # connect tasks still waiting for their start time
        self.connecting = 0  # connect tasks in the TCP connect or the handshake
        self.tick_rate = DEFAULT_TICK_RATE
        self.rate_known = False
        self._started_perf = 0.0
        self.bot_ticks = 0  # one per joined connection per loop tick
        self.loop_ticks = 0
        self.loop_ticks_skipped = 0  # the loop fell behind and skipped ahead
        self._buffer = bytearray(RECV_SIZE)
        self._view = memoryview(self._buffer)
        self._bot_factories: dict[str, BotFactory] = {}  # game name -> its bot class
        self.bot_problem: str | None = None

    def _make_driver(self, bot: LeanBot, welcome: Welcome) -> BotDriver | None:
        """The game's bot for a player that was just welcomed; None if none can play."""
        game, options = welcome.game, self.options
        schema = bot.session.schema  # rebuilt once per description, shared by every bot
        try:
            factory = self._bot_factories.get(game)
            if factory is None:
                factory = choose_bot(game, bot=options.bot, behaviour=options.behaviour)
                self._bot_factories[game] = factory
            if schema is None:
                raise BotLoadError("the server's game is not described: no bot can play")
        except BotLoadError as error:
            if self.bot_problem is None:
                self.bot_problem = str(error)
                print(f"gameserver swarm: {error}", file=sys.stderr)
            return None
        return BotDriver(factory(options.seed + bot.index), schema, welcome.entity_id, welcome)

    # -- reporting -------------------------------------------------------------------

    def totals(self, *, samples: int | None = LIVE_SAMPLES) -> SwarmTotals:
        """Totals so far, with each bot's newest ``samples`` samples (None: all)."""
        options = self.options
        totals = SwarmTotals(bots=options.bots, spectators=options.spectators)
        for bot in self.bots:
            if bot.error is not None:
                totals.errors[bot.error] += 1
            if bot.joined_at is not None:
                totals.add_client(bot.stats, bot.tick, samples=samples)
                totals.connected += 1
                totals.decoders += bot.decode
                totals.join_s.append(bot.joined_at - self._started_perf)
            totals.active += bot.state in (CONNECTED, CLOSING)
            totals.failed += bot.state == FAILED
            totals.dropped += bot.state == DROPPED
        totals.client_cpu_s = self.cpu_s()
        totals.bot_ticks = self.bot_ticks
        totals.loop_ticks_skipped = self.loop_ticks_skipped
        return totals

    # -- the run -----------------------------------------------------------------------

    async def run(self) -> SwarmTotals:
        options = self.options
        self.start(options.duration_s)
        self._started_perf = time.perf_counter()
        try:
            infos = await trio.socket.getaddrinfo(
                self.target.host, self.target.port, type=socket.SOCK_STREAM
            )
        except OSError:
            infos = []
        if not infos:
            for bot in self.bots:
                bot.end(FAILED, "connect_error")
        else:
            family, _, _, _, address = infos[0]
            count = len(self.bots)
            async with trio.open_nursery() as nursery:
                self.unstarted = count
                for i, bot in enumerate(self.bots):
                    start_at = self.started_at + (options.ramp_s * i / count if count > 1 else 0)
                    nursery.start_soon(self._connect, bot, start_at, family, address)
                await self._loop()
                await self._leave()
                nursery.cancel_scope.cancel()  # bots whose start time never came
        self.finish()
        return self.totals(samples=None)

    async def _connect(
        self, bot: LeanBot, start_at: float, family: int, address: tuple[object, ...]
    ) -> None:
        await trio.sleep_until(start_at)
        self.unstarted -= 1
        if trio.current_time() >= self.deadline:
            return
        self.connecting += 1
        timeout = self.options.connect_timeout_s
        try:
            with trio.fail_after(timeout):
                opened = await open_websocket(address, family, self._target_of(bot))
        except trio.TooSlowError:
            bot.end(FAILED, "connect_timeout")
            return
        except HandshakeFailed as exc:
            bot.end(FAILED, exc.kind)
            return
        except OSError:
            bot.end(FAILED, "connect_error")
            return
        finally:
            self.connecting -= 1
        bot.sock, bot.state = opened.sock, JOINING
        bot.join_deadline = trio.current_time() + timeout
        bot.send_message(bot.session.join_message())
        self.live.append(bot)
        if opened.early:
            bot.feed(opened.early, len(opened.early), time.perf_counter())

    async def _loop(self) -> None:
        """Until the deadline: send on every tick, read every half tick."""
        next_at = trio.current_time()
        phase = 0
        while True:
            now = trio.current_time()
            if now >= self.deadline or not (self.live or self.unstarted or self.connecting):
                break
            if phase == 0:
                self._send_pass()
            self._read_pass(now)
            if not self.rate_known:
                self._learn_tick_rate()
            phase ^= 1
            half = 0.5 / self.tick_rate
            next_at += half
            behind = trio.current_time() - next_at
            if behind > MAX_BEHIND_TICKS * 2 * half:
                skipped = int(behind / half)
                self.loop_ticks_skipped += skipped // 2
                next_at += skipped * half
            await trio.sleep_until(min(next_at, self.deadline))

    def _target_of(self, bot: LeanBot) -> Target:
        """The URL's target, with the bot's own identity token when it has one."""
        token = self.tokens.token_for(bot.index, bot.name, bot.role)
        if token is None:
            return self.target
        return attrs.evolve(self.target, path=with_query(self.target.path, token=token))

    def _learn_tick_rate(self) -> None:
        for bot in self.live:
            if bot.welcome is not None:
                self.tick_rate = bot.welcome.tick_rate
                self.rate_known = True
                return

    def _send_pass(self) -> None:
        self.loop_ticks += 1
        rate = self.tick_rate
        ping_every = max(1, round(self.options.ping_interval_s * rate))
        slot = self.loop_ticks % ping_every  # pings are spread evenly over the interval
        active = 0
        for bot in self.live:
            if bot.state != CONNECTED:
                continue
            active += 1
            if bot.role is Role.PLAYER:
                bot.send_tick(bot.index % ping_every == slot)
        self.bot_ticks += active

    def _read_pass(self, now: float) -> None:
        """Drain every live socket; end bots whose join deadline passed."""
        buffer, view, size = self._buffer, self._view, RECV_SIZE
        clock = time.perf_counter
        ended = False
        for bot in self.live:
            sock = bot.sock
            if sock is None:
                ended = True
                continue
            if bot.out:
                bot.flush()
            while True:
                try:
                    n = sock.recv_into(buffer)
                except BlockingIOError:
                    break
                except OSError:
                    bot.lost()
                    break
                if not n:
                    bot.lost()
                    break
                if bot.pending:
                    data = bot.pending + view[:n]
                    bot.feed(data, len(data), clock())
                else:
                    bot.feed(buffer, n, clock())
                # A short read means the kernel had nothing more at that moment:
                # the socket is drained without paying for a recv that fails.
                if n < size or bot.sock is None:
                    break
            if bot.state == JOINING and now > bot.join_deadline:
                bot.end(FAILED, "connect_timeout")
            if bot.sock is None:
                ended = True
        if ended:
            self.live = [bot for bot in self.live if bot.sock is not None]

    async def _leave(self) -> None:
        """Close every connection normally; wait (bounded) for the server's close frames."""
        now = trio.current_time()
        limit = now + CLOSE_TIMEOUT_S
        if self.connecting or any(bot.state == JOINING for bot in self.live):
            limit = max(limit, now + self.options.connect_timeout_s)
        while True:
            for bot in self.live:
                if bot.state == CONNECTED:
                    bot.start_close()
            now = trio.current_time()
            self._read_pass(now)
            if now >= limit or not (self.live or self.connecting):
                break
            await trio.sleep(LEAVE_POLL_S)
        for bot in self.live:
            if bot.joined_at is not None:
                bot.end(DONE)
            else:
                bot.end(FAILED, "connect_timeout")
        self.live = []
