"""Frame limits for the tasks transport, judged from the frame headers alone (sans-I/O).

Theory of operation: on the tasks transport trio-websocket (and wsproto under
it) parse the frames; it answers every ping and reassembles fragments without
limit. The meter sees the same bytes first, on their way from the socket to
trio-websocket, and follows only the headers: it keeps a partial header (at
most 14 bytes) and a count of payload bytes to skip, never a payload. It
refuses, from the header and before any payload arrives:

- a data frame whose message would exceed ``max_message_bytes`` (1009), so a
  64-bit length over the limit is refused at once;
- a message in more than ``max_fragments_per_message`` frames (1009);
- pings and pongs beyond ``control_frame_rate_per_s`` / ``control_frame_burst``
  (4029).

Everything else (framing violations included) is left to wsproto.
"""

from __future__ import annotations

import attrs

from gameserver.config import Config
from gameserver.protocol import CloseCode
from gameserver.server.limits import TokenBucket

_OP_CONTINUATION = 0x0
_OP_PING = 0x9
_OP_PONG = 0xA


@attrs.frozen
class Refusal:
    code: int
    reason: str
    limit: str  # the setting that refused: "control_frame_rate" or "max_fragments_per_message"
    # or "max_message_bytes"


class FrameMeter:
    def __init__(self, config: Config, now_s: float) -> None:
        self._max_message = config.limits.max_message_bytes
        self._max_fragments = config.limits.max_fragments_per_message
        self._control_rate = config.limits.control_frame_rate_per_s
        self._control_bucket = TokenBucket(
            config.limits.control_frame_rate_per_s, config.limits.control_frame_burst, now_s
        )
        self._header = bytearray()  # the start of a header not yet complete
        self._skip = 0  # payload bytes of the current frame still to pass
        self._fragments = 0  # frames of the data message in progress (0: none)
        self._message_bytes = 0

    def feed(self, data: bytes, now_s: float) -> Refusal | None:
        """Follow the headers in ``data``; the first refusal they earn, if any."""
        pos, end = 0, len(data)
        while pos < end:
            if self._skip:
                step = min(self._skip, end - pos)
                self._skip -= step
                pos += step
                continue
            need = self._header_size()
            take = min(need - len(self._header), end - pos)
            self._header += data[pos : pos + take]
            pos += take
            if len(self._header) < need or need != self._header_size():
                continue  # incomplete, or the length byte just told us the header is longer
            refusal = self._judge(now_s)
            if refusal is not None:
                return refusal
        return None

    def _header_size(self) -> int:
        header = self._header
        if len(header) < 2:
            return 2
        size = 2 + (0, 2, 8)[max(0, (header[1] & 0x7F) - 125)]
        return size + 4 if header[1] & 0x80 else size

    def _judge(self, now_s: float) -> Refusal | None:
        header, self._header = self._header, bytearray()
        b0, b1 = header[0], header[1]
        length = b1 & 0x7F
        if length == 126:
            length = int.from_bytes(header[2:4], "big")
        elif length == 127:
            length = int.from_bytes(header[2:10], "big")
        self._skip = length
        opcode = b0 & 0x0F
        if opcode in (_OP_PING, _OP_PONG):
            if not self._control_bucket.take(1, now_s):
                return Refusal(
                    CloseCode.RATE_LIMITED,
                    f"rate limit: over {self._control_rate:g} WebSocket pings and pongs per second",
                    "control_frame_rate",
                )
            return None
        if opcode > 0x2:
            return None  # close frames and violations: wsproto's to judge
        if opcode != _OP_CONTINUATION:
            self._fragments = self._message_bytes = 0
        self._fragments += 1
        self._message_bytes += length
        if self._message_bytes > self._max_message:
            return Refusal(
                CloseCode.MESSAGE_TOO_BIG,
                f"message exceeds {self._max_message} bytes",
                "max_message_bytes",
            )
        if self._fragments > self._max_fragments:
            return Refusal(
                CloseCode.MESSAGE_TOO_BIG,
                f"message in more than {self._max_fragments} fragments",
                "max_fragments_per_message",
            )
        if b0 & 0x80:
            self._fragments = self._message_bytes = 0
        return None
