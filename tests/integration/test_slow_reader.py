"""A peer that sends but never reads is closed; nobody else is disturbed.

Pings are answered with at most one pong per tick and limited to their own
rate, so a peer that pings without reading is closed with 4029 (the ping
rate) long before its pongs could fill the write buffer (4008).
"""

from __future__ import annotations

import contextlib
import socket

import trio

from gameserver.clients import connect
from gameserver.protocol import Join, Role, encode
from gameserver.server import GameServer
from tests.conftest import make_config

from .rawws import FrameReader, client_frame, handshake


async def test_pinging_without_reading_is_closed_and_others_play_on(nursery: trio.Nursery) -> None:
    server = GameServer(make_config(max_write_buffer_bytes=16384, send_timeout_s=30.0))
    await nursery.start(server.run)
    async with connect(server.url, name="steady") as steady:
        stream, rest = await handshake(server.port)
        stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        await stream.send_all(client_frame(encode(Join(Role.PLAYER, "deaf"))))
        ping = client_frame(b"p" * 125, opcode=0x9)
        with trio.fail_after(20):
            while not server.metrics.control_rate_limited:
                with trio.move_on_after(0.05), contextlib.suppress(trio.BrokenResourceError):
                    await stream.send_all(ping * 64)
                await trio.sleep(0)
            before = steady.stats.snapshots_received
            await trio.sleep(0.5)
            assert steady.stats.snapshots_received - before >= 10  # still at the tick rate
            # The close frame is sent, but a peer that never reads may only see the reset.
            with contextlib.suppress(trio.BrokenResourceError):
                assert await FrameReader(stream, rest).close_code() in (4029, None)
        assert steady.close_code is None
        assert server.metrics.control_rate_limited == 1
        with trio.fail_after(5):
            while len(server.connections) > 1:  # the deaf one is gone, the steady one stays
                await trio.sleep(0.05)
        await stream.aclose()
