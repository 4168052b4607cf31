"""Handing an established WebSocket from trio-websocket to the fast transport.

Theory of operation: the front door (``frontdoor.py``) reads each connection's
request head through a ``HandoverStream`` (``read_head``), decrypting TLS in
memory when configured. For a WebSocket upgrade, trio-websocket is then given
the stream: its first read returns the head again (``replay_head``), so it
parses, negotiates and accepts or rejects as usual. With ``park=True`` (the
fast transport) the stream never reads again after that: trio-websocket's
reader task parks in ``receive_some`` until the fast transport is done with
the socket and calls ``release()``, which makes the parked read return EOF so
trio-websocket cleans up. Bytes a client sent right behind its request
(pipelined frames) stay in ``leftover`` for the fast transport. Once
``hand_over()`` is called, writes from trio-websocket (its closing frame) are
dropped: the socket is no longer its to write.

Only public trio-websocket API is used: ``WebSocketServer`` accepts any
``trio.abc.Listener``, and ``WebSocketRequest.remote`` is ``repr(stream)``
for streams that are not sockets, which is how a handler finds its stream
(``FrontDoor.claim``). ``tests/integration/test_handover.py`` fails loudly if
a trio-websocket release changes either behaviour.
"""

from __future__ import annotations

import itertools
import ssl
from collections.abc import Callable

import trio

from gameserver.errors import GameServerError
from gameserver.server.network.framemeter import FrameMeter, Refusal
from gameserver.server.network.tls import TlsSession

END_OF_HEADERS = b"\r\n\r\n"
MAX_REQUEST_BYTES = 16384  # the HTTP upgrade request; larger ones never finish the handshake
_REFUSED_CLOSE_WAIT_S = 5.0  # after a refusal, the longest the parked reader waits for the close


def _peer(sock: trio.socket.SocketType) -> tuple[str, str]:
    """(host, "host:port") of the peer; a client that reset before we asked has none."""
    try:
        host, port = sock.getpeername()[:2]
    except OSError:
        return "unknown", "unknown"
    return str(host), f"{host}:{port}"


class HeadTooLarge(GameServerError):
    """The request head did not end within MAX_REQUEST_BYTES."""

    def __init__(self, partial: bytes) -> None:
        super().__init__("request head too large")
        self.partial = partial[: MAX_REQUEST_BYTES + 1]  # what was read (an unfinished head)


class HandoverStream(trio.abc.HalfCloseableStream):
    _ids = itertools.count(1)

    def __init__(
        self,
        stream: trio.SocketStream,
        *,
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
        self.opened_at = trio.current_time()  # the first request's deadline counts from here
        self.host, self.remote = _peer(self.socket)
        self.leftover = b""  # bytes that arrived behind the request head
        self.handed_over = False
        self._replay = b""  # the request head, returned by the next read (trio-websocket's)
        self._park = False
        self._head_replayed = False
        self._released = trio.Event()
        # Tasks transport: frame headers are judged on their way to trio-websocket.
        self._meter: FrameMeter | None = None
        self._on_refusal: Callable[[Refusal], None] | None = None
        self._refused = False
        self._close_sent = trio.Event()

    def __repr__(self) -> str:
        return self.key

    async def read_head(self) -> bytes:
        """Read up to the end of the request head; what follows it stays in ``leftover``.

        Returns b"" when the peer closes first; raises ``HeadTooLarge`` past MAX_REQUEST_BYTES.
        """
        head = bytearray()
        while True:
            data = await self._read(None)
            if not data:
                return b""
            seen = len(head)
            head += data
            end = head.find(END_OF_HEADERS, max(0, seen - 3))
            if end > MAX_REQUEST_BYTES:
                raise HeadTooLarge(bytes(head[:end]))
            if end >= 0:
                split = end + len(END_OF_HEADERS)
                self.leftover = bytes(head[split:])
                return bytes(head[:split])
            if len(head) > MAX_REQUEST_BYTES:
                raise HeadTooLarge(bytes(head))

    def replay_head(self, head: bytes, *, park: bool) -> None:
        """The next read returns ``head``; with ``park`` no read after it touches the socket."""
        self._replay = head
        self._park = park

    def hand_over(self) -> None:
        """From now on the caller owns the socket; trio-websocket neither reads nor writes."""
        self.handed_over = True

    def meter_frames(self, meter: FrameMeter, on_refusal: Callable[[Refusal], None]) -> None:
        """Judge the frames read from now on; on a refusal stop reading and tell ``on_refusal``.

        After a refusal nothing more reaches trio-websocket: its reader parks until its close
        frame has been written (then it sees EOF), so TCP pushes back on the peer.
        """
        self._meter = meter
        self._on_refusal = on_refusal

    def release(self) -> None:
        """The fast transport is done: the parked trio-websocket reader sees EOF."""
        self._released.set()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if self._replay:
            data, self._replay = self._replay, b""
            self._head_replayed = True
            return data
        if self._park and self._head_replayed:
            await self._released.wait()
            return b""
        if self._refused:
            with trio.move_on_after(_REFUSED_CLOSE_WAIT_S):
                await self._close_sent.wait()
            return b""
        if self.leftover:
            data, self.leftover = self.leftover, b""
        else:
            data = await self._read(max_bytes)
        meter = self._meter
        if meter is not None and data:
            refusal = meter.feed(data, trio.current_time())
            if refusal is not None:
                self._refused = True
                assert self._on_refusal is not None
                self._on_refusal(refusal)
                return await self.receive_some(max_bytes)
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
        closing = self._refused and data[:1] == b"\x88"  # trio-websocket's close frame
        if self.tls is not None:
            data = self.tls.encrypt(bytes(data))
        await self.stream.send_all(data)
        if closing:
            self._close_sent.set()

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
