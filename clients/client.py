"""The trio client library: connect as player or spectator, mirror the world, reconnect.

Theory of operation: ``connect()`` starts one background task that owns the
WebSocket. It joins, then reads every server message, keeps the world mirror
(the receiver's half of the delta protocol: each snapshot names the baseline
tick it was diffed against, which must be the mirror's tick, or 0 for a full
snapshot) and wakes anyone waiting in ``wait_for``. When the connection drops
for a reason worth retrying (server restart 1001, abnormal close, refused
TCP...), the task reconnects with exponential backoff and jitter, joins again
and starts from a full snapshot; after ``max_attempts`` consecutive failures it
gives up and ``wait_for`` raises ``ReconnectFailed``. Close codes that say the
client itself is at fault (protocol errors) are never retried.

Credentials: ``token`` (an identity token) rides as ``?token=`` on every URL that
has none, so a seat from matchmaking (``?seat=``) goes with the identity it is bound
to. A player that has been welcomed reconnects with ``?resume=<resume token>``
instead of its token and seat (which may be single-use or expired): the resume
token proves the player (docs/protocol.md section 1.1). If the server refuses that
handshake, the resume is dropped and the next attempt uses the original URL.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import random
import ssl
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs
import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    HandshakeError,
    WebSocketConnection,
    open_websocket_url,
)

from gameserver.games.arena import ArenaRules, ArenaSettings, Buttons
from gameserver.protocol import (
    SUBPROTOCOL,
    Chat,
    CloseCode,
    DeltaError,
    Error,
    FindMatch,
    InputFrame,
    Join,
    Matched,
    Ping,
    Pong,
    ProtocolError,
    Role,
    Say,
    Snapshot,
    Welcome,
    WireState,
    apply,
    decode_server_message,
    encode,
)

from .clock import ClockEstimator
from .interpolation import EntityView, Interpolator, default_delay_s
from .prediction import Predictor
from .stats import ClientStats

log = logging.getLogger(__name__)

EVENT_HISTORY = 256
CHAT_HISTORY = 50  # chat messages kept
MAX_SERVER_MESSAGE_BYTES = 4 * 1024 * 1024
ABNORMAL_CLOSURE = 1006
# The server closed us for something we did: reconnecting would only repeat it.
NOT_RETRIED = frozenset(
    {
        CloseCode.PROTOCOL_ERROR,
        CloseCode.UNSUPPORTED_DATA,
        CloseCode.INVALID_PAYLOAD,
        CloseCode.POLICY_VIOLATION,
        CloseCode.MESSAGE_TOO_BIG,
        CloseCode.UNKNOWN_MESSAGE_TYPE,
        CloseCode.INVALID_MESSAGE,
        CloseCode.UNEXPECTED_MESSAGE,
    }
)


class ClientClosed(Exception):
    """The connection ended (``code``/``reason`` say why) and will not come back."""

    def __init__(self, code: int | None, reason: str | None) -> None:
        super().__init__(f"connection closed: {code} {reason or ''}".strip())
        self.code = code
        self.reason = reason


class ReconnectFailed(ClientClosed):
    """Reconnection gave up after ``attempts`` consecutive failures."""

    def __init__(self, attempts: int, last_error: str) -> None:
        super().__init__(None, f"gave up after {attempts} attempts: {last_error}")
        self.attempts = attempts
        self.last_error = last_error


@attrs.frozen
class ReconnectPolicy:
    max_attempts: int = 6  # consecutive failed attempts before giving up
    base_delay_s: float = 0.25  # delay before the first retry; doubles each time
    max_delay_s: float = 5.0
    jitter: float = 0.5  # each delay is shortened by a random fraction up to this

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        """Delay before retry number ``attempt`` (1-based)."""
        delay: float = min(self.max_delay_s, self.base_delay_s * 2.0 ** (attempt - 1))
        return delay * (1.0 - self.jitter * rng.random())


class GameClient:
    def __init__(
        self,
        url: str,
        *,
        role: Role = Role.PLAYER,
        name: str = "player",
        join: bool = True,
        subprotocols: list[str] | None = None,
        reconnect: ReconnectPolicy | None = None,
        connect_timeout_s: float = 5.0,
        seed: int | None = None,
        predict: bool = True,
        interpolate: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        match: str | None = None,
        token: str | None = None,
    ) -> None:
        self.url = url
        self.token = token  # identity token, added as ?token= where a URL has none
        self.match = match  # a mode: find a room with FindMatch instead of joining at url
        self._entry_url = url  # where to ask again if the matched room's node is gone
        self.matched: Matched | None = None  # where matchmaking put us (url is then its url)
        self._redirected = False
        self.role = role
        self.name = name
        self.join = join
        self.subprotocols = [SUBPROTOCOL] if subprotocols is None else subprotocols
        self.reconnect = reconnect
        self.connect_timeout_s = connect_timeout_s
        self.stats = ClientStats()
        self.welcome: Welcome | None = None
        self.world: dict[int, tuple[int, ...]] = {}
        self.tick = 0  # tick of the mirrored world
        self.server_time_ms = 0  # server clock of the mirrored world
        self.ack_seq = 0  # newest input seq the server says it consumed
        self.events: collections.deque[tuple[int, ...]] = collections.deque(maxlen=EVENT_HISTORY)
        self.errors: list[Error] = []
        self.chat: collections.deque[Chat] = collections.deque(maxlen=CHAT_HISTORY)
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.failure: ClientClosed | None = None  # set once the client is done for good
        self.predict = predict
        self.interpolate = interpolate
        self.ssl_context = ssl_context  # for wss:// URLs (None: the system's defaults)
        self.clock = ClockEstimator()
        self.predictor: Predictor | None = None  # players of a game we can predict
        self.interpolator: Interpolator | None = None
        self._last_render_s = -math.inf
        self._resume = ""
        self._ws: WebSocketConnection | None = None
        self._seq = 0
        self._closing = False
        self._changed = trio.Event()
        self._rng = random.Random(seed)

    # -- state ----------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._ws.closed is None

    @property
    def entity_id(self) -> int:
        return self.welcome.entity_id if self.welcome else 0

    @property
    def me(self) -> tuple[int, ...] | None:
        return self.world.get(self.entity_id) if self.entity_id else None

    # -- sending --------------------------------------------------------------

    async def _send(self, data: bytes | str) -> bool:
        ws = self._ws
        if ws is None:
            return False
        try:
            await ws.send_message(data)
        except ConnectionClosed:
            return False
        self.stats.messages_sent += 1
        self.stats.bytes_sent += len(data)
        return True

    async def send_raw(self, data: bytes | str) -> None:
        """Send arbitrary bytes or text (for tests of the server's defences)."""
        await self._send(data)

    def view_tick(self) -> float:
        """The (fractional) server tick of what the client renders now, for lag compensation."""
        welcome = self.welcome
        if welcome is None or not self.tick:
            return 0.0
        behind_s = self.server_time_ms / 1000 - self.render_time_s()
        return max(0.0, self.tick - behind_s * welcome.tick_rate)

    async def send_input(self, buttons: int, aim: int = 0) -> int:
        """Send the next input frame; returns its sequence number (0 if not connected).

        A frame with HITSCAN held says which tick the player was looking at, so that the
        server judges the shot where the target was on this client's screen.
        """
        if not self.connected:
            self.stats.inputs_not_sent += 1
            return 0
        self._seq += 1
        view = round(self.view_tick() * 256) if buttons & Buttons.HITSCAN else 0
        if await self._send(encode(InputFrame(self._seq, (buttons, aim), self.tick, view))):
            self.stats.inputs_sent += 1
            if self.predictor is not None:
                self.predictor.apply_input(self._seq, buttons)
            return self._seq
        self.stats.inputs_not_sent += 1
        return 0

    async def say(self, text: str) -> None:
        """Global chat: every player on every node of the cluster receives it."""
        await self._send(encode(Say(text)))

    async def ping(self) -> None:
        await self._send(encode(Ping(round(trio.current_time() * 1000))))

    # -- waiting --------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[GameClient], bool]) -> None:
        """Wait until ``predicate(self)`` holds; raise ``ClientClosed`` if the client is done."""
        while not predicate(self):
            if self.failure is not None:
                raise self.failure
            await self._changed.wait()

    async def next_snapshot(self) -> None:
        count = self.stats.snapshots_received
        await self.wait_for(lambda c: c.stats.snapshots_received > count)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    # -- receiving ------------------------------------------------------------

    def _on_snapshot(self, snapshot: Snapshot) -> None:
        if snapshot.baseline_tick == 0:
            base: WireState = {}
        elif snapshot.baseline_tick == self.tick:
            base = self.world
        else:
            raise DeltaError(
                f"snapshot {snapshot.tick} is against tick {snapshot.baseline_tick}, "
                f"mirror has {self.tick}"
            )
        world = self.world = apply(base, snapshot.changes, snapshot.removed)
        self.tick = snapshot.tick
        self.server_time_ms = snapshot.server_time_ms
        self.ack_seq = snapshot.ack_seq
        self.events.extend(snapshot.events)
        now = trio.current_time()
        self.stats.on_snapshot(now)
        server_time_s = snapshot.server_time_ms / 1000
        self.clock.on_snapshot(now, server_time_s)
        if self.interpolator is not None:
            self.interpolator.push(server_time_s, world)
        predictor = self.predictor
        if predictor is not None:
            if snapshot.baseline_tick == 0:
                predictor.set_obstacles_from_world(world)
            me = world.get(self.entity_id)
            if me is not None:
                predictor.reconcile_wire(me, snapshot.ack_seq)
                self.stats.corrections = predictor.corrections

    def _on_welcome(self, welcome: Welcome) -> None:
        self.welcome = welcome
        self._resume = welcome.resume  # offered back when reconnecting after a drop
        self.predictor = None
        if self.predict and self.role is Role.PLAYER and welcome.game == ArenaRules.id:
            known = {field.name for field in attrs.fields(ArenaSettings)}
            params = {k: v for k, v in welcome.params.items() if k in known}
            try:
                settings = ArenaSettings(**params)  # type: ignore[arg-type]  # ints stay ints
            except (TypeError, ValueError):
                log.warning("the server's arena parameters are not valid settings: no prediction")
            else:
                self.predictor = Predictor(settings, welcome.tick_rate)
        self.interpolator = (
            Interpolator(default_delay_s(welcome.snapshot_rate)) if self.interpolate else None
        )

    def render_time_s(self) -> float:
        """Server time at which to draw remote entities now; never goes backwards.

        The clock estimate moves as samples come and go; rendering holds still
        rather than rewinding when it moves back.
        """
        delay = self.interpolator.delay_s if self.interpolator is not None else 0.0
        target = self.clock.server_now(trio.current_time()) - delay
        if target < self._last_render_s:
            return self._last_render_s
        self._last_render_s = target
        return target

    def remote_view(self) -> dict[int, EntityView]:
        """Interpolated poses of every moving entity at ``render_time_s()``."""
        if self.interpolator is None:
            return {}
        return self.interpolator.sample(self.render_time_s())

    def predicted_position(self, elapsed_s: float = 0.0) -> tuple[float, float] | None:
        """The local player's smoothed predicted position (None before the first snapshot)."""
        predictor = self.predictor
        if predictor is None or not predictor.known:
            return None
        return predictor.render_position(elapsed_s)

    def handle(self, data: bytes | str) -> None:
        """Apply one server message to the client's state."""
        self.stats.messages_received += 1
        self.stats.bytes_received += len(data)
        message = decode_server_message(data)
        if isinstance(message, Snapshot):
            self._on_snapshot(message)
        elif isinstance(message, Pong):
            now, sent = trio.current_time(), message.nonce / 1000
            self.stats.rtts_s.append(now - sent)
            self.clock.on_pong(sent, now, message.server_time_ms / 1000)
        elif isinstance(message, Welcome):
            self._on_welcome(message)
        elif isinstance(message, Error):
            self.errors.append(message)
        elif isinstance(message, Chat):
            self.chat.append(message)
        elif isinstance(message, Matched):
            self.matched = message
            self.url = message.url  # reconnects (and a redirect) go to the room's node

    async def _session(self, ws: WebSocketConnection, on_ready: Callable[[], None]) -> None:
        """One connection's life: join, wait for the welcome (bounded), read until it closes."""
        self._ws = ws
        self.world, self.tick, self.welcome = {}, 0, None
        self._seq = 0
        try:
            with trio.CancelScope(deadline=trio.current_time() + self.connect_timeout_s) as joining:
                if self.join:
                    if self.match is not None and self.matched is None:
                        await self._send(encode(FindMatch(self.match, self.name)))
                    else:
                        await self._send(encode(Join(self.role, self.name, self._resume)))
                    while self.welcome is None:
                        self.handle(await ws.get_message())
                joining.deadline = math.inf
                on_ready()
                self._notify()
                while True:
                    self.handle(await ws.get_message())
                    self._notify()
            if joining.cancelled_caught:
                self.close_code, self.close_reason = None, "no welcome from the server in time"
        except ConnectionClosed as exc:
            reason = exc.reason
            self.close_code = reason.code if reason else ABNORMAL_CLOSURE
            self.close_reason = reason.reason if reason else None
        except ProtocolError as exc:
            self.close_code, self.close_reason = exc.code, exc.reason
            with trio.move_on_after(self.connect_timeout_s):
                await ws.aclose(exc.code, exc.reason)
        finally:
            self._ws = None

    def connect_url(self) -> str:
        """The URL of the next attempt: a resume after a drop, else ``url`` with the token."""
        if self._resume and self.role is Role.PLAYER:
            return with_query(self.url, drop=("token", "seat", "resume"), resume=self._resume)
        if self.token:
            return with_query(self.url, keep_existing=True, token=self.token)
        return self.url

    async def _run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        started = False
        attempt = 0

        def on_ready() -> None:
            nonlocal started, attempt
            attempt = 0
            if not started:
                started = True
                task_status.started()

        while True:
            resuming = bool(self._resume) and self.role is Role.PLAYER
            try:
                async with open_websocket_url(
                    self.connect_url(),
                    ssl_context=self.ssl_context,
                    subprotocols=self.subprotocols,
                    connect_timeout=self.connect_timeout_s,
                    disconnect_timeout=self.connect_timeout_s,
                    max_message_size=MAX_SERVER_MESSAGE_BYTES,
                ) as ws:
                    await self._session(ws, on_ready)
                error = f"closed: {self.close_code} {self.close_reason or ''}".strip()
                if self.welcome is None and self.matched is not None and not self._redirected:
                    self._redirected = True  # matched on another node: go there at once
                    continue
                retry = self.close_code not in NOT_RETRIED and self.close_code != CloseCode.NORMAL
            except (OSError, HandshakeError, trio.TooSlowError) as exc:
                if isinstance(exc, ConnectionRejected):
                    body = (exc.body or b"").decode(errors="replace").strip()
                    self.close_code, self.close_reason = None, f"HTTP {exc.status_code}: {body}"
                    retry = exc.status_code >= 500
                    if resuming:  # the entity is gone: come back as a new player
                        self._resume, retry = "", True
                else:
                    cause = exc.__cause__ or exc
                    self.close_code, self.close_reason = None, f"{type(cause).__name__}: {cause}"
                    retry = True
                error = self.close_reason
                if self.reconnect is None and not started:
                    raise
                if self.match is not None and self.matched is not None:
                    # The room's node is unreachable: go back through matchmaking.
                    self.matched, self.url, self._redirected = None, self._entry_url, False
                    self._resume = ""
            if self._closing:
                break
            if self.reconnect is None or not retry:
                self.failure = ClientClosed(self.close_code, error)
                break
            attempt += 1
            if attempt > self.reconnect.max_attempts:
                self.failure = ReconnectFailed(attempt - 1, error)
                break
            self.stats.reconnects += 1
            delay = self.reconnect.delay_s(attempt, self._rng)
            log.info("%s: %s; reconnecting in %.2fs (attempt %d)", self.url, error, delay, attempt)
            self._notify()
            await trio.sleep(delay)
        if self.failure is None:
            self.failure = ClientClosed(self.close_code, self.close_reason)
        self._notify()
        if not started:
            raise self.failure

    async def close(self) -> None:
        """Leave: a normal close (1000), no reconnection."""
        self._closing = True
        ws = self._ws
        if ws is not None:
            with trio.move_on_after(self.connect_timeout_s):
                await ws.aclose()


def with_query(
    url: str, *, drop: tuple[str, ...] = (), keep_existing: bool = False, **params: str
) -> str:
    """``url`` with the query ``params`` set (``keep_existing``: only where absent)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in drop]
    present = {k for k, _ in query}
    for key, value in params.items():
        if keep_existing and key in present:
            continue
        query = [(k, v) for k, v in query if k != key] + [(key, value)]
    return urlunsplit(parts._replace(query=urlencode(query)))


@contextlib.asynccontextmanager
async def connect(url: str, **options: object) -> AsyncIterator[GameClient]:
    """Connect, join and wait for the welcome; leave cleanly on exit.

    Options are those of ``GameClient`` (role, name, join, subprotocols,
    reconnect, connect_timeout_s, seed, match, token).
    """
    client = GameClient(url, **options)  # type: ignore[arg-type]
    failed: BaseException | None = None
    async with trio.open_nursery() as nursery:
        try:
            await nursery.start(client._run)
        except (OSError, HandshakeError, ClientClosed) as exc:
            failed = exc  # raised below, outside the nursery, so it is not wrapped in a group
        if failed is None:
            try:
                yield client
            finally:
                await client.close()
                nursery.cancel_scope.cancel()
    if failed is not None:
        raise failed
