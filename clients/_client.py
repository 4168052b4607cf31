"""The trio client library: connect as player or spectator to any game, follow it, reconnect.

Theory of operation: ``connect()`` starts one background task that owns the
WebSocket. It joins, then hands every server message to the connection's
``ClientSession`` (``session.py``: the sans-I/O protocol state, which decodes the
game from the Welcome's description, keeps the world mirror, interpolation and
prediction) and wakes anyone waiting in ``wait_for``. When the connection drops
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
from typing import Any, TypedDict, Unpack
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

from gameserver.protocol import (
    SUBPROTOCOL,
    Chat,
    CloseCode,
    Error,
    Matched,
    ProtocolError,
    Role,
    Welcome,
)

from ._clock import ClockEstimator
from ._interpolation import Interpolator
from ._prediction import Prediction, Predictor
from ._stats import ClientStats
from ._world import World
from .session import ClientSession, ReceivedEvent

log = logging.getLogger(__name__)

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


class ClientOptions(TypedDict, total=False):
    """``connect()``'s keyword options: those of ``GameClient``."""

    role: Role
    name: str
    join: bool
    subprotocols: list[str] | None
    reconnect: ReconnectPolicy | None
    connect_timeout_s: float
    seed: int | None
    predict: bool
    interpolate: bool
    prediction: Prediction | None
    ssl_context: ssl.SSLContext | None
    match: str | None
    token: str | None


class GameClient:
    """A connection to a game server that follows any game from its Welcome's description.

    ``role``/``name``: how to join; ``join=False`` opens the connection and sends nothing.
    ``reconnect``: retry dropped connections (None: a drop ends the client). ``match``: a
    mode: find a room with FindMatch instead of joining the room at ``url``. ``token``: an
    identity token. ``predict``/``interpolate``: run the game's prediction for the own
    entity (when the game is installed here and offers one, or ``prediction`` is given)
    and buffer snapshots for ``remote_view()``.
    """

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
        prediction: Prediction | None = None,
        ssl_context: ssl.SSLContext | None = None,
        match: str | None = None,
        token: str | None = None,
    ) -> None:
        self.url = url
        self.token = token  # identity token, added as ?token= where a URL has none
        self.match = match  # a mode: find a room with FindMatch instead of joining at url
        self._entry_url = url  # where to ask again if the matched room's node is gone
        self._unreachable_room = ""  # the matched room whose node could not be reached
        self._redirected = False
        self.join = join
        self.subprotocols = [SUBPROTOCOL] if subprotocols is None else subprotocols
        self.reconnect = reconnect
        self.connect_timeout_s = connect_timeout_s
        self.ssl_context = ssl_context  # for wss:// URLs (None: the system's defaults)
        self.session = ClientSession(
            role=role, name=name, predict=predict, interpolate=interpolate, prediction=prediction
        )
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.failure: ClientClosed | None = None  # set once the client is done for good
        self._ws: WebSocketConnection | None = None
        self._closing = False
        self._changed = trio.Event()
        self._rng = random.Random(seed)

    # -- state (the session's) ------------------------------------------------

    @property
    def role(self) -> Role:
        return self.session.role

    @property
    def name(self) -> str:
        return self.session.name

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._ws.closed is None

    @property
    def welcome(self) -> Welcome | None:
        return self.session.welcome

    @property
    def matched(self) -> Matched | None:
        """Where matchmaking put this client (``url`` is then the room's)."""
        return self.session.matched

    @property
    def entities(self) -> World:
        """The world: entity id -> the game's named entity object (``entity.x``)."""
        return self.session.world

    @property
    def wire(self) -> dict[int, tuple[Any, ...]]:
        """The world's wire tuples (entity id -> ``(kind, *fields)``), as the server diffed them."""
        return self.session.world.wire

    @property
    def world(self) -> dict[int, tuple[Any, ...]]:
        """The world's wire tuples, as ``wire`` (``entities`` decodes them)."""
        return self.session.world.wire

    @property
    def tick(self) -> int:
        return self.session.world.tick

    @property
    def server_time_ms(self) -> int:
        return self.session.world.server_time_ms

    @property
    def ack_seq(self) -> int:
        return self.session.ack_seq

    @property
    def entity_id(self) -> int:
        return self.session.entity_id

    @property
    def me(self) -> Any:
        """The own entity as the server last sent it (None before it arrives)."""
        return self.session.me

    @property
    def events(self) -> collections.deque[ReceivedEvent]:
        """The newest events received (``ReceivedEvent``: tick and the typed event)."""
        return self.session.events

    @property
    def errors(self) -> collections.deque[Error]:
        return self.session.errors

    @property
    def chat(self) -> collections.deque[Chat]:
        return self.session.chat

    @property
    def stats(self) -> ClientStats:
        return self.session.stats

    @property
    def clock(self) -> ClockEstimator:
        return self.session.clock

    @property
    def predictor(self) -> Predictor | None:
        return self.session.predictor

    @property
    def interpolator(self) -> Interpolator | None:
        return self.session.interpolator

    # -- sending --------------------------------------------------------------

    async def _send(self, data: bytes | str) -> bool:
        ws = self._ws
        if ws is None:
            return False
        try:
            await ws.send_message(data)
        except ConnectionClosed:
            return False
        self.session.stats.messages_sent += 1
        self.session.stats.bytes_sent += len(data)
        return True

    async def send_raw(self, data: bytes | str) -> None:
        """Send arbitrary bytes or text (for tests of the server's defences)."""
        await self._send(data)

    def make_input(self, **fields: object) -> Any:
        """The game's input with these fields (the others neutral): see ``send``."""
        return self.session.make_input(**fields)

    async def send_input(self, value: object, *more: int | str, view: bool = False) -> int:
        """Send the next input; returns its seq (0 if it was not sent).

        ``value`` is the game's input (``make_input``, or any object with its fields in
        their client units); or integers and text: the input's wire values in field
        order (``docs/protocol.md``), the ones left out taking their neutral value.
        ``view``: say which tick the player is looking at, so that rules with lag
        compensation judge this Input's action where its target was on this screen.
        """
        stats = self.session.stats
        if not self.connected or self.session.schema is None:
            stats.inputs_not_sent += 1
            return 0
        if isinstance(value, int | str):
            value = self.session.input_from_wire((value, *more))
        view_tick = self.view_tick() if view else None
        data = self.session.input_message(value, view_tick=view_tick)
        if await self._send(data):
            stats.inputs_sent += 1
            return self.session.seq
        stats.inputs_not_sent += 1
        return 0

    async def send(self, **fields: object) -> int:
        """``send_input(make_input(**fields))``: e.g. ``send(dx=1)``."""
        return await self.send_input(self.session.make_input(**fields))

    def make_command(self, type_name: str, /, **fields: object) -> Any:
        """The game's command called ``type_name`` with these fields: see ``send_command``."""
        return self.session.make_command(type_name, **fields)

    async def send_command(self, command: object) -> None:
        """Send a command (an object with a declared command's class name and fields)."""
        await self._send(self.session.command_message(command))

    async def say(self, text: str) -> None:
        """Global chat: every player on every node of the cluster receives it."""
        await self._send(self.session.say_message(text))

    async def ping(self) -> None:
        await self._send(self.session.ping_message(trio.current_time()))

    # -- waiting --------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[GameClient], bool]) -> None:
        """Wait until ``predicate(self)`` holds; raise ``ClientClosed`` if the client is done."""
        while not predicate(self):
            if self.failure is not None:
                raise self.failure
            await self._changed.wait()

    async def next_snapshot(self) -> None:
        count = self.session.stats.snapshots_received
        await self.wait_for(lambda c: c.session.stats.snapshots_received > count)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    # -- reading the present --------------------------------------------------

    def view_tick(self) -> float:
        """The (fractional) server tick of what the client renders now, for lag compensation."""
        return self.session.view_tick(trio.current_time())

    def render_time_s(self) -> float:
        """Server time at which to draw remote entities now; never goes backwards."""
        return self.session.render_time_s(trio.current_time())

    def remote_view(self) -> dict[int, Any]:
        """Entities with interpolated fields, as they were at ``render_time_s()``."""
        return self.session.remote_view(trio.current_time())

    def predicted_position(self, elapsed_s: float = 0.0) -> tuple[float, float] | None:
        """The own entity's smoothed predicted position (None: no prediction or no state)."""
        return self.session.predicted_position(elapsed_s)

    def take_events(self, since: int = 0) -> list[ReceivedEvent]:
        """The events kept that happened after tick ``since``."""
        return [e for e in self.session.events if e.tick > since]

    # -- the connection -------------------------------------------------------

    def handle(self, data: bytes | str) -> None:
        """Apply one server message to the client's state."""
        message = self.session.receive(data, trio.current_time())
        if isinstance(message, Matched):
            self.url = message.url  # reconnects (and a redirect) go to the room's node

    async def _session(self, ws: WebSocketConnection, on_ready: Callable[[], None]) -> None:
        """One connection's life: join, wait for the welcome (bounded), read until it closes."""
        self._ws = ws
        session = self.session
        session.start_connection()
        try:
            with trio.CancelScope(deadline=trio.current_time() + self.connect_timeout_s) as joining:
                if self.join:
                    if self.match is not None and session.matched is None:
                        unreachable, self._unreachable_room = self._unreachable_room, ""
                        await self._send(session.find_match_message(self.match, unreachable))
                    else:
                        await self._send(session.join_message())
                    while session.welcome is None:
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
        resume = self.session.resume
        if resume and self.role is Role.PLAYER:
            return with_query(self.url, drop=("token", "seat", "resume"), resume=resume)
        if self.token:
            return with_query(self.url, keep_existing=True, token=self.token)
        return self.url

    async def _run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        started = False
        attempt = 0
        session = self.session

        def on_ready() -> None:
            nonlocal started, attempt
            attempt = 0
            if not started:
                started = True
                task_status.started()

        while True:
            resuming = bool(session.resume) and self.role is Role.PLAYER
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
                if session.welcome is None and session.matched is not None and not self._redirected:
                    self._redirected = True  # matched on another node: go there at once
                    continue
                retry = self.close_code not in NOT_RETRIED and self.close_code != CloseCode.NORMAL
            except (OSError, HandshakeError, trio.TooSlowError) as exc:
                if isinstance(exc, ConnectionRejected):
                    body = (exc.body or b"").decode(errors="replace").strip()
                    self.close_code, self.close_reason = None, f"HTTP {exc.status_code}: {body}"
                    retry = exc.status_code >= 500
                    if resuming:  # the entity is gone: come back as a new player
                        session.resume, retry = "", True
                else:
                    cause = exc.__cause__ or exc
                    self.close_code, self.close_reason = None, f"{type(cause).__name__}: {cause}"
                    retry = True
                error = self.close_reason
                if self.reconnect is None and not started:
                    raise
                if self.match is not None and session.matched is not None:
                    # The room's node is unreachable: go back through matchmaking, naming
                    # the room so that matchmaking stops offering its node at once.
                    self._unreachable_room = session.matched.room
                    session.matched, self.url, self._redirected = None, self._entry_url, False
                    session.resume = ""
            if self._closing:
                break
            if self.reconnect is None or not retry:
                self.failure = ClientClosed(self.close_code, error)
                break
            attempt += 1
            if attempt > self.reconnect.max_attempts:
                self.failure = ReconnectFailed(attempt - 1, error)
                break
            session.stats.reconnects += 1
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
async def connect(url: str, **options: Unpack[ClientOptions]) -> AsyncIterator[GameClient]:
    """Connect, join and wait for the welcome; leave cleanly on exit.

    Options are those of ``GameClient`` (``ClientOptions``).
    """
    client = GameClient(url, **options)
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
