"""The in-memory directory under trio's MockClock: heartbeats, expiry, and pub/sub limits.

The behaviour both backends share is in ``tests/integration/test_directory.py``.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import trio
import trio.testing

import gameserver.server.cluster.directory as directory_module
from gameserver.server.cluster.directory import DirectoryError, NodeInfo
from gameserver.server.cluster.directory.memory import MemoryDirectory


def node(node_id: str, capacity: int = 100, load: int = 0) -> NodeInfo:
    return NodeInfo(node_id, f"ws://{node_id}/ws", f"http://{node_id}", capacity, load)


def test_public_names() -> None:
    assert set(directory_module.__all__) == {
        "Booking",
        "Directory",
        "DirectoryError",
        "DirectoryUnavailable",
        "NoCapacity",
        "NodeInfo",
        "RoomFull",
        "RoomInfo",
        "UnknownRoom",
        "open_directory",
    }
    for name in directory_module.__all__:
        assert hasattr(directory_module, name), name


def test_the_memory_directory_does_not_load_the_redis_client() -> None:
    code = (
        "import sys, gameserver.server.cluster.directory.memory; "
        "print(any(m.startswith('coredis') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_a_node_lives_while_it_heartbeats(autojump_clock: trio.testing.MockClock) -> None:
    directory = MemoryDirectory()
    await directory.register_node(node("a"), ttl_s=10)
    booking = await directory.book_seat(
        "arena", 8, new_room_id="r1", seat_id="s1", seat_ttl_s=300, now_s=trio.current_time()
    )
    for _ in range(5):  # heartbeats every 8 s keep it alive well past one ttl
        await trio.sleep(8)
        await directory.register_node(node("a", load=1), ttl_s=10)
    assert [n.load for n in await directory.nodes()] == [1]
    assert await directory.room(booking.room_id) is not None

    await trio.sleep(10)  # one missed heartbeat too many
    assert await directory.nodes() == []
    assert await directory.rooms() == []


async def test_seat_expiry_defaults_to_trio_time(autojump_clock: trio.testing.MockClock) -> None:
    directory = MemoryDirectory()
    await directory.register_node(node("a"), ttl_s=600)
    kept, lapsed = [
        await directory.book_seat(
            "arena", 8, new_room_id="r1", seat_id=seat, seat_ttl_s=5, now_s=trio.current_time()
        )
        for seat in ("kept", "lapsed")
    ]
    await trio.sleep(4)
    assert await directory.confirm_seat(kept.room_id, kept.seat_id)
    await trio.sleep(2)
    assert not await directory.confirm_seat(lapsed.room_id, lapsed.seat_id)
    room = await directory.room("r1")
    assert room is not None and (room.players, room.held_seats) == (1, 0)


async def test_a_subscriber_that_falls_behind_is_cut_off_loudly() -> None:
    directory = MemoryDirectory(subscriber_buffer=2)
    async with directory.subscribe("chat") as slow:
        for payload in (b"1", b"2", b"3", b"4"):
            await directory.publish("chat", payload)
        assert [await anext(slow), await anext(slow)] == [b"1", b"2"]
        with pytest.raises(DirectoryError, match="fell too far behind"):
            await anext(slow)
        async with directory.subscribe("chat") as fresh:  # others are unaffected
            await directory.publish("chat", b"5")
            assert await anext(fresh) == b"5"


async def test_aclose_ends_subscriptions_and_refuses_further_use() -> None:
    directory = MemoryDirectory()
    async with directory.subscribe("chat") as payloads:
        await directory.publish("chat", b"last")
        await directory.aclose()
        assert [payload async for payload in payloads] == [b"last"]
    with pytest.raises(DirectoryError, match="closed"):
        await directory.nodes()


async def test_a_room_id_is_never_reused() -> None:
    directory = MemoryDirectory()
    await directory.register_node(node("a", capacity=2), ttl_s=60)
    await directory.book_seat("duel", 1, new_room_id="r1", seat_id="s1", seat_ttl_s=9, now_s=0)
    with pytest.raises(DirectoryError, match="already exists"):
        await directory.book_seat("duel", 1, new_room_id="r1", seat_id="s2", seat_ttl_s=9, now_s=0)
