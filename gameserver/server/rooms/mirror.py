"""A mirror room: a read-only copy of a room whose snapshots are made elsewhere.

Theory of operation. A ``RelayRoom`` is fed a stream of published snapshot messages
(``receive``): each a delta against the previous published one, and a keyframe (a full
snapshot, baseline 0, with the Welcome a spectator needs) every second. It keeps a
mirror of the world from the stream and serves its local spectators as a room serves
its own: once per tick it collects their messages (Join, Ping, Say; players are refused
with 1008 and told to join through matchmaking) and delivers the newest state. A
spectator in step with the stream gets the owner's delta bytes as they are, encoded once
for all of them; one that joined late or was skipped (conflation) gets a full snapshot
of the mirror, also encoded once per tick. The mirror never waits on a socket, like a
room. A stream that breaks (a message lost between nodes) leaves the mirror stale until
the next keyframe.

Two things feed one: the cross-node spectator relays (``cluster/spectator_relays.py``),
with another node's room, and the replay driver (``replay.py``), with a recording.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable

import attrs
import cbor2
import trio

from gameserver.config import Config
from gameserver.core.seams import Connection
from gameserver.protocol import (
    CloseCode,
    Error,
    ErrorCode,
    InputFrame,
    Join,
    Ping,
    Pong,
    ProtocolError,
    Role,
    Say,
    Snapshot,
    Welcome,
    WireState,
    apply,
    decode_client_message,
    decode_server_message,
    encode,
)
from gameserver.protocol.errors import DeltaError
from gameserver.server.limits import TokenBucket
from gameserver.server.metrics import Metrics
from gameserver.server.rooms.ticker import Ticker

log = logging.getLogger(__name__)

STREAM_BACKLOG = 64  # stream messages a relay holds between two of its ticks


class RelayRoom:
    """A read-only copy of a room on another node, for spectators connected here."""

    def __init__(
        self, room_id: str, config: Config, metrics: Metrics, *, player_refusal: str = ""
    ) -> None:
        self.name = room_id
        self.player_refusal = (
            player_refusal or f"room {room_id} is on another node: join it through matchmaking"
        )
        self.config = config
        self.metrics = metrics
        self.ticker = Ticker(config.tick_rate, self.tick, max_ticks_behind=config.max_ticks_behind)
        self.welcome: Welcome | None = None
        self.mirror: WireState = {}
        self.mirror_tick = 0  # 0: no usable mirror (waiting for a keyframe)
        self.owner_time_ms = 0  # the owner's clock at the newest snapshot
        self._owner_time_at = 0.0  # our trio time when it arrived
        self._stream: collections.deque[tuple[bytes, bytes | None]] = collections.deque(
            maxlen=STREAM_BACKLOG
        )
        self._pending: dict[Connection, float] = {}  # not joined yet -> join deadline
        self.spectators: dict[Connection, int] = {}  # joined -> its baseline tick
        self._joins: dict[Connection, Join] = {}  # Joins waiting for the stream to start
        self._chat_buckets: dict[Connection, TokenBucket] = {}
        self.on_chat: Callable[[str, str], None] | None = None
        self.stopped = False
        self.player_count = 0

    # -- the Room-like surface the server uses ----------------------------------------

    @property
    def spectator_count(self) -> int:
        return len(self.spectators)

    @property
    def is_empty(self) -> bool:
        return not (self._pending or self.spectators)

    def attach(self, connection: Connection, claims: object = None) -> None:
        self._pending[connection] = trio.current_time() + self.config.join_timeout_s

    def detach(self, connection: Connection) -> None:
        self._pending.pop(connection, None)
        self._joins.pop(connection, None)
        self.spectators.pop(connection, None)
        self._chat_buckets.pop(connection, None)

    def close_all(self, code: int, reason: str) -> None:
        for connection in [*self._pending, *self.spectators]:
            connection.close(code, reason)

    def receive(self, payload: bytes) -> None:
        """A stream message from the owner (called by the subscriber task)."""
        try:
            item = cbor2.loads(payload)
            snapshot, welcome = bytes(item[0]), (bytes(item[1]) if item[1] else None)
        except Exception:
            log.warning("relay %s: ignored a malformed stream message", self.name)
            return
        self._stream.append((snapshot, welcome))

    # -- one tick -------------------------------------------------------------------------

    def tick(self) -> None:
        now = trio.current_time()
        for connection, deadline in list(self._pending.items()):
            self._collect_pending(connection, deadline, now)
        for connection in list(self.spectators):
            for raw in connection.collect():
                self._handle(connection, raw, now)
                if connection.closing:
                    break
        if self._stream:
            self._deliver(now)

    def _collect_pending(self, connection: Connection, deadline: float, now: float) -> None:
        for raw in connection.collect():
            try:
                message = decode_client_message(raw, self.config.max_message_bytes)
            except ProtocolError as error:
                self._refuse(connection, error.code, error.reason)
                return
            if isinstance(message, Ping):
                connection.send_control(encode(Pong(message.nonce, self._time_ms(now))))
                continue
            if not isinstance(message, Join) or connection in self._joins:
                reason = "the first message must be join"
                self._refuse(connection, CloseCode.UNEXPECTED_MESSAGE, reason)
                return
            if message.role is not Role.SPECTATOR:
                self._refuse(connection, CloseCode.POLICY_VIOLATION, self.player_refusal)
                return
            self._joins[connection] = message  # answered once the stream has started
        if connection in self._joins and self.welcome is not None and self.mirror_tick:
            del self._pending[connection], self._joins[connection]
            self.spectators[connection] = 0
            welcome = attrs.evolve(self.welcome, entity_id=0, tick=self.mirror_tick, resume="")
            if connection.protocol_version < 2:  # version 1 has no game description
                welcome = attrs.evolve(welcome, protocol_version=1, schema=None)
            connection.send_control(encode(welcome))
        elif now > deadline:
            self.metrics.join_timeouts += 1
            self._refuse(connection, CloseCode.POLICY_VIOLATION, "no stream from the room in time")

    def _refuse(self, connection: Connection, code: int, reason: str) -> None:
        self._pending.pop(connection, None)
        self._joins.pop(connection, None)
        if code != CloseCode.POLICY_VIOLATION:  # a refusal by policy, not a broken peer
            self.metrics.protocol_errors[code] += 1
        connection.close(code, reason)

    def _handle(self, connection: Connection, raw: bytes | str, now: float) -> None:
        try:
            message = decode_client_message(raw, self.config.max_message_bytes)
        except ProtocolError as error:
            self.metrics.protocol_errors[error.code] += 1
            connection.close(error.code, error.reason)
            return
        if isinstance(message, Ping):
            connection.send_control(encode(Pong(message.nonce, self._time_ms(now))))
        elif isinstance(message, InputFrame):
            self.metrics.spectator_inputs += 1
            refusal = Error(ErrorCode.SPECTATOR_INPUT, "spectators cannot send input")
            connection.send_control(encode(refusal))
        elif isinstance(message, Say):
            bucket = self._chat_buckets.setdefault(
                connection, TokenBucket(self.config.chat_rate_per_s, self.config.chat_burst, now)
            )
            if not bucket.take(1, now):
                self.metrics.chat_rate_limited += 1
                reason = "chat: too many messages"
                connection.send_control(encode(Error(ErrorCode.CHAT_RATE_LIMITED, reason)))
            elif self.on_chat is not None:
                self.on_chat("spectator", message.text)
        else:
            self.metrics.protocol_errors[CloseCode.UNEXPECTED_MESSAGE] += 1
            connection.close(CloseCode.UNEXPECTED_MESSAGE, "already joined")

    def _time_ms(self, now: float) -> int:
        """The owner's clock, as far as the stream tells it (pongs must agree with snapshots)."""
        if not self.owner_time_ms:
            return 0
        return self.owner_time_ms + round((now - self._owner_time_at) * 1000)

    def _deliver(self, now: float) -> None:
        forwarded: bytes | None = None  # the owner's delta, when exactly one arrived in step
        previous_tick = self.mirror_tick
        while self._stream:
            data, welcome = self._stream.popleft()
            try:
                snapshot = decode_server_message(data)
                if welcome is not None:
                    decoded = decode_server_message(welcome)
                    if isinstance(decoded, Welcome):
                        self.welcome = decoded
                if not isinstance(snapshot, Snapshot):
                    continue
                if snapshot.baseline_tick == 0:
                    base: WireState = {}
                elif snapshot.baseline_tick == self.mirror_tick and self.mirror_tick:
                    base = self.mirror
                else:
                    self.mirror_tick = 0  # a gap: wait for the next keyframe
                    continue
                self.mirror = apply(base, snapshot.changes, snapshot.removed)
            except (ProtocolError, DeltaError):
                self.mirror_tick = 0
                continue
            forwarded = (
                data if forwarded is None and snapshot.baseline_tick == previous_tick else None
            )
            self.mirror_tick = snapshot.tick
            self.owner_time_ms, self._owner_time_at = snapshot.server_time_ms, now
        if not self.mirror_tick or not self.spectators:
            return
        full: bytes | None = None
        for connection, baseline in list(self.spectators.items()):
            if connection.closing:
                continue
            if forwarded is not None and baseline == previous_tick and baseline:
                message = forwarded
            else:
                if full is None:
                    full = encode(
                        Snapshot(
                            tick=self.mirror_tick,
                            baseline_tick=0,
                            server_time_ms=self.owner_time_ms,
                            ack_seq=0,
                            changes=tuple(
                                (i, (1 << len(t)) - 1, *t) for i, t in self.mirror.items()
                            ),
                            removed=(),
                            events=(),
                        )
                    )
                message = full
            if connection.deliver(message):
                self.spectators[connection] = self.mirror_tick
            else:
                self.spectators[connection] = 0  # skipped: it restarts from a full snapshot
                self.metrics.snapshots_skipped += 1
