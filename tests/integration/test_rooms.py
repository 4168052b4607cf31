"""Many rooms in one process: modes, private codes, closing when empty, matchmaking."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import trio
from trio_websocket import ConnectionRejected

from gameserver.clients import connect
from gameserver.protocol import ErrorCode, FindMatch, Join, Role, encode
from gameserver.server import GameServer
from tests.conftest import make_config

from .httpclient import get, http_client
from .rawws import client_frame, handshake


async def post(port: int, path: str, document: object) -> tuple[int, dict[str, object]]:
    async with http_client(port) as client:
        body = json.dumps(document).encode()
        await client.send_request_body("POST", path, body)
        result = await client.read_result()
    return result.status, result.json()


@pytest.fixture
async def rooms_server(nursery: trio.Nursery) -> AsyncIterator[GameServer]:
    server = GameServer(make_config(empty_room_grace_s=0.5, seat_ttl_s=5.0))
    await nursery.start(server.run)
    yield server


async def refused_status(url: str) -> int:
    with pytest.raises(ConnectionRejected) as info:
        async with connect(url, name="x"):
            pass
    return int(info.value.status_code)


async def test_joining_by_mode_fills_a_room_before_opening_another(
    rooms_server: GameServer,
) -> None:
    url = rooms_server.url + "?mode=duel"
    async with connect(url, name="a") as a, connect(url, name="b") as b:
        await a.next_snapshot()
        await b.next_snapshot()
        async with connect(url, name="c") as c:
            await c.next_snapshot()
            duel_rooms = {n: r for n, r in rooms_server.rooms.items() if n.startswith("duel-")}
            assert sorted(r.player_count for r in duel_rooms.values()) == [1, 2]
            assert c.welcome is not None and c.welcome.world_width == 500  # the mode's arena
    assert rooms_server.rooms["default"].player_count == 0


async def test_unknown_modes_and_rooms_are_refused_with_404(rooms_server: GameServer) -> None:
    assert await refused_status(rooms_server.url + "?mode=chess") == 404
    assert await refused_status(rooms_server.url + "?room=nowhere") == 404
    assert await refused_status(rooms_server.url + "?code=ZZZZZZ") == 404


async def test_an_empty_room_closes_after_its_grace_period(rooms_server: GameServer) -> None:
    async with connect(rooms_server.url + "?mode=squad", name="a") as a:
        await a.next_snapshot()
        (room_id,) = [n for n in rooms_server.rooms if n.startswith("squad-")]
    with trio.fail_after(5):
        while room_id in rooms_server.rooms:
            await trio.sleep(0.05)
    rooms = (await get(rooms_server.port, "/api/rooms")).json()
    assert [room["name"] for room in rooms] == ["default"]  # the default room stays
    assert rooms_server.metrics.rooms_closed == 1


async def test_rooms_beyond_max_rooms_are_refused_with_503(nursery: trio.Nursery) -> None:
    server = GameServer(make_config(max_rooms=2))
    await nursery.start(server.run)
    async with connect(server.url + "?mode=squad", name="a") as a:
        await a.next_snapshot()
        assert await refused_status(server.url + "?mode=duel") == 503
    assert server.metrics.rooms_refused == 1


async def test_matchmaking_seats_players_and_fills_rooms(rooms_server: GameServer) -> None:
    answers = [(await post(rooms_server.port, "/api/match", {"mode": "duel"})) for _ in range(3)]
    assert [status for status, _ in answers] == [200, 200, 200]
    rooms = [answer["room"] for _, answer in answers]
    assert rooms[0] == rooms[1] != rooms[2]  # two seats per duel
    assert all(str(answer["url"]).startswith(rooms_server.url) for _, answer in answers)
    async with (
        connect(str(answers[0][1]["url"]), name="a") as a,
        connect(str(answers[1][1]["url"]), name="b") as b,
    ):
        for client in (a, b):
            await client.next_snapshot()
        room = rooms_server.rooms[str(rooms[0])]
        assert room.player_count == 2
        directory_room = await rooms_server.matchmaker.directory.room(str(rooms[0]))  # type: ignore[union-attr]
        assert directory_room is not None and directory_room.players == 2
    assert rooms_server.metrics.matches == 3


async def test_a_dropped_players_seat_stays_taken_while_it_may_resume(
    rooms_server: GameServer,
) -> None:
    port = rooms_server.port
    answers = [(await post(port, "/api/match", {"mode": "duel"}))[1] for _ in range(2)]
    room_id = str(answers[0]["room"])
    assert answers[1]["room"] == room_id  # the duel's two seats
    stream, _ = await handshake(port, path=str(answers[0]["url"]).split(str(port), 1)[1])
    await stream.send_all(client_frame(encode(Join(Role.PLAYER, "ann"))))
    async with connect(str(answers[1]["url"]), name="bob") as bob:
        await bob.next_snapshot()
        room = rooms_server.rooms[room_id]
        with trio.fail_after(5):
            while room.player_count < 2:
                await trio.sleep(0.02)
        await stream.aclose()  # ann's connection is lost without a close frame (1006)
        with trio.fail_after(5):
            while len(room.sessions) > 1:
                await trio.sleep(0.02)
        assert room.player_count == 2  # ann is held for a resume: her seat is still hers
        status, third = await post(port, "/api/match", {"mode": "duel"})
        assert status == 200 and third["room"] != room_id, "a held player's seat given away"
        directory = rooms_server.matchmaker.directory  # type: ignore[union-attr]
        found = await directory.room(room_id)
        assert found is not None and found.players == 2


async def test_players_arriving_while_their_room_is_made_all_take_their_seats(
    nursery: trio.Nursery,
) -> None:
    # Seats booked in one new room, its players arriving together: those who arrive while
    # the first one's arrival is still making the room must confirm their seats too, or
    # the directory counts fewer players than the room holds and, once the unconfirmed
    # holds lapse, books their seats again for players the room refuses as full (4009).
    # One address books every seat here: no per-address match rate or unconfirmed bound.
    config = make_config(match_rate_per_s=0, max_unconfirmed_seats_per_address=0)
    rooms_server = GameServer(config)
    await nursery.start(rooms_server.run)
    port = rooms_server.port
    answers = [(await post(port, "/api/match", {"mode": "squad"}))[1] for _ in range(24)]
    room_ids = sorted({str(answer["room"]) for answer in answers})
    assert len(room_ids) == 3  # three squads of 8
    streams: list[trio.abc.Stream] = []
    with trio.fail_after(10):
        async with trio.open_nursery() as arrivals:

            async def arrive(url: str, name: str) -> None:
                stream, _ = await handshake(port, path=url.split(str(port), 1)[1])
                await stream.send_all(client_frame(encode(Join(Role.PLAYER, name))))
                streams.append(stream)

            for index, answer in enumerate(answers):
                arrivals.start_soon(arrive, str(answer["url"]), f"p{index}")
        while sum(rooms_server.rooms[room_id].player_count for room_id in room_ids) < 24:
            await trio.sleep(0.02)
    directory = rooms_server.matchmaker.directory  # type: ignore[union-attr]
    for room_id in room_ids:
        found = await directory.room(room_id)
        assert found is not None
        assert (found.players, found.held_seats) == (8, 0), f"seats left unconfirmed: {found}"
    for stream in streams:
        await stream.aclose()


async def test_private_rooms_are_joined_by_code(rooms_server: GameServer) -> None:
    status, made = await post(rooms_server.port, "/api/match", {"mode": "duel", "private": True})
    assert status == 200 and made["code"]
    status, friend = await post(rooms_server.port, "/api/match", {"code": made["code"]})
    assert status == 200 and friend["room"] == made["room"]
    status, third = await post(rooms_server.port, "/api/match", {"code": made["code"]})
    assert status == 409 and "full" in str(third["error"])
    status, public = await post(rooms_server.port, "/api/match", {"mode": "duel"})
    assert status == 200 and public["room"] != made["room"]  # never matched into it
    status, unknown = await post(rooms_server.port, "/api/match", {"code": "NOCODE"})
    assert status == 404 and "code" in str(unknown["error"])


@pytest.mark.parametrize(
    "body",
    [None, [], {"mode": 3}, {"mode": "duel", "code": "X"}, {}, {"code": "AB", "private": True}],
)
async def test_bad_match_requests_get_400(rooms_server: GameServer, body: object) -> None:
    status, answer = await post(rooms_server.port, "/api/match", body)
    assert status == 400 and answer["error"]


async def test_match_needs_post(rooms_server: GameServer) -> None:
    result = await get(rooms_server.port, "/api/match")
    assert result.status == 405
    status, answer = await post(rooms_server.port, "/api/match", {"mode": "chess"})
    assert status == 404 and "chess" in str(answer["error"])


async def test_find_match_on_the_websocket_joins_the_room_found(
    rooms_server: GameServer,
) -> None:
    async with (
        connect(rooms_server.url, name="ann", match="duel") as ann,
        connect(rooms_server.url, name="bob", match="duel") as bob,
    ):
        for client in (ann, bob):
            await client.next_snapshot()
        assert ann.matched is not None and bob.matched is not None
        assert ann.matched.room == bob.matched.room  # the second seat of the same duel
        room = rooms_server.rooms[ann.matched.room]
        assert room.player_count == 2 and rooms_server.rooms["default"].player_count == 0
        assert ann.welcome is not None and ann.welcome.world_width == 500
        directory_room = await rooms_server.matchmaker.directory.room(room.name)  # type: ignore[union-attr]
        assert directory_room is not None and directory_room.players == 2
    with trio.fail_after(5):  # leaving frees the seats
        while (info := await rooms_server.matchmaker.directory.room(room.name)) and info.players:  # type: ignore[union-attr]
            await trio.sleep(0.05)


async def test_find_match_for_an_unknown_mode_is_a_non_fatal_error(
    rooms_server: GameServer,
) -> None:
    async with connect(rooms_server.url, name="x", join=False) as client:
        await client.send_raw(encode(FindMatch("chess", "x")))
        with trio.fail_after(5):
            await client.wait_for(lambda c: bool(c.errors))
        assert (
            client.errors[0].code == ErrorCode.MATCH_FAILED and "chess" in client.errors[0].reason
        )
        await client.send_raw(encode(Join(Role.PLAYER, "x")))  # still welcome to join here
        with trio.fail_after(5):
            await client.wait_for(lambda c: c.welcome is not None)
