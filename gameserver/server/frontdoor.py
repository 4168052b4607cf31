"""One port for the game WebSocket and plain HTTP.

Theory of operation: the front door owns the listening socket. Each accepted
connection gets a short task that reads its request head (bounded in size by
``MAX_REQUEST_BYTES`` and in time by ``handshake_timeout_s``; TLS is
decrypted in memory) and parses it with h11. A WebSocket upgrade is passed,
head and all, to trio-websocket, for which the front door is a
``trio.abc.Listener`` fed through a channel; trio-websocket then negotiates
and accepts or rejects as it would on a socket of its own. Any other request
is answered by the HTTP side (``http.py``) on the same stream, with h11.

A connection that sends nothing within the timeout, or a head that never
ends, is dropped (HTTP 431 for the latter) and counted; neither ever reaches
trio-websocket.
"""

from __future__ import annotations

import logging
import math
import ssl
from collections.abc import Awaitable, Callable

import h11
import trio

from .handover import MAX_REQUEST_BYTES, HandoverStream, HeadTooLarge
from .http import refuse
from .metrics import Metrics

log = logging.getLogger(__name__)

HttpHandler = Callable[[HandoverStream, h11.Connection, h11.Request], Awaitable[None]]


def is_websocket_upgrade(request: h11.Request) -> bool:
    for name, value in request.headers:
        if name == b"upgrade" and b"websocket" in value.lower():
            return True
    return False


class FrontDoor(trio.abc.Listener[HandoverStream]):
    """Accepts connections; WebSocket upgrades go to trio-websocket, the rest to ``http``."""

    def __init__(
        self,
        inner: trio.SocketListener,
        *,
        park_websockets: bool,
        http: HttpHandler,
        metrics: Metrics,
        head_timeout_s: float,
        max_http_connections: int,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.inner = inner
        self.socket = inner.socket
        self._park = park_websockets
        self._http = http
        self._metrics = metrics
        self._head_timeout_s = head_timeout_s
        self._max_http_connections = max_http_connections
        self._tls = tls
        self.http_connections = 0
        self._unclaimed: dict[str, HandoverStream] = {}
        self._upgrades_in, self._upgrades_out = trio.open_memory_channel[HandoverStream](math.inf)

    # -- trio.abc.Listener, for trio-websocket --------------------------------

    async def accept(self) -> HandoverStream:
        return await self._upgrades_out.receive()

    def claim(self, remote: object) -> HandoverStream:
        """The stream behind a WebSocket request (``request.remote`` is its key)."""
        stream = self._unclaimed.pop(str(remote), None)
        if stream is None:
            raise LookupError(f"no handover stream for {remote!r}: has trio-websocket changed?")
        return stream

    def forget(self, stream: HandoverStream) -> None:
        self._unclaimed.pop(stream.key, None)

    async def aclose(self) -> None:
        await self.inner.aclose()

    # -- the accept loop --------------------------------------------------------

    async def serve(self, nursery: trio.Nursery) -> None:
        """Accept until cancelled; each connection is routed by a task in ``nursery``."""
        while True:
            try:
                socket_stream = await self.inner.accept()
            except OSError as error:  # EMFILE and friends: back off instead of spinning
                log.warning("accept failed: %s", error)
                await trio.sleep(0.1)
                continue
            stream = HandoverStream(socket_stream, on_close=self.forget, tls=self._tls)
            nursery.start_soon(self._route, stream)

    async def _route(self, stream: HandoverStream) -> None:
        handed_on = False
        try:
            handed_on = await self._read_and_route(stream)
        except (trio.BrokenResourceError, trio.ClosedResourceError, ssl.SSLError, OSError) as e:
            log.debug("%s went away before its request was handled: %r", stream.remote, e)
        except Exception:  # nothing may escape: it would stop the whole server
            self._metrics.internal_errors += 1
            log.exception("%s: unexpected error at the front door", stream.remote)
        finally:
            if not handed_on:
                with trio.CancelScope(shield=True), trio.move_on_after(1):
                    await stream.aclose()

    async def _read_and_route(self, stream: HandoverStream) -> bool:
        """True when the stream went to trio-websocket (which closes it)."""
        metrics = self._metrics
        head = b""
        with trio.move_on_after(self._head_timeout_s) as waiting:
            try:
                head = await stream.read_head()
            except HeadTooLarge as error:
                head = error.partial  # h11 refuses it with 431 below
        if waiting.cancelled_caught:
            metrics.handshake_timeouts += 1
        if not head:
            return False
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_REQUEST_BYTES)
        connection.receive_data(head)
        try:
            event = connection.next_event()
        except h11.RemoteProtocolError as error:
            status = error.error_status_hint
            if status == 431:
                metrics.http_head_too_large += 1
            else:
                metrics.http_bad_requests += 1
            metrics.http_responses[status] += 1
            await refuse(stream, connection, status, f"bad request: {error}")
            return False
        if not isinstance(event, h11.Request):  # a complete head always parses to a Request
            return False
        if is_websocket_upgrade(event):
            stream.replay_head(head, park=self._park)
            self._unclaimed[stream.key] = stream
            self._upgrades_in.send_nowait(stream)
            return True
        if self.http_connections >= self._max_http_connections:
            metrics.http_refused_capacity += 1
            metrics.http_responses[503] += 1
            await refuse(stream, connection, 503, "too many HTTP connections")
            return False
        if stream.leftover:  # pipelined requests (receive_data(b"") would mean EOF)
            connection.receive_data(stream.leftover)
            stream.leftover = b""
        self.http_connections += 1
        try:
            await self._http(stream, connection, event)
        finally:
            self.http_connections -= 1
        return False
