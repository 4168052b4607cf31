"""The seam between a room and the bytes of its connections.

Theory of operation: the room never awaits a socket. Once per tick it calls
``collect()`` to take the messages that arrived, and ``deliver()`` to hand
over the newest snapshot; both return at once. Behind the seam this module's
``WsConnection`` runs one reader and one writer task over trio-websocket:

- the reader appends incoming messages to a bounded inbox; when the inbox is
  full it stops reading until the room collects (TCP pushes back on the peer);
- the writer sends queued control messages (welcome, pong, error: never
  dropped while there is room, bounded by ``control_queue_size``), then the
  snapshot slot. The slot holds one snapshot: while it is occupied the
  connection is busy and ``deliver`` refuses the next snapshot (conflation),
  so a slow reader costs at most one snapshot of memory here. A send that does
  not finish within ``send_timeout_s`` closes the connection with 4008.

A faster transport can replace this class as long as it offers the same four
methods.
"""

from __future__ import annotations

import collections
import logging

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from gameserver.config import Config
from gameserver.core.seams import Connection as Connection  # re-exported: the seam
from gameserver.protocol import PROTOCOL_VERSION, CloseCode
from gameserver.server.limits import TokenBucket
from gameserver.server.metrics import Metrics
from gameserver.server.network.framemeter import Refusal

log = logging.getLogger(__name__)

SEND_GRACE_S = 0.25


class WsConnection:
    """``Connection`` over a trio-websocket connection, with a reader and a writer task."""

    def __init__(
        self, ws: WebSocketConnection, config: Config, metrics: Metrics, *, remote: str
    ) -> None:
        self._ws = ws
        self._config = config
        self._limits = config.limits
        self._metrics = metrics
        self.remote = remote
        self.protocol_version = PROTOCOL_VERSION
        self.closing = False
        self.close_code: int | None = None  # the code we sent, or the peer's
        self._inbox: list[bytes | str] = []
        self._inbox_space = trio.Event()
        self._control: collections.deque[bytes] = collections.deque()
        self._snapshot: bytes | None = None
        self._wakeup = trio.Event()
        self._close_request: tuple[int, str] | None = None
        self._send_scope: trio.CancelScope | None = None
        self.last_heard_s = trio.current_time()  # when a message or a pong last arrived
        self._bucket = TokenBucket(
            config.limits.message_rate_per_s, config.limits.message_burst, self.last_heard_s
        )

    # -- the seam (called by the room's ticker; never blocks) ----------------

    def collect(self) -> list[bytes | str]:
        if not self._inbox:
            return []
        messages, self._inbox = self._inbox, []
        self._inbox_space.set()
        return messages

    def deliver(self, snapshot: bytes) -> bool:
        if self._snapshot is not None or self.closing:
            return False
        self._snapshot = snapshot
        self._wakeup.set()
        return True

    def send_control(self, message: bytes) -> None:
        if self.closing:
            return
        if len(self._control) >= self._limits.control_queue_size:
            self._metrics.control_dropped += 1
            return
        self._control.append(message)
        self._wakeup.set()

    def close(self, code: int, reason: str) -> None:
        if self._close_request is None:
            self._close_request = (code, reason)
        self.closing = True
        if self._send_scope is not None:
            # A send stuck on a stalled peer must not delay the close, but one in progress
            # gets a moment to finish: cut mid-record, a TLS stream could send nothing more.
            deadline = trio.current_time() + SEND_GRACE_S
            self._send_scope.deadline = min(self._send_scope.deadline, deadline)
        self._wakeup.set()

    def refuse(self, refusal: Refusal) -> None:
        """The frame meter refused the peer's frames: count it and close with its code."""
        if refusal.limit == "control_frame_rate":
            self._metrics.control_rate_limited += 1
        elif refusal.limit == "max_fragments_per_message":
            self._metrics.fragment_limited += 1
        if refusal.code != CloseCode.RATE_LIMITED:
            self._metrics.protocol_errors[refusal.code] += 1
        log.warning("%s closed: %s", self.remote, refusal.reason)
        self.close(refusal.code, refusal.reason)

    async def abort(self, code: int, reason: str) -> None:
        """After an unexpected error: send a close frame (bounded in time) and give up."""
        with trio.move_on_after(self._config.process.shutdown_timeout_s):
            await self._ws.aclose(code, reason)

    # -- tasks ---------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection until it closes (either side)."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._reader, nursery.cancel_scope)
            nursery.start_soon(self._writer, nursery.cancel_scope)
            nursery.start_soon(self._keep_alive)
        self.closing = True

    async def _keep_alive(self) -> None:
        """Ping a quiet peer; close one that has not even answered a ping (dead peer)."""
        config = self._config
        while not self.closing:
            await trio.sleep(config.limits.keepalive_interval_s / 2)
            quiet_s = trio.current_time() - self.last_heard_s
            if quiet_s < config.limits.keepalive_interval_s:
                continue
            with trio.move_on_after(config.limits.idle_timeout_s - quiet_s):
                try:
                    await self._ws.ping()
                except ConnectionClosed:
                    return
                self.last_heard_s = trio.current_time()
                continue
            self._metrics.idle_timeouts += 1
            log.warning(
                "%s closed: nothing received for %.0f s", self.remote, config.limits.idle_timeout_s
            )
            self.close(CloseCode.IDLE_TIMEOUT, "idle: no message and no pong")
            return

    async def _reader(self, done: trio.CancelScope) -> None:
        ws, metrics, limit = self._ws, self._metrics, self._limits.inbox_size
        try:
            while True:
                message = await ws.get_message()
                metrics.messages_in += 1
                metrics.bytes_in += len(message)
                self.last_heard_s = now = trio.current_time()
                if not self._bucket.take(1, now):
                    metrics.rate_limited += 1
                    rate = self._limits.message_rate_per_s
                    log.warning("%s closed: over %g messages per second", self.remote, rate)
                    self.close(
                        CloseCode.RATE_LIMITED, f"rate limit: over {rate:g} messages per second"
                    )
                    break
                self._inbox.append(message)
                if len(self._inbox) >= limit:
                    self._inbox_space = trio.Event()
                    await self._inbox_space.wait()
        except ConnectionClosed as exc:
            reason = exc.reason
            if self.close_code is None and reason is not None:
                self.close_code = reason.code
                if reason.code == CloseCode.MESSAGE_TOO_BIG:
                    # trio-websocket enforced max_message_bytes and already sent 1009.
                    metrics.protocol_errors[CloseCode.MESSAGE_TOO_BIG] += 1
                    log.warning("%s closed: %s", self.remote, reason.reason)
        self.closing = True
        if self._close_request is None:
            done.cancel()  # the peer left: nothing more to write
        else:
            self._wakeup.set()

    async def _writer(self, done: trio.CancelScope) -> None:
        ws, metrics = self._ws, self._metrics
        try:
            while self._close_request is None:
                await self._wakeup.wait()
                self._wakeup = trio.Event()
                while self._close_request is None and (self._control or self._snapshot):
                    if self._control:
                        data = self._control.popleft()
                    else:
                        assert self._snapshot is not None
                        data = self._snapshot
                    with trio.move_on_after(self._limits.send_timeout_s) as scope:
                        self._send_scope = scope
                        await ws.send_message(data)
                    self._send_scope = None
                    if scope.cancelled_caught:
                        if self._close_request is not None:
                            break  # close() interrupted the send
                        metrics.slow_consumer_closes += 1
                        self.close(CloseCode.SLOW_CONSUMER, "send timed out: not reading")
                        break
                    metrics.messages_out += 1
                    metrics.bytes_out += len(data)
                    if data is self._snapshot:
                        self._snapshot = None
                        metrics.snapshots_sent += 1
        except ConnectionClosed as exc:
            # The peer's close frame may reach the writer first: keep its code, so a player
            # who left (1000) is not held for a resume as if the connection were lost.
            if self.close_code is None and exc.reason is not None:
                self.close_code = exc.reason.code
        if self._close_request is not None:
            code, reason = self._close_request
            self.close_code = code
            with trio.move_on_after(self._config.process.shutdown_timeout_s):
                await ws.aclose(code, reason)
        done.cancel()
