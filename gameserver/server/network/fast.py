"""Tick-synchronous connections: the room's ticker moves the bytes itself.

Theory of operation: once per tick the room calls ``collect()``, which does
one non-blocking ``recv`` and parses the frames that arrived, and
``deliver()``, which frames the snapshot and does one non-blocking ``send``.
No task wakes up per message. Bytes a send could not take wait in a bounded
write buffer; while it is not empty the connection is busy: new snapshots are
refused (conflation) and the connection's own task, parked the rest of the
time, waits for writability and flushes, closing with 4008 when the peer has
not taken the bytes within ``send_timeout_s``.

The fast parser takes every frame a legal client sends except close frames:
data frames whole or in fragments (at most ``max_fragments_per_message``),
pings and pongs, with 7-, 16- or 64-bit lengths (a length over the message
limit closes with 1009 as soon as the header is read). A close frame or a
frame it does not take (reserved bits or opcodes, unmasked, a bad control
frame) goes to a wsproto ``Connection``, which names the RFC close code; that
frame ends the connection, so wsproto is fed a few KiB per tick at most and
the read buffer's pushback keeps working.

Work per tick is bounded per connection: at most ``inbox_size`` data frames
(fragments count one each) and ``control_frame_burst`` pings and pongs are
parsed; the rest wait in the read buffer, and while it holds
``MAX_READ_BUFFER_BYTES`` nothing more is read, so TCP pushes back. Data
frames are charged to the message rate bucket, pings and pongs to a bucket of
their own (4029 beyond either), and only the newest ping of a tick is
answered (RFC 6455 5.5.3), so a tick writes at most one pong per connection.

Closing sends a close frame with the code and reason, flushes for at most
``shutdown_timeout_s`` and shuts the socket down.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct

import trio
from wsproto.connection import Connection as WsprotoConnection
from wsproto.connection import ConnectionState, ConnectionType
from wsproto.events import CloseConnection

from gameserver.config import Config
from gameserver.protocol import PROTOCOL_VERSION, CloseCode
from gameserver.server.limits import TokenBucket
from gameserver.server.metrics import Metrics
from gameserver.server.network.handover import HandoverStream
from gameserver.server.network.server_frames import (
    OP_BINARY,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    close_frame,
    frame,
    frame_header,
    unmask,
)

log = logging.getLogger(__name__)

READ_CHUNK_BYTES = 65536
MAX_READ_BUFFER_BYTES = 2 * READ_CHUNK_BYTES  # unparsed bytes kept between ticks
# Bytes handed to wsproto per tick. It only judges a connection's last frame (a close frame,
# at most 131 bytes, or a violation it names from the header), so this is plenty.
ENGINE_FEED_BYTES = 4096
_NO_CLOSE_CODE = 1005
# Close frames go to wsproto: their codes and reasons need validating, and they are rare.
_FAST_OPCODES = frozenset((OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_PING, OP_PONG))


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
        self._limits = config.limits  # read per tick: one lookup less
        self._metrics = metrics
        self._max_message = config.limits.max_message_bytes
        self.remote = stream.remote
        self.protocol_version = PROTOCOL_VERSION  # set by the server after the upgrade
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
        # A fragmented message in progress: its opcode (0: none), payloads and their size.
        self._fragment_opcode = 0
        self._fragments: list[bytes] = []
        self._fragment_bytes = 0
        self._wake = trio.Event()
        self._flush_scope: trio.CancelScope | None = None
        self.last_heard_s = trio.current_time()  # when bytes last arrived (pongs count)
        self._bucket = TokenBucket(
            config.limits.message_rate_per_s, config.limits.message_burst, self.last_heard_s
        )
        self._control_bucket = TokenBucket(
            config.limits.control_frame_rate_per_s,
            config.limits.control_frame_burst,
            self.last_heard_s,
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
        if self.closing:
            return []
        self._metrics.messages_in += len(messages)
        return messages

    def deliver(self, snapshot: bytes) -> bool:
        if self._wbuf or self.closing:
            return False
        cache = _last_framed
        if cache.payload is not snapshot:
            cache.payload, cache.framed = snapshot, frame(snapshot)
        metrics = self._metrics
        if self._tls is None:
            # The per-player hot path, _write and _send_raw inlined: nothing is buffered and
            # no close was sent (``closing`` is set first), so the bytes go straight out.
            data = cache.framed
            try:
                sent = self._sock.send(data)
            except BlockingIOError:
                sent = 0
            except OSError:
                self._lost()
                sent = 0
            else:
                metrics.wire_bytes_out += sent
            if sent < len(data) and not self.closed:
                self._wbuf += data[sent:]
                self._wake.set()
        else:
            self._write(cache.framed)
        metrics.messages_out += 1
        metrics.bytes_out += len(snapshot)
        metrics.snapshots_sent += 1
        return True

    def send_control(self, message: bytes) -> None:
        if self.closing:
            return
        if self._wbuf:
            if self._queued_controls >= self._limits.control_queue_size:
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
        max_data_frames = self._limits.inbox_size
        max_controls = self._limits.control_frame_burst
        max_message = self._max_message
        fragmenting = self._fragment_opcode
        data_frames = controls = 0
        ping: bytes | None = None
        end = len(buf)
        pos = 0
        while data_frames < max_data_frames:
            head = frame_header(buf, pos, end)
            if head is None:
                break
            b0, b1, key_start, start, frame_end = head
            length = frame_end - start
            opcode = b0 & 0x0F
            if (
                b0 & 0x70  # RSV bits set
                or not b1 & 0x80  # client frames must be masked
                or opcode not in _FAST_OPCODES
                or (opcode >= OP_PING and (length > 125 or not b0 & 0x80))
            ):
                # Not a frame the fast path takes: wsproto judges it (and ends the connection).
                del buf[:pos]
                self._parse_with_engine()
                return
            if opcode < OP_PING:  # a data frame
                whole = b0 & 0x80 and opcode and not fragmenting
                if whole:
                    if length > max_message:
                        del buf[:pos]
                        self._fail(
                            CloseCode.MESSAGE_TOO_BIG,
                            f"message of {length} bytes exceeds {max_message}",
                        )
                        return
                elif not self._fragment_allowed(opcode, length):
                    return
                if frame_end > end:
                    break
                payload = unmask(buf[start:frame_end], buf[key_start:start])
                pos = frame_end
                data_frames += 1
                if not whole:
                    message = self._add_fragment(opcode, b0 & 0x80, payload)
                    fragmenting = self._fragment_opcode
                    if message is None:
                        continue
                    opcode, payload = message
                if opcode == OP_BINARY:
                    out.append(payload)
                    self._metrics.bytes_in += len(payload)
                else:
                    try:
                        out.append(payload.decode())
                    except UnicodeDecodeError:
                        del buf[:pos]
                        self._fail(CloseCode.INVALID_PAYLOAD, "text frame is not valid UTF-8")
                        return
            else:  # ping or pong
                if frame_end > end:
                    break
                controls += 1
                if controls > max_controls:
                    break  # more than the bucket can ever hold: closed below
                if opcode == OP_PING:
                    ping = unmask(buf[start:frame_end], buf[key_start:start])
                pos = frame_end
        del buf[:pos]
        self._charge(data_frames, controls, ping)

    def _fragment_allowed(self, opcode: int, length: int) -> bool:
        """Judge a fragment from its header; False (and the connection closed) if it may not be."""
        if opcode and self._fragment_opcode:
            self._fail(CloseCode.PROTOCOL_ERROR, "a new message before the fragmented one ended")
            return False
        if not opcode and not self._fragment_opcode:
            self._fail(CloseCode.PROTOCOL_ERROR, "continuation frame without a message to continue")
            return False
        if self._fragment_bytes + length > self._max_message:
            self._fail(CloseCode.MESSAGE_TOO_BIG, f"message exceeds {self._max_message} bytes")
            return False
        limit = self._limits.max_fragments_per_message
        if len(self._fragments) >= limit:
            self._metrics.fragment_limited += 1
            self._fail(CloseCode.MESSAGE_TOO_BIG, f"message in more than {limit} fragments")
            return False
        return True

    def _add_fragment(self, opcode: int, fin: int, payload: bytes) -> tuple[int, bytes] | None:
        """Keep one fragment; with ``fin`` set, the whole message and its opcode."""
        if opcode:
            self._fragment_opcode = opcode
        self._fragments.append(payload)
        self._fragment_bytes += len(payload)
        if not fin:
            return None
        message = (self._fragment_opcode, b"".join(self._fragments))
        self._fragment_opcode = 0
        self._fragments = []
        self._fragment_bytes = 0
        return message

    def _charge(self, data_frames: int, controls: int, ping: bytes | None) -> None:
        """Charge a tick's frames to the rate buckets, and answer its newest ping."""
        now = self.last_heard_s
        if controls:
            if not self._control_bucket.take(controls, now):
                self._metrics.control_rate_limited += 1
                rate = self._limits.control_frame_rate_per_s
                log.warning("%s closed: over %g WebSocket pings per second", self.remote, rate)
                self.close(
                    CloseCode.RATE_LIMITED,
                    f"rate limit: over {rate:g} WebSocket pings and pongs per second",
                )
                return
            if ping is not None:
                self._write(frame(ping, OP_PONG))
        if data_frames and not self._bucket.take(data_frames, now):
            self._metrics.rate_limited += 1
            rate = self._limits.message_rate_per_s
            log.warning("%s closed: over %g messages per second", self.remote, rate)
            self.close(CloseCode.RATE_LIMITED, f"rate limit: over {rate:g} messages per second")

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
        """Let wsproto judge the frame at the start of the read buffer: a close or a violation.

        Frames reach wsproto only when the fast parser does not take them, and each of those
        ends the connection; it is fed at most ENGINE_FEED_BYTES per tick, the rest waits in
        the read buffer (and the socket), so its own buffer stays small.
        """
        engine = self._engine
        if engine is None:
            engine = self._engine = WsprotoConnection(ConnectionType.SERVER)
        feed = bytes(self._rbuf[:ENGINE_FEED_BYTES])
        del self._rbuf[: len(feed)]
        engine.receive_data(feed)
        for event in engine.events():
            if isinstance(event, CloseConnection):
                if engine.state is ConnectionState.REMOTE_CLOSING:
                    self._peer_closed(struct.pack("!H", event.code) if event.code else b"")
                else:  # wsproto found a violation and names its code
                    self._fail(event.code, event.reason or "WebSocket protocol violation")
                return
            # The fast parser takes every other legal frame, so none should come this way.
            self._fail(CloseCode.PROTOCOL_ERROR, "unexpected frame")
            return

    # -- writing ------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        if self.closed or self._close_sent:
            return  # nothing may follow a close frame
        over = len(self._wbuf) + len(data) > self._limits.max_write_buffer_bytes
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
        await self._flush(self._config.process.shutdown_timeout_s)
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
        limits = self._limits
        quiet_s = trio.current_time() - self.last_heard_s
        if quiet_s >= limits.idle_timeout_s:
            self._metrics.idle_timeouts += 1
            log.warning("%s closed: nothing received for %.0f s", self.remote, quiet_s)
            self.close(CloseCode.IDLE_TIMEOUT, f"idle: nothing received for {quiet_s:.0f} s")
        elif quiet_s >= limits.keepalive_interval_s:
            self._write(frame(b"keepalive", OP_PING))

    async def run(self) -> None:
        """Park until there is something to flush, a ping is due, or the connection ends."""
        config = self._config
        # Waking this often keeps a ping within half an interval of being due.
        check_every_s = config.limits.keepalive_interval_s / 2
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
                    and not await self._flush(config.limits.send_timeout_s)
                    and not self.closed
                )
                if stalled:
                    self._metrics.slow_consumer_closes += 1
                    log.warning("%s closed: send timed out, peer not reading", self.remote)
                    self.close(CloseCode.SLOW_CONSUMER, "send timed out: not reading")
            if not self.closed:
                await self._flush(config.process.shutdown_timeout_s)
        finally:
            self._release_socket()
