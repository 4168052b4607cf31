"""A raw WebSocket client for tests that must send what no real client library would.

Frames are built and read with ``gameserver.protocol.wsframes``, the codec of the
server's fast transport and the lean swarm.
"""

from __future__ import annotations

import base64
import os
import ssl
from typing import Any

import trio

from gameserver.protocol import SUBPROTOCOL
from gameserver.protocol.wsframes import (
    OP_BINARY,
    OP_CLOSE,
    apply_mask,
    build_frame,
    close_code,
    frame_header,
)


async def handshake(
    port: int,
    subprotocol: str = SUBPROTOCOL,
    extra_headers: str = "",
    ssl_context: ssl.SSLContext | None = None,
    *,
    local_address: str | None = None,
    path: str = "/ws",
) -> tuple[trio.SocketStream, bytes]:
    """Open a WebSocket; ``local_address`` (say ``127.0.0.2``) makes it come from another host.

    Players in tests connect from 127.0.0.1; attackers from another loopback address, so
    per-address limits hit the attacker, as they would on a real network.
    """
    stream: Any = await trio.open_tcp_stream("127.0.0.1", port, local_address=local_address)
    if ssl_context is not None:
        stream = trio.SSLStream(stream, ssl_context, server_hostname="127.0.0.1")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: {subprotocol}\r\n{extra_headers}\r\n"
    )
    await stream.send_all(request.encode())
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = await stream.receive_some()
        assert chunk, "server closed during the handshake"
        response += chunk
    head, _, rest = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    return stream, rest


def client_frame(
    payload: bytes, opcode: int = OP_BINARY, *, fin: bool = True, rsv: int = 0, masked: bool = True
) -> bytes:
    """A client frame, also one a real client would never send (``fin``, ``rsv``, unmasked)."""
    mask = os.urandom(4) if masked else None
    return build_frame(payload, opcode, mask=mask, fin=fin, rsv=rsv)


class FrameReader:
    """Parses the server's (unmasked) frames from a stream."""

    def __init__(self, stream: trio.SocketStream, initial: bytes = b"") -> None:
        self.stream = stream
        self.buffer = bytearray(initial)

    async def _more(self) -> bool:
        chunk = await self.stream.receive_some()
        self.buffer += chunk
        return bool(chunk)

    async def next(self) -> tuple[int, bytes] | None:
        """(opcode, payload), or None at EOF."""
        while True:
            head = frame_header(self.buffer, 0, len(self.buffer))
            if head is not None and head.payload_stop <= len(self.buffer):
                break
            if not await self._more():
                return None
        payload = bytes(self.buffer[head.payload_start : head.payload_stop])
        if head.masked:
            payload = apply_mask(payload, self.buffer[head.mask_start : head.payload_start])
        del self.buffer[: head.payload_stop]
        return head.opcode, payload

    async def close_code(self) -> int | None:
        """Skip frames until the close frame; its code (None if the TCP connection just ended)."""
        while (item := await self.next()) is not None:
            opcode, payload = item
            if opcode == OP_CLOSE:
                return close_code(payload)
        return None
