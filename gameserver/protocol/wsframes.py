"""WebSocket frames (RFC 6455 section 5), both roles, as pure functions over bytes.

One codec for every hand-made WebSocket in the project: the server's fast transport
parses client frames with it and frames its snapshots, the lean swarm and the tests' raw
client frame their messages and parse the server's. Only framing lives here: what a
frame means (fragments, control frames, close codes, rate limits) is the caller's, since
a server and a client judge the same frame differently.

- ``frame_header(buf, pos, end)`` reads the header of the frame starting at ``buf[pos]``
  in ``buf[:end]`` without copying: ``None`` while the header is incomplete, else a
  ``FrameHeader`` whose offsets say where the masking key and payload are (they may
  still be incomplete: the frame is whole once ``payload_stop <= end``).
- ``build_frame(payload, opcode, mask=...)`` makes one frame: a client's carries a
  4-byte masking key (``mask``), a server's none. ``fin`` and ``rsv`` exist for tests
  that must send what a real peer would not.
- ``apply_mask`` masks and unmasks (XOR is its own inverse).
- ``close_payload``/``close_code`` write and read a close frame's body.

No function raises for what a peer sent: lengths are read as sent, and each caller
decides what a masked server frame or an oversized length means for it.
"""

from __future__ import annotations

import struct
from typing import Final, NamedTuple

OP_CONTINUATION: Final = 0x0
OP_TEXT: Final = 0x1
OP_BINARY: Final = 0x2
OP_CLOSE: Final = 0x8
OP_PING: Final = 0x9
OP_PONG: Final = 0xA

NO_STATUS: Final = 1005  # a close frame without a code (never sent, RFC 6455 7.4.1)
MAX_CONTROL_PAYLOAD: Final = 125
MAX_CLOSE_REASON_BYTES: Final = MAX_CONTROL_PAYLOAD - 2

# A header with a 16- or 64-bit length, packed at once (a snapshot's is mostly 16-bit).
_HEAD16 = struct.Struct("!BBH").pack
_HEAD64 = struct.Struct("!BBQ").pack


class FrameHeader(NamedTuple):
    """A frame's first two bytes, and where its parts lie in the buffer it was read from."""

    b0: int  # FIN, RSV1-3, opcode
    b1: int  # MASK, 7-bit length
    mask_start: int  # the masking key's 4 bytes start here (== payload_start if unmasked)
    payload_start: int
    payload_stop: int  # may lie beyond the bytes received so far

    @property
    def opcode(self) -> int:
        return self.b0 & 0x0F

    @property
    def fin(self) -> bool:
        return bool(self.b0 & 0x80)

    @property
    def rsv(self) -> int:
        return (self.b0 >> 4) & 0x07

    @property
    def masked(self) -> bool:
        return bool(self.b1 & 0x80)

    @property
    def length(self) -> int:
        return self.payload_stop - self.payload_start


def frame_header(buf: bytes | bytearray, pos: int, end: int) -> FrameHeader | None:
    """The header of the frame at ``buf[pos]``, or None while ``buf[pos:end]`` lacks it."""
    if end - pos < 2:
        return None
    b0, b1 = buf[pos], buf[pos + 1]
    length = b1 & 0x7F
    start = pos + 2
    if length == 126:
        if end - pos < 4:
            return None
        length = buf[pos + 2] << 8 | buf[pos + 3]
        start = pos + 4
    elif length == 127:
        if end - pos < 10:
            return None
        length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
        start = pos + 10
    # The key is not waited for: a length can be judged before it arrives.
    key = 4 if b1 & 0x80 else 0
    return FrameHeader(b0, b1, start, start + key, start + key + length)


def apply_mask(data: bytes | bytearray | memoryview, key: bytes | bytearray) -> bytes:
    """``data`` XOR the 4-byte ``key`` repeated (RFC 6455 5.3), as one big-integer XOR."""
    n = len(data)
    if not n:
        return b""
    keystream = (bytes(key) * ((n + 3) >> 2))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(keystream, "big")).to_bytes(n, "big")


def build_frame(
    payload: bytes,
    opcode: int = OP_BINARY,
    *,
    mask: bytes | None = None,
    fin: bool = True,
    rsv: int = 0,
) -> bytes:
    """One frame of ``payload``: a client's with its 4-byte ``mask`` key, a server's without."""
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    n = len(payload)
    mask_bit = 0x80 if mask is not None else 0
    if n < 126:
        head = bytes((first, mask_bit | n))
    elif n < 65536:
        head = _HEAD16(first, mask_bit | 126, n)
    else:
        head = _HEAD64(first, mask_bit | 127, n)
    if mask is None:
        return head + payload
    return head + mask + apply_mask(payload, mask)


def close_payload(code: int, reason: str = "") -> bytes:
    """A close frame's body: the code, then the reason cut to fit a control frame.

    The cut never splits a UTF-8 sequence (the reason must stay valid UTF-8).
    """
    data = reason.encode()[:MAX_CLOSE_REASON_BYTES].decode(errors="ignore").encode()
    return code.to_bytes(2, "big") + data


def close_code(payload: bytes | bytearray) -> int:
    """The code of a close frame's body (``NO_STATUS`` when it has none)."""
    return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else NO_STATUS
