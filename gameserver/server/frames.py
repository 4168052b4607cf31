"""WebSocket frame helpers for the fast transport (RFC 6455, server side).

The fast path (``fastconn.py``) parses every masked frame a client may send
except close frames: binary and text data, whole or in fragments, pings and
pongs. Close frames and violations (unmasked frames, reserved opcodes or
bits, bad control frames) are left to wsproto, which fails the connection
with the right RFC close code.
"""

from __future__ import annotations

import struct

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

MAX_CLOSE_REASON_BYTES = 123  # a control frame payload is at most 125 bytes


def frame(payload: bytes, opcode: int = OP_BINARY) -> bytes:
    """One unmasked server frame with FIN set."""
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x80 | opcode, 126, n) + payload
    return struct.pack("!BBQ", 0x80 | opcode, 127, n) + payload


def close_frame(code: int, reason: str) -> bytes:
    data = reason.encode()[:MAX_CLOSE_REASON_BYTES]
    # Cutting may split a UTF-8 sequence; drop the broken tail.
    data = data.decode(errors="ignore").encode()
    return frame(struct.pack("!H", code) + data, OP_CLOSE)


def unmask(data: bytes | bytearray, mask: bytes | bytearray) -> bytes:
    """XOR ``data`` with the repeating 4-byte ``mask``, as one big-integer operation."""
    n = len(data)
    if not n:
        return b""
    key = (bytes(mask) * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
