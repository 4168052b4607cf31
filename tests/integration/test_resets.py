"""Connections that reset at once must not take the server down."""

from __future__ import annotations

import socket
import struct

import trio

from gameserver.clients import connect
from gameserver.server import GameServer


async def test_a_storm_of_reset_connections_leaves_the_server_serving(server: GameServer) -> None:
    for _ in range(200):
        sock = trio.socket.socket()
        await sock.connect(("127.0.0.1", server.port))
        # Linger 0: close() sends RST, so the server may meet a peer that is already gone.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    with trio.fail_after(10):
        async with connect(server.url, name="after the storm") as client:
            await client.next_snapshot()
            assert client.me is not None


async def test_peers_that_reset_right_after_their_upgrade_request_do_no_harm(
    server: GameServer,
) -> None:
    request = (
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Protocol: gameserver.v1\r\n\r\n"
    )
    for path_request in (request, request.replace(b"/ws", b"/nowhere")):  # accept and refuse
        for _ in range(100):
            sock = trio.socket.socket()
            await sock.connect(("127.0.0.1", server.port))
            await sock.send(path_request)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        await trio.sleep(0.05)
    with trio.fail_after(10):
        async with connect(server.url, name="after the storm") as client:
            await client.next_snapshot()
