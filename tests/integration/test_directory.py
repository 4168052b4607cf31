"""The room directory's promises, checked against both backends: memory and a real Redis.

Seat expiry uses explicit ``now_s`` values, the same for both backends; node liveness is
real time here (Redis key TTLs), so those tests sleep a fraction of a second.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import trio

from gameserver.server.cluster.directory import (
    Booking,
    Directory,
    DirectoryError,
    NoCapacity,
    NodeInfo,
    RoomFull,
    UnknownRoom,
    open_directory,
)
from tests.redis_server import redis_server, redis_url  # noqa: F401

NOW = 1_000.0
SEAT_TTL_S = 10.0


@pytest.fixture(params=["memory", "redis"])
def backend_url(request: pytest.FixtureRequest) -> str | None:
    """None for the in-memory directory, else the URL of a fresh redis-server."""
    if request.param == "memory":
        return None
    url: str = request.getfixturevalue("redis_url")
    return url


@pytest.fixture
async def directory(backend_url: str | None) -> AsyncIterator[Directory]:
    async with open_directory(backend_url, prefix="test:") as opened:
        yield opened


def node(node_id: str, capacity: int = 100, load: int = 0) -> NodeInfo:
    return NodeInfo(
        node_id=node_id,
        ws_url=f"ws://{node_id}.example:8000/ws",
        http_url=f"http://{node_id}.example:8000",
        capacity=capacity,
        load=load,
    )


async def book(
    directory: Directory, name: str, *, mode: str = "arena", capacity: int = 8, now_s: float = NOW
) -> Booking:
    return await directory.book_seat(
        mode,
        capacity,
        new_room_id=f"room-{name}",
        seat_id=f"seat-{name}",
        seat_ttl_s=SEAT_TTL_S,
        now_s=now_s,
    )


async def test_nodes_register_refresh_and_leave(directory: Directory) -> None:
    await directory.register_node(node("b"), ttl_s=60)
    await directory.register_node(node("a", load=3), ttl_s=60)
    await directory.register_node(node("a", load=5), ttl_s=60)  # the heartbeat updates load
    assert await directory.nodes() == [node("a", load=5), node("b")]
    await directory.remove_node("a")
    assert await directory.nodes() == [node("b")]


async def test_fills_the_fullest_room_before_making_or_spreading(directory: Directory) -> None:
    await directory.register_node(node("a"), ttl_s=60)
    first = [await book(directory, str(i), capacity=4) for i in range(4)]
    assert [b.created for b in first] == [True, False, False, False]
    assert {b.room_id for b in first} == {"room-0"}
    fifth = await book(directory, "4", capacity=4)
    assert (fifth.room_id, fifth.created) == ("room-4", True)  # room-0 is full

    for booking in first:
        assert await directory.confirm_seat(booking.room_id, booking.seat_id, now_s=NOW)
    await directory.release_player("room-0")
    # room-0 has one free seat, room-4 three: the fuller room gets the player.
    assert (await book(directory, "5", capacity=4)).room_id == "room-0"
    assert (await book(directory, "6", capacity=4)).room_id == "room-4"


async def test_a_new_room_goes_to_the_live_node_with_most_free_capacity(
    directory: Directory,
) -> None:
    await directory.register_node(node("a", capacity=10, load=4), ttl_s=60)  # 6 free
    await directory.register_node(node("b", capacity=10, load=2), ttl_s=60)  # 8 free
    await directory.register_node(node("c", capacity=1000), ttl_s=0.05)  # about to die
    await trio.sleep(0.2)
    duel = [await book(directory, str(i), mode="duel", capacity=2) for i in range(3)]
    # b had the most room; its two held seats leave it level with a, and a wins the tie.
    assert [(b.node_id, b.created) for b in duel] == [("b", True), ("b", False), ("a", True)]
    assert [n.node_id for n in await directory.nodes()] == ["a", "b"]


async def test_no_capacity_without_nodes_or_when_every_node_is_full(
    directory: Directory,
) -> None:
    with pytest.raises(NoCapacity):
        await book(directory, "0")
    await directory.register_node(node("a", capacity=2), ttl_s=60)
    await book(directory, "1")
    await book(directory, "2")
    with pytest.raises(NoCapacity):
        await book(directory, "3")  # room-1 has seats, but its node is full
    [room] = await directory.rooms(now_s=NOW)
    assert (room.room_id, room.held_seats, room.free_seats) == ("room-1", 2, 6)


async def test_held_seats_expire_and_free_the_room(directory: Directory) -> None:
    await directory.register_node(node("a"), ttl_s=60)
    first = await book(directory, "1", capacity=2)
    await book(directory, "2", capacity=2)
    room = await directory.room("room-1", now_s=NOW)
    assert room is not None and room.free_seats == 0

    later = NOW + SEAT_TTL_S + 1
    room = await directory.room("room-1", now_s=later)
    assert room is not None and (room.held_seats, room.free_seats) == (0, 2)
    third = await book(directory, "3", capacity=2, now_s=later)
    assert (third.room_id, third.created) == ("room-1", False)
    assert not await directory.confirm_seat(first.room_id, first.seat_id, now_s=later)
    assert await directory.confirm_seat(third.room_id, third.seat_id, now_s=later + 1)


async def test_confirm_turns_a_held_seat_into_a_player_once(directory: Directory) -> None:
    await directory.register_node(node("a"), ttl_s=60)
    booking = await book(directory, "1")
    assert booking.expires_at_s == NOW + SEAT_TTL_S
    assert await directory.confirm_seat(booking.room_id, booking.seat_id, now_s=NOW + 1)
    room = await directory.room(booking.room_id, now_s=NOW + 1)
    assert room is not None and (room.players, room.held_seats) == (1, 0)
    assert not await directory.confirm_seat(booking.room_id, booking.seat_id, now_s=NOW + 1)
    assert not await directory.confirm_seat(booking.room_id, "seat-never-booked", now_s=NOW)
    assert not await directory.confirm_seat("room-unknown", booking.seat_id, now_s=NOW)

    await directory.release_player(booking.room_id)
    await directory.release_player(booking.room_id)  # never below zero
    await directory.release_player("room-unknown")  # a room already gone: nothing to do
    room = await directory.room(booking.room_id, now_s=NOW + 1)
    assert room is not None and room.players == 0
    assert await directory.room("room-unknown") is None


async def test_rooms_on_a_dead_node_are_skipped_and_removed(directory: Directory) -> None:
    await directory.register_node(node("doomed", capacity=1000), ttl_s=0.1)
    await directory.register_node(node("steady", capacity=10), ttl_s=60)
    on_doomed = await book(directory, "1")
    assert on_doomed.node_id == "doomed"
    await trio.sleep(0.3)

    fresh = await book(directory, "2")
    assert (fresh.room_id, fresh.node_id, fresh.created) == ("room-2", "steady", True)
    assert [room.room_id for room in await directory.rooms(now_s=NOW)] == ["room-2"]
    assert await directory.room("room-1", now_s=NOW) is None
    assert not await directory.confirm_seat("room-1", on_doomed.seat_id, now_s=NOW)

    # Coming back after missing the ttl is a fresh start: the old rooms stay gone.
    await directory.register_node(node("doomed", capacity=1000), ttl_s=60)
    assert await directory.room("room-1", now_s=NOW) is None


async def test_removing_a_node_or_a_room_forgets_it(directory: Directory) -> None:
    await directory.register_node(node("a", capacity=1000), ttl_s=60)
    await directory.register_node(node("b", capacity=10), ttl_s=60)
    await book(directory, "1")
    await book(directory, "2", mode="duel", capacity=2)
    await directory.remove_room("room-2")
    assert [room.room_id for room in await directory.rooms(now_s=NOW)] == ["room-1"]
    await directory.remove_node("a")
    assert await directory.rooms(now_s=NOW) == []
    assert (await book(directory, "3")).node_id == "b"


async def test_rooms_lists_by_mode(directory: Directory) -> None:
    await directory.register_node(node("a"), ttl_s=60)
    await book(directory, "1", mode="arena")
    await book(directory, "2", mode="duel", capacity=2)
    await directory.create_private_room("duel", 2, room_id="room-p", code="XYZ", now_s=NOW)
    assert [room.room_id for room in await directory.rooms(now_s=NOW)] == [
        "room-1",
        "room-2",
        "room-p",
    ]
    duels = await directory.rooms("duel", now_s=NOW)
    assert [(room.room_id, room.private, room.code) for room in duels] == [
        ("room-2", False, None),
        ("room-p", True, "XYZ"),
    ]
    assert await directory.rooms("nothing", now_s=NOW) == []


async def test_private_rooms_by_code(directory: Directory) -> None:
    await directory.register_node(node("a", capacity=10, load=5), ttl_s=60)
    await directory.register_node(node("b", capacity=10, load=1), ttl_s=60)
    room = await directory.create_private_room("arena", 2, room_id="room-p", code="K7Q2", now_s=NOW)
    assert (room.node_id, room.private, room.code, room.free_seats) == ("b", True, "K7Q2", 2)
    with pytest.raises(DirectoryError, match="in use"):
        await directory.create_private_room("arena", 2, room_id="room-q", code="K7Q2", now_s=NOW)

    first = await directory.book_private("K7Q2", seat_id="s1", seat_ttl_s=SEAT_TTL_S, now_s=NOW)
    assert (first.room_id, first.node_id, first.created) == ("room-p", "b", False)
    await directory.book_private("K7Q2", seat_id="s2", seat_ttl_s=SEAT_TTL_S, now_s=NOW)
    with pytest.raises(RoomFull):
        await directory.book_private("K7Q2", seat_id="s3", seat_ttl_s=SEAT_TTL_S, now_s=NOW)
    with pytest.raises(UnknownRoom):
        await directory.book_private("NOPE", seat_id="s4", seat_ttl_s=SEAT_TTL_S, now_s=NOW)

    # Public matchmaking never puts strangers into a private room.
    public = await book(directory, "1", capacity=2)
    assert public.room_id == "room-1" and public.created
    assert await directory.confirm_seat("room-p", "s1", now_s=NOW)

    await directory.remove_room("room-p")
    with pytest.raises(UnknownRoom):
        await directory.book_private("K7Q2", seat_id="s5", seat_ttl_s=SEAT_TTL_S, now_s=NOW)
    # The code is free again once its room is gone.
    await directory.create_private_room("arena", 2, room_id="room-r", code="K7Q2", now_s=NOW)


async def test_private_room_needs_a_live_node(directory: Directory) -> None:
    with pytest.raises(NoCapacity):
        await directory.create_private_room("arena", 4, room_id="room-p", code="C0DE", now_s=NOW)


async def test_rooms_that_never_start_expire_and_live_ones_are_renewed(
    directory: Directory,
) -> None:
    await directory.register_node(node("a"), ttl_s=60)
    short = {"seat_ttl_s": SEAT_TTL_S, "now_s": NOW, "room_ttl_s": SEAT_TTL_S}
    await directory.book_seat("arena", 8, new_room_id="room-1", seat_id="s1", **short)
    await directory.book_seat("duel", 2, new_room_id="room-2", seat_id="s2", **short)
    await directory.create_private_room(
        "duel", 2, room_id="room-p", code="K7Q2", seat_id="s3", **short
    )
    assert await directory.seat_held("room-p", "s3", now_s=NOW)
    assert not await directory.seat_held("room-p", "s-other", now_s=NOW)
    found = await directory.room_by_code("K7Q2", now_s=NOW)
    assert found is not None and (found.room_id, found.held_seats) == ("room-p", 1)
    assert await directory.confirm_seat("room-2", "s2", now_s=NOW + 1)
    await directory.renew_rooms("c", ["room-1"], ttl_s=60, now_s=NOW + 5)  # not c's room
    await directory.renew_rooms("a", ["room-2"], ttl_s=60, now_s=NOW + 5)

    later = NOW + SEAT_TTL_S + 1
    assert [room.room_id for room in await directory.rooms(now_s=later)] == ["room-2"]
    assert await directory.room_by_code("K7Q2", now_s=later) is None
    assert not await directory.seat_held("room-p", "s3", now_s=later)
    with pytest.raises(UnknownRoom):
        await directory.book_private("K7Q2", seat_id="s4", seat_ttl_s=SEAT_TTL_S, now_s=later)
    # The code is free again once its room expired.
    await directory.create_private_room("duel", 2, room_id="room-q", code="K7Q2", now_s=later)
    assert await directory.rooms(now_s=NOW + 1000) == []  # nothing renewed lives for ever


async def race(directory: Directory, count: int) -> list[Booking]:
    bookings: list[Booking] = []

    async def one(i: int) -> None:
        bookings.append(await book(directory, str(i)))

    async with trio.open_nursery() as nursery:
        for i in range(count):
            nursery.start_soon(one, i)
    return bookings


async def check_race(directory: Directory, bookings: list[Booking], count: int) -> None:
    """Every caller got a seat of its own and no room or node went over capacity."""
    assert len(bookings) == count
    assert len({booking.seat_id for booking in bookings}) == count
    rooms = await directory.rooms(now_s=NOW)
    for room in rooms:
        assert room.players + room.held_seats <= room.capacity, room
    assert sum(room.held_seats for room in rooms) == count
    per_room = Counter(booking.room_id for booking in bookings)
    assert per_room == {room.room_id: room.held_seats for room in rooms}
    # Filling before making: the fewest rooms that can hold everyone.
    assert len(rooms) == math.ceil(count / 8)
    assert sum(booking.created for booking in bookings) == len(rooms)
    per_node = Counter(room.node_id for room in rooms for _ in range(room.held_seats))
    assert all(seats <= 100 for seats in per_node.values()), per_node
    for booking in bookings:
        assert await directory.confirm_seat(booking.room_id, booking.seat_id, now_s=NOW + 1)
    assert sum(room.players for room in await directory.rooms(now_s=NOW + 1)) == count


async def test_200_concurrent_bookings_never_overfill(directory: Directory) -> None:
    for node_id in ("a", "b", "c"):
        await directory.register_node(node(node_id, capacity=100), ttl_s=60)
    bookings = await race(directory, 200)
    await check_race(directory, bookings, 200)


async def test_publish_reaches_every_subscriber(directory: Directory) -> None:
    await directory.publish("chat", b"before anyone listens")  # goes nowhere, harmlessly
    async with (
        directory.subscribe("chat") as first,
        directory.subscribe("chat") as second,
        directory.subscribe("other") as other,
    ):
        await directory.publish("chat", b"one")
        await directory.publish("chat", b"\x00two")
        with trio.fail_after(5):
            assert [await anext(first), await anext(first)] == [b"one", b"\x00two"]
            assert [await anext(second), await anext(second)] == [b"one", b"\x00two"]
        with trio.move_on_after(0.1) as quiet:
            await anext(other)
        assert quiet.cancelled_caught
