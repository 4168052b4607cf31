"""WebSocket frames the fast transport writes (server side, unmasked).

Framing itself is ``gameserver.protocol.wsframes``, the one codec every hand-made
WebSocket in the project shares; these are the server's shapes of it. The fast path
(``fast.py``) parses every masked frame a client may send except close frames:
binary and text data, whole or in fragments, pings and pongs. Close frames and
violations (unmasked frames, reserved opcodes or bits, bad control frames) are left to
wsproto, which fails the connection with the right RFC close code.
"""

from __future__ import annotations

from gameserver.protocol.wsframes import (
    MAX_CLOSE_REASON_BYTES,
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    apply_mask,
    build_frame,
    close_payload,
    frame_header,
)

__all__ = [
    "MAX_CLOSE_REASON_BYTES",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "close_frame",
    "frame",
    "frame_header",
    "unmask",
]

unmask = apply_mask
# One unmasked server frame with FIN set: build_frame's defaults, called per snapshot
# delivered, so without a wrapper around it.
frame = build_frame


def close_frame(code: int, reason: str) -> bytes:
    """A close frame; the reason is cut to fit, never inside a UTF-8 sequence."""
    return build_frame(close_payload(code, reason), OP_CLOSE)
