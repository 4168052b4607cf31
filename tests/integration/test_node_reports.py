"""A client names the node it cannot reach: a dead one stops being offered at once.

One real server and, in its directory, a "ghost" node: registered with a long TTL and
the most free capacity, so every new room goes there, but nothing listens at its address
(as after a SIGKILL, before its registration lapses). A match request that names it
(over HTTP by its node id, over the WebSocket by the room the client was placed in) makes
the server probe it, find it dead, drop it, and place the player on a live node.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import trio

from gameserver.protocol import FindMatch, Matched, Welcome, decode_server_message, encode
from gameserver.server import GameServer
from gameserver.server.cluster.directory import NodeInfo
from tests.conftest import make_config

from .httpclient import http_client
from .rawws import FrameReader, client_frame, handshake

GHOST_TTL_S = 60.0  # far longer than the test: only the report can remove it


async def closed_port() -> int:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port: int = listeners[0].socket.getsockname()[1]
    for listener in listeners:
        await listener.aclose()
    return port


@pytest.fixture
async def server_and_ghost(nursery: trio.Nursery) -> AsyncIterator[GameServer]:
    server = GameServer(make_config())
    await nursery.start(server.run)
    assert server.matchmaker is not None
    port = await closed_port()
    ghost = NodeInfo("ghost", f"ws://127.0.0.1:{port}/ws", f"http://127.0.0.1:{port}/", 10**6, 0)
    await server.matchmaker.directory.register_node(ghost, GHOST_TTL_S)
    yield server


async def post_match(server: GameServer, document: object) -> tuple[int, dict[str, object]]:
    async with http_client(server.port) as client:
        await client.send_request_body("POST", "/api/match", json.dumps(document).encode())
        result = await client.read_result()
    return result.status, result.json()


async def test_a_reported_dead_node_is_dropped_and_the_player_placed_on_a_live_one(
    server_and_ghost: GameServer,
) -> None:
    server = server_and_ghost
    assert server.matchmaker is not None
    status, answer = await post_match(server, {"mode": "squad"})
    assert (status, answer["node"]) == (200, "ghost")  # what clients of a dead node get today
    status, answer = await post_match(server, {"mode": "squad", "unreachable": "ghost"})
    assert status == 200 and answer["node"] == server.matchmaker.node_id
    assert [n.node_id for n in await server.matchmaker.directory.nodes()] == [
        server.matchmaker.node_id
    ]
    metrics = server.metrics
    assert (metrics.node_reports, metrics.nodes_evicted, metrics.node_reports_refuted) == (1, 1, 0)


async def test_find_match_naming_the_dead_node_joins_here_on_the_same_connection(
    server_and_ghost: GameServer,
) -> None:
    server = server_and_ghost
    status, answer = await post_match(server, {"mode": "squad"})
    assert (status, answer["node"]) == (200, "ghost")
    lost_room = str(answer["room"])  # where this client was placed, and cannot go
    stream, initial = await handshake(server.port)
    reader = FrameReader(stream, initial)
    async with stream:
        with trio.fail_after(5):
            await stream.send_all(client_frame(encode(FindMatch("squad", "ann", lost_room))))
            messages: list[object] = []
            while not any(isinstance(m, Welcome) for m in messages):
                item = await reader.next()
                assert item is not None, "closed before the Welcome"
                messages.append(decode_server_message(item[1]))
    matched = next(m for m in messages if isinstance(m, Matched))
    assert f":{server.port}/" in matched.url  # this node, not the ghost
    assert server.metrics.nodes_evicted == 1


@pytest.mark.parametrize("field", ["unreachable", "unreachable_room"])
@pytest.mark.parametrize("bad", [7, "", "x" * 129, "tab\there"])
async def test_a_malformed_report_is_refused_with_400(
    server_and_ghost: GameServer, field: str, bad: object
) -> None:
    status, answer = await post_match(server_and_ghost, {"mode": "squad", field: bad})
    assert status == 400 and f"'{field}'" in str(answer["error"])
    assert server_and_ghost.metrics.node_reports == 0
