"""Handing an established WebSocket from trio-websocket to the fast transport.

Theory of operation: trio-websocket stays the front door (it parses the
upgrade request, negotiates the subprotocol, accepts or rejects), but it is
given ``HandoverStream`` objects instead of sockets. A ``HandoverStream``
forwards reads only until the end of the HTTP request headers; after that it
never reads again: trio-websocket's reader task parks in ``receive_some``
until the fast transport is done with the socket and calls ``release()``,
which makes the parked read return EOF so trio-websocket cleans up. Bytes a
client sent right behind its request (pipelined frames) are split off into
``leftover`` for the fast transport. Once ``hand_over()`` is called, writes
from trio-websocket (its closing frame) are dropped: the socket is no longer
its to write.

Only public trio-websocket API is used: ``WebSocketServer`` accepts any
``trio.abc.Listener``, and ``WebSocketRequest.remote`` is ``repr(stream)``
for streams that are not sockets, which is how a handler finds its stream
(``HandoverListener.claim``). ``tests/integration/test_handover.py`` fails
loudly if a trio-websocket release changes either behaviour.
"""

from __future__ import annotations

import itertools
import ssl
from collections.abc import Callable

import trio

from .tls import TlsSession

END_OF_HEADERS = b"\r\n\r\n"
MAX_REQUEST_BYTES = 16384  # the HTTP upgrade request; larger ones never finish the handshake


def _peer(sock: trio.socket.SocketType) -> tuple[str, str]:
    """(host, "host:port") of the peer; a client that reset before we asked has none."""
    try:
        host, port = sock.getpeername()[:2]
    except OSError:
        return "unknown", "unknown"
    return str(host), f"{host}:{port}"


class HandoverStream(trio.abc.HalfCloseableStream):
    _ids = itertools.count(1)

    def __init__(
        self,
        stream: trio.SocketStream,
        *,
        park_after_request: bool,
        on_close: Callable[[HandoverStream], None] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.stream = stream
        self._on_close = on_close
        self.socket = stream.socket
        # TLS, when configured, runs in memory over the plain socket, so that the fast
        # transport can carry on with the same session after the hand-over.
        self.tls = TlsSession(tls) if tls is not None else None
        self._handshaken = False
        self.key = f"handover-{next(self._ids)}"
        self.host, self.remote = _peer(self.socket)
        self.leftover = b""  # bytes that arrived behind the request headers
        self.handed_over = False
        self._park_after_request = park_after_request
        self._request = bytearray()
        self._request_done = False
        self._released = trio.Event()

    def __repr__(self) -> str:
        return self.key

    def hand_over(self) -> None:
        """From now on the caller owns the socket; trio-websocket neither reads nor writes."""
        self.handed_over = True

    def release(self) -> None:
        """The fast transport is done: the parked trio-websocket reader sees EOF."""
        self._released.set()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if self._request_done and self._park_after_request:
            await self._released.wait()
            return b""
        if self.leftover and not self._park_after_request:
            data, self.leftover = self.leftover, b""
            return data
        data = await self._read(max_bytes)
        if self._request_done or not data:
            return data
        seen = len(self._request)
        self._request += data
        end = self._request.find(END_OF_HEADERS, max(0, seen - 3))
        if end >= 0:
            self._request_done = True
            split = end + len(END_OF_HEADERS) - seen
            self.leftover, data = data[split:], data[:split]
            self._request = bytearray()
        elif len(self._request) > MAX_REQUEST_BYTES:
            self._request_done = True  # give up looking; the handshake will fail on its own
        return data

    async def _read(self, max_bytes: int | None) -> bytes:
        tls = self.tls
        if tls is None:
            return bytes(await self.stream.receive_some(max_bytes))
        if not self._handshaken:
            await tls.handshake(self.stream)
            self._handshaken = True
        while True:
            raw = await self.stream.receive_some()
            if not raw:
                return b""
            plain = tls.decrypt(bytes(raw))
            extra = tls.pending_output()
            if extra:
                await self.stream.send_all(extra)
            if plain or tls.closed:
                return plain

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if self.handed_over:
            return
        if self.tls is not None:
            data = self.tls.encrypt(bytes(data))
        await self.stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.stream.wait_send_all_might_not_block()

    async def send_eof(self) -> None:
        if not self.handed_over:
            await self.stream.send_eof()

    async def aclose(self) -> None:
        self._released.set()
        if self._on_close is not None:
            self._on_close(self)
        await self.stream.aclose()


class HandoverListener(trio.abc.Listener[HandoverStream]):
    """Wraps a socket listener; remembers each stream until its handler claims it."""

    def __init__(
        self,
        inner: trio.SocketListener,
        *,
        park_after_request: bool,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.inner = inner
        self.socket = inner.socket
        self._tls = tls
        self._park = park_after_request
        self._unclaimed: dict[str, HandoverStream] = {}

    async def accept(self) -> HandoverStream:
        stream = HandoverStream(
            await self.inner.accept(),
            park_after_request=self._park,
            on_close=self.forget,
            tls=self._tls,
        )
        self._unclaimed[stream.key] = stream
        return stream

    def claim(self, remote: object) -> HandoverStream:
        """The stream behind a request (``request.remote`` is its key)."""
        stream = self._unclaimed.pop(str(remote), None)
        if stream is None:
            raise LookupError(f"no handover stream for {remote!r}: has trio-websocket changed?")
        return stream

    def forget(self, stream: HandoverStream) -> None:
        self._unclaimed.pop(stream.key, None)

    async def aclose(self) -> None:
        await self.inner.aclose()
