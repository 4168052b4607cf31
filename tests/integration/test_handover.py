"""The hand-over from trio-websocket to the fast transport, pinned down.

The fast transport relies on two public behaviours of trio-websocket: it
accepts any ``trio.abc.Listener``, and ``request.remote`` is ``repr(stream)``
for a stream that is not a socket. These tests fail loudly if either changes.
"""

from __future__ import annotations

import trio

from gameserver.clients import connect
from gameserver.server import GameServer
from gameserver.server.network.fast import FastConnection


async def test_connections_are_handed_to_the_fast_transport(fast_server: GameServer) -> None:
    async with connect(fast_server.url, name="h") as client:
        await client.next_snapshot()
        (connection,) = fast_server.connections
        assert isinstance(connection, FastConnection)
        assert fast_server._listener is not None and not fast_server._listener._unclaimed
        await client.send_input(8)
        await client.wait_for(lambda c: c.ack_seq == 1)  # bytes reached the ticker's reads


async def test_trio_websocket_lets_go_promptly_when_a_client_leaves(
    fast_server: GameServer,
) -> None:
    for _ in range(3):
        async with connect(fast_server.url, name="h") as client:
            await client.next_snapshot()
    with trio.fail_after(1):  # not trio-websocket's disconnect timeout
        while fast_server.connections:
            await trio.sleep(0.01)
    assert fast_server.metrics.connections_closed == 3
