"""Attacks on the HTTP side, judged by what players alongside and ordinary users notice.

Attackers connect from 127.0.0.2, players and innocent users from 127.0.0.1, so
per-address limits hit the attacker as they would on a real network.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
from collections import Counter

import pytest
import trio

from gameserver.cli.common import bundled_web_root
from gameserver.clients import connect
from gameserver.server import GameServer
from tests.conftest import make_config

from .alongside import innocent_requests, players_alongside
from .httpclient import get, http_client
from .test_shutdown import read_until

ATTACKER = "127.0.0.2"
ADMIN_TOKEN = "operator-token-for-tests"


async def _status_of_response(stream: trio.SocketStream) -> int:
    """The status of the response arriving on ``stream`` (0 if it closes first)."""
    head = b""
    while b"\r\n" not in head:
        chunk = await stream.receive_some()
        if not chunk:
            return 0
        head += chunk
    return int(head.split(b" ", 2)[1])


async def _raw_request(port: int, request: bytes, *, local_address: str = ATTACKER) -> bytes:
    """Send ``request`` and read until the server closes (bounded): the whole answer."""
    async with await trio.open_tcp_stream("127.0.0.1", port, local_address=local_address) as s:
        await s.send_all(request)
        received = b""
        with trio.fail_after(5):
            while chunk := await s.receive_some():
                received += chunk
        return received


# -- slot hogging ------------------------------------------------------------------


async def test_trickling_keep_alive_connections_do_not_take_the_node_out(
    nursery: trio.Nursery,
) -> None:
    """128 keep-alive connections from one address trickling a second request, 1 byte/s."""
    server = GameServer(make_config())
    await nursery.start(server.run)
    first_answers: Counter[int] = Counter()
    all_answered = trio.Event()
    stop = trio.Event()
    trickle = b"GET /healthz HTTP/1.1\r\nHost: victim\r\nX-Slow: " + b"a" * 64

    async def trickler() -> None:
        stream = await trio.open_tcp_stream("127.0.0.1", server.port, local_address=ATTACKER)
        async with stream:
            await stream.send_all(b"GET /healthz HTTP/1.1\r\nHost: victim\r\n\r\n")
            status = await _status_of_response(stream)
            first_answers[status] += 1
            if first_answers.total() == 128:
                all_answered.set()
            if status != 200:
                return
            for byte in trickle:  # bounded: 80 bytes, and stopped with the attack
                with trio.move_on_after(1.0):
                    await stop.wait()
                if stop.is_set():
                    return
                try:
                    await stream.send_all(bytes([byte]))
                except trio.BrokenResourceError:
                    return

    async with players_alongside(server) as crowd, trio.open_nursery() as attackers:
        for _ in range(128):
            attackers.start_soon(trickler)
        with trio.fail_after(10):
            await all_answered.wait()
        async with crowd.attack():
            await trio.sleep(1.5)  # every admitted attacker is mid-trickle
            health = await get(server.port, "/healthz")
            answers = await innocent_requests(server)
            await trio.sleep(1.0)
            health_again = await get(server.port, "/healthz")
        stop.set()
    assert health.status == 200 and health_again.status == 200, health.text
    assert answers.joined and answers.healthz_status == 200 and answers.match_status == 200
    per_address = server.config.web.max_http_connections_per_address
    assert first_answers == {200: per_address, 429: 128 - per_address}
    assert server.metrics.http_refused_per_address == 128 - per_address


async def test_a_request_trickled_byte_by_byte_is_cut_off_at_its_deadline(
    nursery: trio.Nursery,
) -> None:
    """The request is timed as a whole: a byte every 0.1 s does not keep it alive."""
    server = GameServer(make_config(http_request_timeout_s=1.0))
    await nursery.start(server.run)
    stream = await trio.open_tcp_stream("127.0.0.1", server.port, local_address=ATTACKER)
    async with stream:
        await stream.send_all(b"GET /healthz HTTP/1.1\r\nHost: victim\r\n\r\n")
        assert await _status_of_response(stream) == 200
        with trio.move_on_after(0.1):
            while await stream.receive_some():  # the rest of the first response
                pass
        started = trio.current_time()
        received = b""
        closed = False
        with trio.fail_after(3):
            for byte in b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"a" * 100:
                try:
                    await stream.send_all(bytes([byte]))
                    with trio.move_on_after(0.1):
                        chunk = await stream.receive_some()
                        received += chunk
                        closed = not chunk
                except trio.BrokenResourceError:  # a reset may overtake the 408
                    closed = True
                if closed:
                    break
    elapsed = trio.current_time() - started
    assert closed and 0.9 <= elapsed <= 2.0, elapsed
    assert received.startswith(b"HTTP/1.1 408 ") or not received, received  # or a reset
    assert server.metrics.http_request_timeouts == 1


# -- monitor streams -----------------------------------------------------------------


async def test_concurrent_monitor_opens_get_exactly_the_cap(nursery: trio.Nursery) -> None:
    server = GameServer(make_config(max_http_connections_per_address=64, monitor_interval_s=0.1))
    await nursery.start(server.run)
    statuses: Counter[int] = Counter()
    connected, all_answered, release = trio.Event(), trio.Event(), trio.Event()
    ready = 0

    async def open_stream() -> None:
        nonlocal ready
        async with http_client(server.port, local_address=ATTACKER) as client:
            ready += 1
            if ready == 40:
                connected.set()
            await connected.wait()  # every request goes out at once
            await client.send_request("GET", "/monitor/events", [])
            statuses[(await client.response_head()).status_code] += 1
            if statuses.total() == 40:
                all_answered.set()
            await release.wait()

    with trio.fail_after(10):
        async with trio.open_nursery() as openers:
            for _ in range(40):
                openers.start_soon(open_stream)
            await all_answered.wait()
            assert server.web.monitor_streams == server.config.admin.max_monitor_streams
            release.set()
    cap = server.config.admin.max_monitor_streams
    assert statuses == {200: cap, 503: 40 - cap}
    assert server.metrics.monitor_streams_refused == 40 - cap
    with trio.fail_after(5):  # every slot is given back (once the next event finds it gone)
        while server.web.monitor_streams:
            await trio.sleep(0.01)
        assert (await get(server.port, "/monitor/events", method="HEAD")).status == 200
        assert server.web.monitor_streams == 0  # a HEAD request's slot too


# -- admin token guessing ------------------------------------------------------------


async def test_admin_token_guessing_is_slowed_per_address(nursery: trio.Nursery) -> None:
    server = GameServer(make_config(admin_token=ADMIN_TOKEN, admin_failure_burst=5))
    await nursery.start(server.run)
    body = json.dumps({"text": "hello"}).encode()
    statuses: Counter[int] = Counter()
    retry_after = ""
    async with players_alongside(server) as crowd, crowd.attack():
        async with http_client(server.port, local_address=ATTACKER) as attacker:
            ends = trio.current_time() + 2.0
            with trio.fail_after(10):
                for guess in range(20_000):  # as fast as the server answers, for 2 s
                    auth = [("authorization", f"Bearer guess-{guess:05d}")]
                    await attacker.send_request("POST", "/api/announce", auth, body)
                    result = await attacker.read_result()
                    statuses[result.status] += 1
                    retry_after = result.headers.get("retry-after", retry_after)
                    if trio.current_time() > ends:
                        break
            # Out of budget, even the right token is not compared from there.
            right = [("authorization", f"Bearer {ADMIN_TOKEN}")]
            await attacker.send_request("POST", "/api/announce", right, body)
            assert (await attacker.read_result()).status == 429
        # The operator, from another address, is not locked out.
        async with http_client(server.port) as operator:
            await operator.send_request("POST", "/api/announce", right, body)
            assert (await operator.read_result()).status == 200
    assert statuses[401] == 5 and set(statuses) == {401, 429}, statuses
    assert statuses[429] > 100  # the guesser got answers, just no more tries
    assert int(retry_after) >= 1
    assert server.metrics.admin_failures_refused == statuses[429] + 1


# -- Sec-WebSocket-Key -----------------------------------------------------------------


def _upgrade(key_headers: str) -> bytes:
    return (
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"{key_headers}Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: gameserver.v1\r\n\r\n"
    ).encode()


def _key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


@pytest.mark.parametrize(
    "key_headers",
    [
        pytest.param(f"Sec-WebSocket-Key: {_key()}\r\nSec-WebSocket-Key: {_key()}\r\n", id="two"),
        pytest.param(f"Sec-WebSocket-Key: {'A' * 8192}\r\n", id="8 KiB"),
        pytest.param("Sec-WebSocket-Key: x\r\n", id="x"),
        pytest.param(f"Sec-WebSocket-Key: {'@' * 24}\r\n", id="not base64"),
        pytest.param(f"Sec-WebSocket-Key: {base64.b64encode(b'x' * 17).decode()}\r\n", id="17"),
    ],
)
async def test_a_bad_websocket_key_is_refused_with_400(
    fast_server: GameServer, key_headers: str
) -> None:
    answer = await _raw_request(fast_server.port, _upgrade(key_headers))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"Sec-WebSocket-Key" in body
    assert fast_server.metrics.handshakes_bad_key == 1
    assert fast_server.metrics.connections_opened == 0
    # A good key still opens a game.
    async with connect(fast_server.url, name="after") as player:
        await player.next_snapshot()


# -- the operator surface --------------------------------------------------------------


OPERATOR_GETS = ["/metrics", "/monitor", "/monitor/events", "/api/rooms", "/api/rooms/default"]


async def test_an_admin_listener_takes_the_operator_routes_off_the_public_port(
    nursery: trio.Nursery,
) -> None:
    server = GameServer(make_config(admin_port=0, web_root=bundled_web_root()))
    await nursery.start(server.run)
    assert server.admin_port and server.admin_port != server.port
    async with connect(server.url, name="alice") as alice:
        await alice.next_snapshot()
        for path in OPERATOR_GETS:
            public = await get(server.port, path)
            assert public.status == 404, (path, public.status)
            assert b"alice" not in public.body
            if path != "/monitor/events":
                admin = await get(server.admin_port, path)
                assert admin.status == 200, (path, admin.status)
        rooms = (await get(server.admin_port, "/api/rooms")).json()
        assert rooms[0]["roster"][0]["name"] == "alice"
        # Public: health without names, and the roster the game page shows.
        health = await get(server.port, "/healthz")
        assert health.status == 200 and b"alice" not in health.body
        roster = (await get(server.port, "/api/roster?room=default")).json()
        assert [p["name"] for p in roster["roster"]] == ["alice"]
        assert (await get(server.admin_port, "/healthz")).status == 200
    # The game is not on the admin listener.
    answer = await _raw_request(
        server.admin_port, _upgrade(f"Sec-WebSocket-Key: {_key()}\r\n"), local_address="127.0.0.1"
    )
    assert answer.startswith(b"HTTP/1.1 404 ")


async def test_an_admin_token_guards_the_operator_routes(nursery: trio.Nursery) -> None:
    server = GameServer(make_config(admin_token=ADMIN_TOKEN, web_root=bundled_web_root()))
    await nursery.start(server.run)
    bearer = [("authorization", f"Bearer {ADMIN_TOKEN}")]
    async with connect(server.url, name="alice") as alice, http_client(server.port) as client:
        await alice.next_snapshot()
        for path in OPERATOR_GETS:
            refused = await client.request("GET", path)
            assert refused.status == 401, path
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert b"alice" not in refused.body
            wrong = await client.request("GET", path, [("authorization", "Bearer wrong")])
            assert wrong.status == 401
        rooms = await client.request("GET", "/api/rooms", bearer)
        assert rooms.status == 200 and rooms.json()[0]["roster"][0]["name"] == "alice"
        assert (await client.request("GET", "/metrics", bearer)).status == 200
        # A browser: /monitor?token= once sets a cookie and takes the token out of the URL.
        login = await client.request("GET", f"/monitor?token={ADMIN_TOKEN}")
        assert login.status == 303 and login.headers["location"] == "/monitor"
        cookie_header = login.headers["set-cookie"]
        assert ADMIN_TOKEN not in cookie_header
        assert "HttpOnly" in cookie_header and "SameSite=Strict" in cookie_header
        cookie = [("cookie", cookie_header.split(";", 1)[0])]
        assert (await client.request("GET", "/monitor", cookie)).status == 200
        assert (await client.request("GET", "/monitor?token=wrong")).status == 401
        assert (await client.request("GET", "/monitor/events", [("cookie", "x=1")])).status == 401
        # The cookie opens the monitor's event stream; it never authorizes a change.
        body = json.dumps({"text": "hi"}).encode()
        await client.send_request("POST", "/api/announce", cookie, body)
        assert (await client.read_result()).status == 401
        await client.send_request("GET", "/monitor/events", cookie)
        assert (await client.response_head()).status_code == 200
    async with http_client(server.port) as client:
        # The game page's public roster needs no token.
        roster = await client.request("GET", "/api/roster")
        assert roster.status == 200 and roster.json()["room"] == "default"
        assert (await client.request("GET", "/healthz")).status == 200


async def test_private_rooms_have_no_public_roster(nursery: trio.Nursery) -> None:
    server = GameServer(make_config())
    await nursery.start(server.run)
    room, _code = await server.room_manager.create_private("duel")
    missing = await get(server.port, f"/api/roster?room={room.name}")
    assert missing.status == 404
    health = (await get(server.port, "/healthz")).json()
    assert room.name not in health["tick"] and health["rooms"] == 2
    assert (await get(server.port, "/api/info")).json()["rooms"] == ["default"]


async def test_the_server_warns_while_the_operator_routes_are_public(
    nursery: trio.Nursery, caplog: pytest.LogCaptureFixture
) -> None:
    for config, public in (
        (make_config(), True),
        (make_config(admin_token=ADMIN_TOKEN), False),
        (make_config(admin_port=0), False),
    ):
        caplog.clear()
        await nursery.start(GameServer(config).run)
        messages = [record.getMessage() for record in caplog.records]
        assert any("are public" in message for message in messages) == public, config


async def test_the_serve_command_takes_an_admin_port() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "gameserver", "serve", "--port", "0", "--admin-port", "0"]
    process = await trio.lowlevel.open_process(command, stderr=subprocess.PIPE, env=env)
    lines: list[str] = []
    try:
        assert process.stderr is not None
        with trio.fail_after(20):
            stderr = process.stderr
            admin = await read_until(stderr, r"operator routes at http://[\d.]+:(\d+)/", lines)
            game = await read_until(stderr, r"listening on ws://[\d.]+:(\d+)/", lines)
        game_port, admin_port = int(game.group(1)), int(admin.group(1))
        assert (await get(game_port, "/metrics")).status == 404
        assert (await get(admin_port, "/metrics")).status == 200
        assert (await get(game_port, "/healthz")).status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        with trio.move_on_after(10):
            await process.wait()
        if process.returncode is None:
            process.kill()
            await process.wait()
