"""The HTTP side on the game's port: pages, health, rooms API, monitor stream, refusals."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

import gameserver
from gameserver.clients import connect
from gameserver.protocol import Role
from gameserver.server import GameServer
from tests.conftest import make_config

from .httpclient import get, http_client


@pytest.fixture
def web_root(tmp_path: Path) -> Path:
    root = tmp_path / "web"
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>game</title>")
    (root / "monitor.html").write_text("<!doctype html><title>monitor</title>")
    (root / "js" / "main.js").write_text("export const answer = 42;\n")
    (root / "games" / "cards").mkdir(parents=True)
    (root / "games" / "cards" / "index.html").write_text("<!doctype html><title>cards</title>")
    (root / ".secret.js").write_text("HIDDEN-CONTENT")
    (tmp_path / "outside.js").write_text("OUTSIDE-CONTENT")
    (root / "js" / "link.js").symlink_to(tmp_path / "outside.js")
    return root


@pytest.fixture
async def web_server(nursery: trio.Nursery, web_root: Path) -> AsyncIterator[GameServer]:
    server = GameServer(make_config(web_root=str(web_root), monitor_interval_s=0.2))
    await nursery.start(server.run)
    yield server


async def test_pages_are_served_from_the_web_root_with_their_types(
    web_server: GameServer,
) -> None:
    page = await get(web_server.port, "/")
    assert page.status == 200 and "<title>game</title>" in page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    script = await get(web_server.port, "/js/main.js")
    assert script.status == 200 and "answer = 42" in script.text
    assert script.headers["content-type"].startswith("text/javascript")
    monitor = await get(web_server.port, "/monitor")
    assert monitor.status == 200 and "<title>monitor</title>" in monitor.text
    folder = await get(web_server.port, "/games/cards/")  # a folder's page is its index.html
    assert folder.status == 200 and "<title>cards</title>" in folder.text


@pytest.mark.parametrize(
    "path",
    [
        "/nope.html",
        "/../outside.js",
        "/js/../../outside.js",
        "/%2e%2e/outside.js",
        "/.secret.js",
        "/js/link.js",
        "/js",
        "/js/main.py",
    ],
)
async def test_nothing_outside_the_web_root_is_served(web_server: GameServer, path: str) -> None:
    result = await get(web_server.port, path)
    assert result.status == 404, result
    assert b"OUTSIDE-CONTENT" not in result.body and b"HIDDEN-CONTENT" not in result.body


async def test_one_connection_serves_several_requests_and_head_has_no_body(
    web_server: GameServer,
) -> None:
    async with http_client(web_server.port) as client:
        first = await client.request("GET", "/healthz")
        head = await client.request("HEAD", "/")
        again = await client.request("GET", "/api/rooms")
    assert first.status == head.status == again.status == 200
    assert head.body == b"" and int(head.headers["content-length"]) > 0
    assert web_server.metrics.http_responses[200] == 3


async def test_healthz_reports_players_and_goes_503_while_draining(
    web_server: GameServer,
) -> None:
    async with connect(web_server.url, name="alice") as alice:
        await alice.next_snapshot()
        health = await get(web_server.port, "/healthz")
        assert health.status == 200
        document = health.json()
        assert document["status"] == "ok" and document["players"] == 1
        assert document["rooms"] == 1 and document["tick"]["default"]["running"] is True
    await web_server.shutdown()
    draining = await get(web_server.port, "/healthz")
    assert draining.status == 503 and draining.json()["status"] == "draining"


async def test_healthz_counts_a_crashed_room_and_stays_healthy(web_server: GameServer) -> None:
    room = web_server.rooms["default"]

    def broken_step() -> list[object]:
        raise RuntimeError("a bug in the rules")

    room.game.step = broken_step  # type: ignore[method-assign]
    with trio.fail_after(2):
        while web_server.rooms.get("default") in (None, room):  # replaced by a fresh one
            await trio.sleep(0.01)
    health = await get(web_server.port, "/healthz")
    assert health.status == 200
    assert health.json()["rooms_crashed"] == 1 and health.json()["rooms"] == 1


async def test_rooms_api_lists_players_by_name_with_their_state(web_server: GameServer) -> None:
    async with (
        connect(web_server.url, name="alice") as alice,
        connect(web_server.url, name="bob") as bob,
        connect(web_server.url, name="eve", role=Role.SPECTATOR) as eve,
    ):
        for client in (alice, bob, eve):
            await client.next_snapshot()
        rooms = (await get(web_server.port, "/api/rooms")).json()
        assert [room["name"] for room in rooms] == ["default"]
        (room,) = rooms
        assert room["players"] == 2 and room["spectators"] == 1 and room["running"] is True
        assert {(p["entity_id"], p["name"], p["connected"]) for p in room["roster"]} == {
            (alice.entity_id, "alice", True),
            (bob.entity_id, "bob", True),
        }
        one = await get(web_server.port, "/api/rooms/default")
        assert one.status == 200 and one.json()["tick"] >= room["tick"]
    missing = await get(web_server.port, "/api/rooms/nowhere")
    assert missing.status == 404 and "nowhere" in missing.json()["error"]
    info = (await get(web_server.port, "/api/info")).json()
    assert info["version"] == gameserver.__version__
    assert info["ws_path"] == "/ws" and info["subprotocol"] == "gameserver.v2"
    assert info["subprotocols"] == ["gameserver.v2", "gameserver.v1"]
    assert info["tokens_required"] is False and info["rooms"] == ["default"]
    assert info["modes"] == ["default", "duel", "squad"] and info["node"]
    assert info["mode_games"] == {"default": "arena", "duel": "arena", "squad": "arena"}


async def test_monitor_stream_updates_live_and_ends_when_the_server_drains(
    web_server: GameServer,
) -> None:
    async with http_client(web_server.port) as client:
        await client.send_request("GET", "/monitor/events", [])
        head = await client.response_head()
        assert head.status_code == 200
        assert (b"content-type", b"text/event-stream") in list(head.headers)
        events = client.events()
        documents = []
        async with connect(web_server.url, name="alice") as alice:
            await alice.next_snapshot()
            with trio.fail_after(5):
                async for _name, data in events:
                    documents.append(json.loads(data))
                    rosters = [d["rooms"][0]["roster"] for d in documents]
                    if any(r and r[0]["name"] == "alice" for r in rosters):
                        break
        assert documents[0]["rooms"][0]["name"] == "default"
        ticks = [d["rooms"][0]["tick"] for d in documents]
        assert ticks == sorted(ticks) and len(set(ticks)) == len(ticks)  # live, not a replay
        async with trio.open_nursery() as nursery:
            nursery.start_soon(web_server.shutdown)
            with trio.fail_after(5):
                names = [name async for name, _data in events]
        assert names[-1] == "draining"


async def test_monitor_streams_are_capped(nursery: trio.Nursery, web_root: Path) -> None:
    server = GameServer(make_config(web_root=str(web_root), max_monitor_streams=1))
    await nursery.start(server.run)
    async with http_client(server.port) as first:
        await first.send_request("GET", "/monitor/events", [])
        assert (await first.response_head()).status_code == 200
        refused = await get(server.port, "/monitor/events")
        assert refused.status == 503 and "monitor streams" in refused.text
    assert server.metrics.monitor_streams_refused == 1


async def test_the_game_path_over_plain_http_says_it_speaks_websocket(
    web_server: GameServer,
) -> None:
    result = await get(web_server.port, "/ws")
    assert result.status == 426 and "WebSocket" in result.text


async def test_methods_other_than_get_and_head_are_refused(web_server: GameServer) -> None:
    result = await get(web_server.port, "/healthz", method="POST")
    assert result.status == 405 and result.headers["allow"] == "GET, HEAD"


async def test_malformed_and_oversized_requests_get_4xx_and_are_counted(
    web_server: GameServer,
) -> None:
    async def raw(data: bytes) -> bytes:
        async with await trio.open_tcp_stream("127.0.0.1", web_server.port) as stream:
            await stream.send_all(data)
            received = b""
            with trio.fail_after(5):
                while chunk := await stream.receive_some():
                    received += chunk
            return received

    assert (await raw(b"NOT HTTP AT ALL\r\n\r\n")).startswith(b"HTTP/1.1 400 ")
    huge = b"GET / HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * 20_000 + b"\r\n\r\n"
    assert (await raw(huge)).startswith(b"HTTP/1.1 431 ")
    assert web_server.metrics.http_bad_requests == 1
    assert web_server.metrics.http_head_too_large == 1


async def test_a_silent_connection_is_dropped_after_the_handshake_timeout(
    nursery: trio.Nursery,
) -> None:
    server = GameServer(make_config(handshake_timeout_s=0.3))
    await nursery.start(server.run)
    async with await trio.open_tcp_stream("127.0.0.1", server.port) as stream:
        with trio.fail_after(3):
            assert await stream.receive_some() == b""
    assert server.metrics.handshake_timeouts == 1


async def test_http_connections_beyond_the_cap_get_503(nursery: trio.Nursery) -> None:
    server = GameServer(make_config(max_http_connections=1, http_health_reserve=1))
    await nursery.start(server.run)
    async with http_client(server.port) as first:
        assert (await first.request("GET", "/healthz")).status == 200  # kept open
        refused = await get(server.port, "/api/info")
        assert refused.status == 503
        # A health check still gets through, on a reserved slot, for one request.
        health = await get(server.port, "/healthz")
        assert health.status == 200 and health.headers["connection"] == "close"
        assert (await first.request("GET", "/healthz")).status == 200
    assert server.metrics.http_refused_capacity == 1


async def test_an_idle_keep_alive_connection_is_closed(nursery: trio.Nursery) -> None:
    server = GameServer(make_config(http_idle_timeout_s=0.3))
    await nursery.start(server.run)
    async with http_client(server.port) as client:
        assert (await client.request("GET", "/healthz")).status == 200
        with trio.fail_after(3):
            assert await client.stream.receive_some() == b""
    with trio.fail_after(3):
        while server.http_connections:
            await trio.sleep(0.01)
