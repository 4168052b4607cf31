"""One port for the game WebSocket and plain HTTP.

Theory of operation: the front door owns the listening socket. Each accepted
connection gets a short task that reads its request head (bounded in size by
``MAX_REQUEST_BYTES`` and in time by ``handshake_timeout_s``; TLS is
decrypted in memory) and parses it with h11. A WebSocket upgrade is passed,
head and all, to trio-websocket, for which the front door is a
``trio.abc.Listener`` fed through a channel; trio-websocket then negotiates
and accepts or rejects as it would on a socket of its own. Any other request
is answered by the HTTP side (``web/http.py``) on the same stream, with h11.

A connection that sends nothing within the timeout, or a head that never
ends, is dropped (HTTP 431 for the latter) and counted; neither ever reaches
trio-websocket. Nor does an upgrade whose ``Sec-WebSocket-Key`` is not one
base64-encoded 16-byte nonce (RFC 6455 section 4.2.1): 400 with a reason.

Plain HTTP connections are bounded three ways before the HTTP side sees
them: ``max_http_connections_per_address`` per ``address_key`` (429), then
``max_http_connections`` in all (503). A ``GET /healthz`` that finds the
server full may still take one of ``http_health_reserve`` extra slots, for
that one request only (``Connection: close``), so a load balancer's health
check is answered even while the ordinary slots are taken.

An admin door (``game=False``) serves the operator listener: every request
goes to the HTTP side; a WebSocket upgrade is refused with 404.
"""

from __future__ import annotations

import base64
import binascii
import collections
import logging
import math
import ssl
from collections.abc import Awaitable, Callable

import h11
import trio

from gameserver.server.metrics import Metrics
from gameserver.server.network.handover import MAX_REQUEST_BYTES, HandoverStream, HeadTooLarge
from gameserver.server.web.http import refuse

log = logging.getLogger(__name__)

# (stream, h11 connection, the parsed first request, keep-alive allowed)
HttpHandler = Callable[[HandoverStream, h11.Connection, h11.Request, bool], Awaitable[None]]
WEBSOCKET_NONCE_BYTES = 16


def is_websocket_upgrade(request: h11.Request) -> bool:
    for name, value in request.headers:
        if name == b"upgrade" and b"websocket" in value.lower():
            return True
    return False


def websocket_key_problem(request: h11.Request) -> str | None:
    """Why the request's Sec-WebSocket-Key is unacceptable, or None (RFC 6455 4.2.1)."""
    keys = [value for name, value in request.headers if name == b"sec-websocket-key"]
    if len(keys) != 1:
        return f"expected one Sec-WebSocket-Key header, got {len(keys)}"
    key = keys[0].strip()
    if len(key) != 24:  # base64 of 16 bytes; also keeps a huge value from being decoded
        return "Sec-WebSocket-Key must be a base64-encoded 16-byte nonce"
    try:
        nonce = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        return "Sec-WebSocket-Key must be a base64-encoded 16-byte nonce"
    if len(nonce) != WEBSOCKET_NONCE_BYTES:
        return "Sec-WebSocket-Key must be a base64-encoded 16-byte nonce"
    return None


def is_health_check(request: h11.Request) -> bool:
    return request.method in (b"GET", b"HEAD") and request.target.split(b"?", 1)[0] == b"/healthz"


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
        max_http_connections_per_address: int = 0,
        http_health_reserve: int = 0,
        address_key: Callable[[str], str] = str,
        game: bool = True,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.inner = inner
        self.socket = inner.socket
        self._park = park_websockets
        self._http = http
        self._metrics = metrics
        self._head_timeout_s = head_timeout_s
        self._max_http_connections = max_http_connections
        self._max_per_address = max_http_connections_per_address
        self._health_reserve = http_health_reserve
        self._address_key = address_key
        self._game = game
        self._tls = tls
        self.http_connections = 0
        self._http_per_address: collections.Counter[str] = collections.Counter()
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
            if not self._game:
                metrics.http_responses[404] += 1
                await refuse(stream, connection, 404, "no game here: this is the admin listener")
                return False
            problem = websocket_key_problem(event)
            if problem is not None:
                metrics.handshakes_bad_key += 1
                metrics.handshakes_rejected += 1
                metrics.http_responses[400] += 1
                await refuse(stream, connection, 400, problem)
                return False
            stream.replay_head(head, park=self._park)
            self._unclaimed[stream.key] = stream
            self._upgrades_in.send_nowait(stream)
            return True
        return await self._serve_http(stream, connection, event)

    async def _serve_http(
        self, stream: HandoverStream, connection: h11.Connection, event: h11.Request
    ) -> bool:
        metrics = self._metrics
        key = self._address_key(stream.host)
        if self._max_per_address and self._http_per_address[key] >= self._max_per_address:
            metrics.http_refused_per_address += 1
            metrics.http_responses[429] += 1
            await refuse(stream, connection, 429, f"too many HTTP connections from {key}")
            return False
        keep_alive = True
        if self.http_connections >= self._max_http_connections:
            reserved = self._max_http_connections + self._health_reserve
            if not is_health_check(event) or self.http_connections >= reserved:
                metrics.http_refused_capacity += 1
                metrics.http_responses[503] += 1
                await refuse(stream, connection, 503, "too many HTTP connections")
                return False
            keep_alive = False  # a reserved slot serves this one health check, then closes
        if stream.leftover:  # pipelined requests (receive_data(b"") would mean EOF)
            connection.receive_data(stream.leftover)
            stream.leftover = b""
        self.http_connections += 1
        self._http_per_address[key] += 1
        try:
            await self._http(stream, connection, event, keep_alive)
        finally:
            self.http_connections -= 1
            self._http_per_address[key] -= 1
            if not self._http_per_address[key]:
                del self._http_per_address[key]
        return False
