"""Tick-synchronous connections: the room's ticker moves the bytes itself.

Theory of operation: once per tick the room calls ``collect()``, which does
one non-blocking ``recv`` and parses the frames that arrived, and
``deliver()``, which frames the snapshot and does one non-blocking ``send``.
No task wakes up per message. Bytes a send could not take wait in a bounded
write buffer; while it is not empty the connection is busy: new snapshots are
refused (conflation) and the connection's own task, parked the rest of the
time, waits for writability and flushes, closing with 4008 when the peer has
not taken the bytes within ``send_timeout_s``.

Frames the fast parser does not take (fragments, unusual lengths, protocol
violations) go to a wsproto ``Connection``; from that frame on, every byte
of the connection goes through wsproto (rare: well-behaved clients never get
there). Closing sends a close frame with the code and reason, flushes for at
most ``shutdown_timeout_s`` and shuts the socket down.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct

import trio
from wsproto.connection import Connection as WsprotoConnection
from wsproto.connection import ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage

from gameserver.config import Config
from gameserver.protocol import CloseCode

from .frames import (
    OP_BINARY,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    close_frame,
    frame,
    unmask,
)
from .handover import HandoverStream
from .limits import TokenBucket
from .metrics import Metrics

log = logging.getLogger(__name__)

READ_CHUNK_BYTES = 65536
MAX_READ_BUFFER_BYTES = 2 * READ_CHUNK_BYTES  # unparsed bytes kept between ticks
_NO_CLOSE_CODE = 1005
# Close frames go to wsproto too: their codes and reasons need validating, and they are rare.
_FAST_OPCODES = frozenset((OP_TEXT, OP_BINARY, OP_PING, OP_PONG))


class _Framed:
    """A one-entry cache: consecutive deliveries of the same payload object frame it once."""

    payload: bytes | None = None
    framed: bytes = b""


_last_framed = _Framed()


class FastConnection:
    def __init__(self, stream: HandoverStream, config: Config, metrics: Metrics) -> None:
        self._stream = stream
        # The same file descriptor as trio's socket, for plain non-blocking calls; detached,
        # never closed, at the end (the stream owns the descriptor).
        self._sock = socket.socket(fileno=stream.socket.fileno())
        self._config = config
        self._metrics = metrics
        self._max_message = config.max_message_bytes
        self.remote = stream.remote
        self.closing = False  # close() called, or the peer went away
        self.closed = False  # nothing more will be read or written
        self.close_code: int | None = None
        self._rbuf = bytearray(stream.leftover)
        self._tls = stream.tls  # the session the handshake ran on, if any
        self._wbuf = bytearray()
        self._queued_controls = 0  # control messages waiting behind unsent bytes
        self._close_sent = False
        self._messages: list[bytes | str] = []
        self._engine: WsprotoConnection | None = None
        self._fragments: list[bytes | str] = []
        self._fragment_bytes = 0
        self._wake = trio.Event()
        self._flush_scope: trio.CancelScope | None = None
        self.last_heard_s = trio.current_time()  # when bytes last arrived (pongs count)
        self._bucket = TokenBucket(
            config.message_rate_per_s, config.message_burst, self.last_heard_s
        )

    # -- the seam (called by the room's ticker; never blocks) -------------------

    def collect(self) -> list[bytes | str]:
        if self.closing:
            return []
        if len(self._rbuf) < MAX_READ_BUFFER_BYTES:
            try:
                data = self._sock.recv(READ_CHUNK_BYTES)
            except BlockingIOError:
                data = None
            except OSError:
                self._lost()
                return []
            if data is not None:
                if not data:
                    self._lost()
                    return []
                self._metrics.wire_bytes_in += len(data)
                if self._tls is not None:
                    data = self._tls.decrypt(data)
                    self._send_raw(self._tls.pending_output())
                    if self._tls.closed:
                        self._lost()
                        return []
                self._rbuf += data
                self.last_heard_s = trio.current_time()
        if self._rbuf:
            if self._engine is None:
                self._parse()
            else:
                self._parse_with_engine()
        messages, self._messages = self._messages, []
        if messages:
            self._metrics.messages_in += len(messages)
            if not self._bucket.take(len(messages), self.last_heard_s):
                self._metrics.rate_limited += 1
                rate = self._config.message_rate_per_s
                log.warning("%s closed: over %g messages per second", self.remote, rate)
                self.close(CloseCode.RATE_LIMITED, f"rate limit: over {rate:g} messages per second")
                return []
        return messages

    def deliver(self, snapshot: bytes) -> bool:
        if self._wbuf or self.closing:
            return False
        cache = _last_framed
        if cache.payload is not snapshot:
            cache.payload, cache.framed = snapshot, frame(snapshot)
        self._write(cache.framed)
        metrics = self._metrics
        metrics.messages_out += 1
        metrics.bytes_out += len(snapshot)
        metrics.snapshots_sent += 1
        return True

    def send_control(self, message: bytes) -> None:
        if self.closing:
            return
        if self._wbuf:
            if self._queued_controls >= self._config.control_queue_size:
                self._metrics.control_dropped += 1
                return
            self._queued_controls += 1
        self._write(frame(message))
        self._metrics.messages_out += 1
        self._metrics.bytes_out += len(message)

    def close(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        self.close_code = code
        self._write(close_frame(code, reason))
        self._close_sent = True
        if self._flush_scope is not None:
            self._flush_scope.cancel()  # a flush stuck on a stalled peer must not delay the close
        self._wake.set()

    # -- reading ----------------------------------------------------------------

    def _fail(self, code: int, reason: str) -> None:
        """A frame-level violation: close with its RFC code, counted like any protocol error."""
        self._metrics.protocol_errors[code] += 1
        log.warning("%s protocol error, closing: %s (%d)", self.remote, reason, code)
        self.close(code, reason)

    def _parse(self) -> None:
        buf = self._rbuf
        out = self._messages
        limit = self._config.inbox_size
        end = len(buf)
        pos = 0
        while end - pos >= 2 and len(out) < limit:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            length = b1 & 0x7F
            header = 2
            if length == 126:
                if end - pos < 4:
                    break
                length = (buf[pos + 2] << 8) | buf[pos + 3]
                header = 4
            opcode = b0 & 0x0F
            if (
                b0 & 0xF0 != 0x80  # FIN must be set, RSV bits clear
                or not b1 & 0x80  # client frames must be masked
                or length == 127
                or opcode not in _FAST_OPCODES
                or (opcode >= OP_PING and length > 125)
            ):
                # Not a frame the fast path takes: wsproto judges it and all that follows.
                del buf[:pos]
                self._parse_with_engine()
                return
            if opcode <= OP_BINARY and length > self._max_message:
                del buf[:pos]
                self._fail(
                    CloseCode.MESSAGE_TOO_BIG,
                    f"message of {length} bytes exceeds {self._max_message}",
                )
                return
            frame_end = pos + header + 4 + length
            if frame_end > end:
                break
            payload = unmask(
                buf[pos + header + 4 : frame_end], buf[pos + header : pos + header + 4]
            )
            pos = frame_end
            if opcode == OP_BINARY:
                out.append(payload)
                self._metrics.bytes_in += length
            elif opcode == OP_TEXT:
                try:
                    out.append(payload.decode())
                except UnicodeDecodeError:
                    del buf[:pos]
                    self._fail(CloseCode.INVALID_PAYLOAD, "text frame is not valid UTF-8")
                    return
            elif opcode == OP_PING:
                self._write(frame(payload, OP_PONG))
        del buf[:pos]

    def _peer_closed(self, payload: bytes) -> None:
        code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else _NO_CLOSE_CODE
        self.close_code = code
        # Echo the close (RFC 6455 5.5.1); a code we may not send back becomes 1000.
        self.closing = True
        reply = code if 1000 <= code <= 4999 and code not in (1005, 1006, 1015) else 1000
        self._write(close_frame(reply, ""))
        self._close_sent = True
        self._wake.set()

    def _parse_with_engine(self) -> None:
        """Feed the read buffer to wsproto (created on first use) and act on its events."""
        engine = self._engine
        if engine is None:
            engine = self._engine = WsprotoConnection(ConnectionType.SERVER)
        engine.receive_data(bytes(self._rbuf))
        self._rbuf.clear()
        for event in engine.events():
            if isinstance(event, BytesMessage | TextMessage):
                self._fragments.append(
                    bytes(event.data) if isinstance(event, BytesMessage) else event.data
                )
                self._fragment_bytes += len(event.data)
                if self._fragment_bytes > self._max_message:
                    self._fail(
                        CloseCode.MESSAGE_TOO_BIG, f"message exceeds {self._max_message} bytes"
                    )
                    return
                if event.message_finished:
                    self._metrics.bytes_in += self._fragment_bytes
                    parts, self._fragments, self._fragment_bytes = self._fragments, [], 0
                    joined: bytes | str = (
                        b"".join(parts)  # type: ignore[arg-type]
                        if isinstance(event, BytesMessage)
                        else "".join(parts)  # type: ignore[arg-type]
                    )
                    self._messages.append(joined)
            elif isinstance(event, Ping):
                self._write(engine.send(event.response()))
            elif isinstance(event, CloseConnection):
                if engine.state is ConnectionState.REMOTE_CLOSING:
                    self._peer_closed(struct.pack("!H", event.code) if event.code else b"")
                else:  # wsproto found a violation and names its code
                    self._fail(event.code, event.reason or "WebSocket protocol violation")
                return

    # -- writing ------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        if self.closed or self._close_sent:
            return  # nothing may follow a close frame
        over = len(self._wbuf) + len(data) > self._config.max_write_buffer_bytes
        if self._wbuf and over and not self.closing:
            # Only a peer that sends (pings) without reading gets here. Checked before any
            # encryption, so that a TLS stream never skips a record.
            self._metrics.slow_consumer_closes += 1
            log.warning("%s closed: write buffer full, peer not reading", self.remote)
            self.close(CloseCode.SLOW_CONSUMER, "write buffer full: not reading")
            return
        if self._tls is not None:
            data = self._tls.encrypt(data)
        self._send_raw(data)

    def _send_raw(self, data: bytes) -> None:
        """Bytes for the wire, in order: now if the socket takes them, else buffered."""
        if not data:
            return
        if self._wbuf:
            self._wbuf += data
            return
        try:
            sent = self._sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._lost()
            return
        self._metrics.wire_bytes_out += sent
        if sent < len(data):
            self._wbuf += data[sent:]
            self._wake.set()

    def _lost(self) -> None:
        """The peer went away without a close frame."""
        self.closing = True
        self.closed = True
        if self.close_code is None:
            self.close_code = 1006
        self._wake.set()

    async def _flush(self, timeout_s: float) -> bool:
        """Write the buffer out; False if the peer did not take it in time."""
        with trio.move_on_after(timeout_s) as self._flush_scope:
            while self._wbuf and not self.closed:
                await trio.lowlevel.wait_writable(self._sock)
                try:
                    sent = self._sock.send(self._wbuf)
                except BlockingIOError:
                    continue
                except OSError:
                    self._lost()
                    return False
                self._metrics.wire_bytes_out += sent
                del self._wbuf[:sent]
            self._queued_controls = 0
            return True
        return False

    async def abort(self, code: int, reason: str) -> None:
        """After an unexpected error: send a close frame (bounded in time) and give up."""
        if self.closed:
            return
        self.closing = False
        self.close(code, reason)
        await self._flush(self._config.shutdown_timeout_s)
        self._release_socket()

    def _release_socket(self) -> None:
        if self._sock.fileno() < 0:
            return
        self.closing = self.closed = True
        with contextlib.suppress(OSError):  # already gone
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.detach()

    def _keep_alive(self) -> None:
        """Ping a quiet peer; close one that has not even answered a ping (dead peer)."""
        config = self._config
        quiet_s = trio.current_time() - self.last_heard_s
        if quiet_s >= config.idle_timeout_s:
            self._metrics.idle_timeouts += 1
            log.warning("%s closed: nothing received for %.0f s", self.remote, quiet_s)
            self.close(CloseCode.IDLE_TIMEOUT, f"idle: nothing received for {quiet_s:.0f} s")
        elif quiet_s >= config.keepalive_interval_s:
            self._write(frame(b"keepalive", OP_PING))

    async def run(self) -> None:
        """Park until there is something to flush, a ping is due, or the connection ends."""
        config = self._config
        # Waking this often keeps a ping within half an interval of being due.
        check_every_s = config.keepalive_interval_s / 2
        try:
            while not self.closing:
                with trio.move_on_after(check_every_s) as quiet:
                    await self._wake.wait()
                if quiet.cancelled_caught:
                    self._keep_alive()
                    continue
                self._wake = trio.Event()
                stalled = (
                    self._wbuf
                    and not self.closing
                    and not await self._flush(config.send_timeout_s)
                    and not self.closed
                )
                if stalled:
                    self._metrics.slow_consumer_closes += 1
                    log.warning("%s closed: send timed out, peer not reading", self.remote)
                    self.close(CloseCode.SLOW_CONSUMER, "send timed out: not reading")
            if not self.closed:
                await self._flush(config.shutdown_timeout_s)
        finally:
            self._release_socket()
