"""A raw WebSocket client for tests that must send what no real client library would."""

from __future__ import annotations

import base64
import os
import ssl
import struct
from typing import Any

import trio

from gameserver.protocol import SUBPROTOCOL


async def handshake(
    port: int,
    subprotocol: str = SUBPROTOCOL,
    extra_headers: str = "",
    ssl_context: ssl.SSLContext | None = None,
    *,
    local_address: str | None = None,
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
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
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
    payload: bytes, opcode: int = 2, *, fin: bool = True, rsv: int = 0, masked: bool = True
) -> bytes:
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        header = bytes((first, mask_bit | n))
    elif n < 65536:
        header = struct.pack("!BBH", first, mask_bit | 126, n)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, n)
    if not masked:
        return header + payload
    mask = os.urandom(4)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class FrameReader:
    """Parses the server's (unmasked) frames from a stream."""

    def __init__(self, stream: trio.SocketStream, initial: bytes = b"") -> None:
        self.stream = stream
        self.buffer = bytearray(initial)

    async def _need(self, n: int) -> bool:
        while len(self.buffer) < n:
            chunk = await self.stream.receive_some()
            if not chunk:
                return False
            self.buffer += chunk
        return True

    async def next(self) -> tuple[int, bytes] | None:
        """(opcode, payload), or None at EOF."""
        if not await self._need(2):
            return None
        length = self.buffer[1] & 0x7F
        header = 2
        if length == 126:
            await self._need(4)
            length = struct.unpack("!H", self.buffer[2:4])[0]
            header = 4
        elif length == 127:
            await self._need(10)
            length = struct.unpack("!Q", self.buffer[2:10])[0]
            header = 10
        if not await self._need(header + length):
            return None
        opcode = self.buffer[0] & 0x0F
        payload = bytes(self.buffer[header : header + length])
        del self.buffer[: header + length]
        return opcode, payload

    async def close_code(self) -> int | None:
        """Skip frames until the close frame; its code (None if the TCP connection just ended)."""
        while (item := await self.next()) is not None:
            opcode, payload = item
            if opcode == 8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
        return None
