"""WebSocket frame-level violations get a close frame with the RFC 6455 code, not a bare drop.

These run against the default transport. The task-per-connection transport
(``transport="tasks"``) inherits trio-websocket's handling, which drops the
TCP connection without a close frame on a framing violation.
"""

from __future__ import annotations

import struct

import pytest
import trio

from gameserver.protocol import Join, Role, encode
from gameserver.server import GameServer

from .rawws import FrameReader, client_frame, handshake

JOIN = encode(Join(Role.PLAYER, "raw"))

VIOLATIONS = {
    "reserved bit": (client_frame(JOIN, rsv=0b100), 1002),
    "unmasked frame": (client_frame(JOIN, masked=False), 1002),
    "stray continuation": (client_frame(b"\x01", opcode=0), 1002),
    "unknown opcode": (client_frame(b"", opcode=0x3), 1002),
    "unknown control opcode": (client_frame(b"", opcode=0xB), 1002),
    "fragmented ping": (client_frame(b"x", opcode=0x9, fin=False), 1002),
    "oversized ping": (client_frame(b"x" * 126, opcode=0x9), 1002),
    "invalid close code": (client_frame(struct.pack("!H", 999), opcode=0x8), 1002),
    "invalid utf-8 text": (client_frame(b"\xff\xfe", opcode=0x1), 1007),
    "text frame": (client_frame(b"hello", opcode=0x1), 1003),
    "oversize binary": (client_frame(b"\x00" * 70000), 1009),
    "oversize fragments": (
        client_frame(b"\x00" * 200, fin=False) + client_frame(b"\x00" * 200, opcode=0),
        1009,
    ),
}


@pytest.mark.parametrize("case", list(VIOLATIONS))
async def test_violation_is_closed_with_its_rfc_code(fast_server: GameServer, case: str) -> None:
    data, code = VIOLATIONS[case]
    stream, rest = await handshake(fast_server.port)
    reader = FrameReader(stream, rest)
    await stream.send_all(client_frame(JOIN))
    with trio.fail_after(5):
        assert (await reader.next() or (0,))[0] == 2  # the welcome
        await stream.send_all(data)
        assert await reader.close_code() == code
    await stream.aclose()


async def test_pings_are_answered_even_between_fragments(fast_server: GameServer) -> None:
    stream, rest = await handshake(fast_server.port)
    reader = FrameReader(stream, rest)
    # A join split in two fragments with a ping between them: legal, and answered.
    await stream.send_all(
        client_frame(JOIN[:3], fin=False)
        + client_frame(b"are you there", opcode=0x9)
        + client_frame(JOIN[3:], opcode=0)
    )
    seen: list[tuple[int, bytes]] = []
    with trio.fail_after(5):
        while len(seen) < 3:
            item = await reader.next()
            assert item is not None
            seen.append(item)
    assert (0xA, b"are you there") in seen  # the pong echoes the payload
    assert any(op == 2 and payload[1] == 16 for op, payload in seen)  # welcome: joined
    await stream.aclose()


async def test_frames_pipelined_behind_the_handshake_are_not_lost(fast_server: GameServer) -> None:
    port = fast_server.port
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    request = (
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Protocol: gameserver.v1\r\n\r\n"
    )
    await stream.send_all(request + client_frame(JOIN))  # one write: the join rides along
    response = b""
    while b"\r\n\r\n" not in response:
        response += await stream.receive_some()
    head, _, rest = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101")
    reader = FrameReader(stream, rest)
    with trio.fail_after(5):
        opcode, payload = await reader.next() or (0, b"")
    assert opcode == 2 and payload[1] == 16  # the welcome
    await stream.aclose()
