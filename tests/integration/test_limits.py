"""Every limit closes or refuses only the offender, with its documented code."""

from __future__ import annotations

import contextlib

import pytest
import trio
from trio_websocket import ConnectionRejected

from gameserver.clients import connect
from gameserver.protocol import CloseCode, Input, Join, Role, encode
from gameserver.server import GameServer
from tests.conftest import make_config

from .rawws import FrameReader, client_frame, handshake


async def start(nursery: trio.Nursery, **settings: object) -> GameServer:
    server = GameServer(make_config(**settings))
    await nursery.start(server.run)
    return server


@pytest.mark.parametrize("transport", ["fast", "tasks"])
async def test_a_flood_beyond_the_rate_limit_is_closed_with_4029(
    nursery: trio.Nursery, transport: str
) -> None:
    server = await start(nursery, transport=transport, message_rate_per_s=60.0, message_burst=40)
    async with (
        connect(server.url, name="steady") as steady,
        connect(server.url, name="flood") as flood,
    ):
        for seq in range(1, 301):
            await flood.send_raw(encode(Input(seq, (8, 0), 0)))
        with trio.fail_after(5):
            await flood.wait_for(lambda c: c.close_code is not None)
        assert flood.close_code == CloseCode.RATE_LIMITED
        before = steady.stats.snapshots_received
        await trio.sleep(0.5)
        assert steady.stats.snapshots_received - before >= 12 and steady.close_code is None
    assert server.metrics.rate_limited == 1


async def test_connections_per_address_and_in_total_are_capped(nursery: trio.Nursery) -> None:
    server = await start(nursery, max_connections_per_address=2)
    async with connect(server.url), connect(server.url):
        with pytest.raises(ConnectionRejected) as info:
            async with connect(server.url):
                pass
        assert info.value.status_code == 429
        assert b"too many connections from 127.0.0.1" in (info.value.body or b"")
    async with connect(server.url):  # freed slots can be used again
        pass
    total = await start(nursery, max_connections=1)
    async with connect(total.url):
        with pytest.raises(ConnectionRejected) as info:
            async with connect(total.url):
                pass
        assert info.value.status_code == 503
    assert server.metrics.refused_per_address == 1 and total.metrics.refused_capacity == 1


async def test_only_allowed_origins_may_connect(nursery: trio.Nursery) -> None:
    server = await start(nursery, allowed_origins=("https://game.example",))
    stream, _ = await handshake(server.port, extra_headers="Origin: https://game.example\r\n")
    await stream.aclose()
    with pytest.raises(AssertionError, match="403"):
        await handshake(server.port, extra_headers="Origin: https://evil.example\r\n")
    async with connect(server.url):  # no Origin header: not a browser, not affected
        pass
    assert server.metrics.refused_origin == 1


async def test_a_slow_handshake_is_dropped(nursery: trio.Nursery) -> None:
    server = await start(nursery, handshake_timeout_s=0.5)
    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
    started = trio.current_time()
    with trio.fail_after(5), contextlib.suppress(trio.BrokenResourceError):
        for byte in b"GET /ws HTTP/1.1\r\nHost: x\r\n":  # byte by byte, never finished
            await stream.send_all(bytes([byte]))
            await trio.sleep(0.1)
        assert await stream.receive_some() == b""  # the server hung up
    assert trio.current_time() - started < 4
    async with connect(server.url):
        pass


async def test_a_silent_peer_is_closed_but_a_quiet_one_that_answers_pings_stays(
    nursery: trio.Nursery,
) -> None:
    server = await start(nursery, keepalive_interval_s=0.2, idle_timeout_s=0.6)
    async with connect(server.url, role=Role.SPECTATOR, name="quiet") as quiet:
        stream, rest = await handshake(server.port)
        await stream.send_all(client_frame(encode(Join(Role.SPECTATOR, "deaf"))))
        reader = FrameReader(stream, rest)
        with trio.fail_after(5):
            # Read (and ignore pings: no pong) until the server gives up on us.
            assert await reader.close_code() == CloseCode.IDLE_TIMEOUT
        await trio.sleep(0.8)  # the quiet client sent nothing, but its library answers pings
        assert quiet.close_code is None
        await quiet.next_snapshot()
    assert server.metrics.idle_timeouts == 1
