"""Attacks on matchmaking and rooms, judged by what players alongside and innocent users get.

Attackers come from 127.0.0.2, players and innocent users from 127.0.0.1, so the
per-address limits meet the attacker as they would on a real network.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import coredis
import pytest
import trio
from trio_websocket import ConnectionRejected

from gameserver.clients import connect
from gameserver.protocol import CloseCode, ErrorCode, FindMatch, decode_server_message, encode
from gameserver.server import GameServer
from tests.conftest import make_config
from tests.redis_server import redis_server, redis_url  # noqa: F401

from .alongside import innocent_requests, players_alongside
from .httpclient import HttpResult, get, http_client
from .rawws import FrameReader, client_frame, handshake

ATTACKER = "127.0.0.2"
FLOOD_REQUESTS = 2000
FLOOD_CONNECTIONS = 4


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def post(port: int, document: object, *, local_address: str | None = None) -> HttpResult:
    async with http_client(port, local_address=local_address) as client:
        await client.send_request_body("POST", "/api/match", json.dumps(document).encode())
        return await client.read_result()


async def refused_status(url: str) -> int:
    with pytest.raises(ConnectionRejected) as info:
        async with connect(url, name="x"):
            pass
    return int(info.value.status_code)


@pytest.fixture
async def rooms_server(nursery: trio.Nursery) -> AsyncIterator[GameServer]:
    server = GameServer(make_config(empty_room_grace_s=0.5, seat_ttl_s=5.0))
    await nursery.start(server.run)
    yield server


async def test_a_booking_flood_opens_no_rooms_and_players_still_get_matches(
    nursery: trio.Nursery,
) -> None:
    server = GameServer(make_config())
    await nursery.start(server.run)
    assert server.matchmaker is not None
    statuses: list[int] = []
    retry_after: set[str] = set()
    body = json.dumps({"mode": "duel", "name": "flood"}).encode()

    async def flood(count: int) -> None:
        async with http_client(server.port, local_address=ATTACKER) as client:
            for _ in range(count):
                await client.send_request_body("POST", "/api/match", body)
                result = await client.read_result()
                statuses.append(result.status)
                if result.status == 429:
                    retry_after.add(result.headers.get("retry-after", ""))

    rss_before = rss_bytes()
    async with players_alongside(server) as crowd, crowd.attack():
        with trio.fail_after(20):
            async with trio.open_nursery() as attackers:
                for _ in range(FLOOD_CONNECTIONS):
                    attackers.start_soon(flood, FLOOD_REQUESTS // FLOOD_CONNECTIONS)
        innocent = await innocent_requests(server)
    assert len(statuses) == FLOOD_REQUESTS
    assert innocent.joined and innocent.healthz_status == 200 and innocent.match_status == 200
    # The attacker got a few seats (its unconfirmed ones are bounded), then 429s telling it
    # when to come back.
    config, metrics = server.config, server.metrics
    served = statuses.count(200)
    assert served <= config.matchmaking.max_unconfirmed_seats_per_address
    assert statuses.count(429) == FLOOD_REQUESTS - served
    assert retry_after and all(value.isdigit() and int(value) >= 1 for value in retry_after)
    assert (
        metrics.matches_rate_limited + metrics.matches_unconfirmed_refused
        == FLOOD_REQUESTS - served
    )
    # No ticking room was opened for seats nobody took, and the directory stays small.
    assert list(server.rooms) == ["default"] and server.metrics.rooms_opened == 1
    directory_rooms = await server.matchmaker.directory.rooms(now_s=time.time())
    assert len(directory_rooms) <= served // 2 + 1  # duels of two, and the innocent's squad
    assert rss_bytes() - rss_before < 16 * 1024 * 1024


async def test_unconfirmed_seats_are_bounded_per_address(nursery: trio.Nursery) -> None:
    server = GameServer(make_config(match_burst=50, max_unconfirmed_seats_per_address=4))
    await nursery.start(server.run)
    answers = [await post(server.port, {"mode": "squad"}, local_address=ATTACKER) for _ in range(6)]
    assert [a.status for a in answers] == [200] * 4 + [429] * 2
    assert "unused seats" in answers[-1].json()["error"] and answers[-1].headers["retry-after"]
    assert server.metrics.matches_unconfirmed_refused == 2
    # Someone else, and the attacker once a player of theirs arrives, are served.
    assert (await post(server.port, {"mode": "squad"})).status == 200
    async with connect(answers[0].json()["url"], name="arrived") as arrived:
        await arrived.next_snapshot()
        assert (await post(server.port, {"mode": "squad"}, local_address=ATTACKER)).status == 200


async def test_mode_joins_leave_the_seats_matchmaking_promised(rooms_server: GameServer) -> None:
    booked = [(await post(rooms_server.port, {"mode": "duel"})).json() for _ in range(2)]
    assert booked[0]["room"] == booked[1]["room"]  # both seats of one duel are promised
    async with connect(rooms_server.url + "?mode=duel", name="walk-in") as walk_in:
        await walk_in.next_snapshot()
        async with (
            connect(str(booked[0]["url"]), name="a") as a,
            connect(str(booked[1]["url"]), name="b") as b,
        ):
            for client in (a, b):
                await client.next_snapshot()
            assert rooms_server.rooms[str(booked[0]["room"])].player_count == 2
            walk_in_rooms = [
                name for name, room in rooms_server.rooms.items() if room.player_count == 1
            ]
            assert len(walk_in_rooms) == 1 and walk_in_rooms[0] != booked[0]["room"]


async def test_connections_that_never_join_take_no_seat(rooms_server: GameServer) -> None:
    url = rooms_server.url + "?mode=duel"
    async with (
        connect(url, name="idle-1", join=False) as idle_1,
        connect(url, name="idle-2", join=False) as idle_2,
    ):
        with trio.fail_after(5):
            while sum(room.pending_count for room in rooms_server.rooms.values()) < 2:
                await trio.sleep(0.01)
        async with connect(url, name="a") as a, connect(url, name="b") as b:
            for client in (a, b):
                await client.next_snapshot()
            duels = [name for name in rooms_server.rooms if name.startswith("duel-")]
            assert len(duels) == 1  # the idle connections held no seat of it
        assert idle_1.close_code is None and idle_2.close_code is None


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_a_refused_private_room_leaves_nothing_behind(
    nursery: trio.Nursery, backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("redis_url") if backend == "redis" else None
    prefix = "leak:"
    # A full server: no room beyond the default one (max_rooms), and a node of two seats.
    server = GameServer(
        make_config(
            max_rooms=1, node_capacity=2, seat_ttl_s=0.5, redis_url=url, directory_prefix=prefix
        )
    )
    await nursery.start(server.run)
    assert server.matchmaker is not None
    directory = server.matchmaker.directory

    made = await post(server.port, {"mode": "duel", "private": True})
    if made.status == 200:  # booked, but the host finds the server full when arriving
        assert await refused_status(str(made.json()["url"])) == 503
    else:
        assert made.status == 503
    # Refused by the directory itself (no capacity): nothing is made at all.
    await post(server.port, {"mode": "duel"})
    await post(server.port, {"mode": "duel"})
    assert (await post(server.port, {"mode": "duel", "private": True})).status == 503

    await trio.sleep(0.7)  # seat_ttl_s: the one booked seat lapses (Redis runs on wall time)
    assert await directory.rooms(now_s=time.time()) == []  # matchmaking's clock
    if url is not None:
        async with coredis.Redis.from_url(url) as raw:
            keys = sorted(key.decode() for key in await raw.keys(f"{prefix}*"))
        assert not [key for key in keys if key.startswith((f"{prefix}room:", f"{prefix}code:"))]
        assert not [key for key in keys if key.startswith(f"{prefix}seats:")]


async def test_private_rooms_are_not_listed_nor_joined_by_id(rooms_server: GameServer) -> None:
    port = rooms_server.port
    made = (await post(port, {"mode": "duel", "private": True, "name": "host"})).json()
    room_id, code = str(made["room"]), str(made["code"])
    async with connect(str(made["url"]), name="host") as host:
        await host.next_snapshot()
        assert rooms_server.rooms[room_id].player_count == 1
        listed = [room["name"] for room in (await get(port, "/api/rooms")).json()]
        assert room_id not in listed and "default" in listed
        assert room_id not in (await get(port, "/healthz")).json()["tick"]
        async with http_client(port) as monitor:
            await monitor.send_request("GET", "/monitor/events", [])
            await monitor.response_head()
            async for _, data in monitor.events():
                assert room_id not in data and "host" not in data
                break
        # By its id alone the room is as unknown as one that does not exist.
        assert await refused_status(f"{rooms_server.url}?room={room_id}") == 404
        assert await refused_status(f"{rooms_server.url}?room=duel-00000000") == 404
        async with connect(f"{rooms_server.url}?code={code.lower()}", name="friend") as friend:
            await friend.next_snapshot()
            assert rooms_server.rooms[room_id].player_count == 2


async def test_a_code_from_matchmaking_joins_its_room_on_the_websocket(
    rooms_server: GameServer,
) -> None:
    made = (await post(rooms_server.port, {"mode": "duel", "private": True})).json()
    assert made["code"]
    async with connect(str(made["url"]), name="host") as host:
        await host.next_snapshot()
        async with connect(f"{rooms_server.url}?code={made['code']}", name="friend") as friend:
            await friend.next_snapshot()
            room = rooms_server.rooms[str(made["room"])]
            assert [name for _, name, *_ in room.roster()] == ["host", "friend"]
            assert friend.welcome is not None and friend.welcome.world_width == 500  # a duel
    assert await refused_status(f"{rooms_server.url}?code=ZZZZZZ") == 404


async def test_find_match_does_not_extend_the_join_deadline(nursery: trio.Nursery) -> None:
    join_timeout_s = 1.0
    server = GameServer(make_config(join_timeout_s=join_timeout_s))
    await nursery.start(server.run)
    stream, initial = await handshake(server.port, local_address=ATTACKER)
    started = trio.current_time()
    reader = FrameReader(stream, initial)
    close_code = None

    async def ask_again_and_again() -> None:
        for _ in range(20):  # a failing FindMatch every 0.25 s, for up to 5 s
            await stream.send_all(client_frame(encode(FindMatch("chess", "x"))))
            await trio.sleep(0.25)

    async with stream, trio.open_nursery() as asking:
        asking.start_soon(ask_again_and_again)
        with trio.move_on_after(5):
            close_code = await reader.close_code()
        asking.cancel_scope.cancel()
    held_s = trio.current_time() - started
    assert close_code == CloseCode.POLICY_VIOLATION
    assert held_s < join_timeout_s + 0.5, f"held open {held_s:.1f} s"
    assert server.metrics.join_timeouts == 1


async def test_a_connection_that_keeps_asking_too_fast_is_closed_with_4029(
    nursery: trio.Nursery,
) -> None:
    server = GameServer(make_config(match_rate_per_s=0.1, match_burst=1))
    await nursery.start(server.run)
    stream, initial = await handshake(server.port, local_address=ATTACKER)
    reader = FrameReader(stream, initial)
    errors: list[tuple[int, str]] = []
    async with stream:
        with trio.fail_after(5):
            for _ in range(2):  # the first is served (unknown mode), the second refused
                await stream.send_all(client_frame(encode(FindMatch("chess", "x"))))
                item = await reader.next()
                assert item is not None
                message = decode_server_message(item[1])
                errors.append((message.code, message.reason))  # type: ignore[union-attr]
            await stream.send_all(client_frame(encode(FindMatch("chess", "x"))))
            assert await reader.close_code() == CloseCode.RATE_LIMITED
    assert [code for code, _ in errors] == [ErrorCode.MATCH_FAILED] * 2
    assert "chess" in errors[0][1] and "too many match requests" in errors[1][1]
    assert server.metrics.matches_rate_limited == 2 and server.metrics.rate_limited == 1
    # Players elsewhere are not affected by this address's limit.
    assert (await post(server.port, {"mode": "duel"})).status == 200
