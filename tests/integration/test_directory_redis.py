"""What only the Redis directory does: real connections, key layout, and Redis going away."""

from __future__ import annotations

import socket

import coredis
import pytest
import trio

from gameserver.server.cluster.directory import Booking, DirectoryError, DirectoryUnavailable
from gameserver.server.cluster.directory.redis import RedisDirectory, redacted_url
from tests.integration.test_directory import NOW, book, check_race, node, race
from tests.redis_server import RedisServer, redis_server, redis_url  # noqa: F401


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens once the probe is closed


async def test_an_unreachable_redis_is_reported_clearly_without_the_password() -> None:
    url = f"redis://:hunter2@127.0.0.1:{closed_port()}/0"
    with pytest.raises(DirectoryUnavailable) as caught:
        async with RedisDirectory.connect(url, timeout_s=1):
            pass
    message = str(caught.value)
    assert f"cannot reach Redis at {redacted_url(url)}" in message
    assert "hunter2" not in message
    assert type(caught.value) is DirectoryUnavailable  # never a raw coredis error


async def test_redis_stopping_mid_use_raises_directory_unavailable(
    redis_server: RedisServer,  # noqa: F811
) -> None:
    async with RedisDirectory.connect(redis_server.url, timeout_s=1) as directory:
        await directory.register_node(node("a"), ttl_s=60)
        redis_server.stop()
        for call in (
            lambda: book(directory, "1"),
            directory.nodes,
            lambda: directory.confirm_seat("room-1", "seat-1"),
            lambda: directory.publish("chat", b"x"),
        ):
            with pytest.raises(DirectoryUnavailable, match="cannot reach Redis at redis://127"):
                await call()


async def test_a_subscriber_whose_redis_goes_away_ends_with_directory_unavailable(
    redis_server: RedisServer,  # noqa: F811
) -> None:
    async with RedisDirectory.connect(redis_server.url, timeout_s=1) as directory:
        with trio.fail_after(15), pytest.raises(DirectoryUnavailable):
            async with directory.subscribe("chat") as payloads:
                await directory.publish("chat", b"hello")
                assert await anext(payloads) == b"hello"
                redis_server.stop()
                await anext(payloads)


async def test_a_wrong_password_is_reported_as_unavailable(redis_url: str) -> None:  # noqa: F811
    async with coredis.Redis.from_url(redis_url) as admin:
        await admin.config_set({"requirepass": "s3cret"})
    with pytest.raises(DirectoryUnavailable, match="refused the room directory's credentials"):
        async with RedisDirectory.connect(redis_url, timeout_s=1):
            pass
    async with RedisDirectory.connect(redis_url.replace("//", "//:s3cret@"), timeout_s=1) as ok:
        assert await ok.nodes() == []


async def test_errors_raised_inside_the_block_come_out_unwrapped(
    redis_url: str,  # noqa: F811
) -> None:
    with pytest.raises(KeyError):
        async with RedisDirectory.connect(redis_url):
            raise KeyError("the caller's own error")


async def test_keys_are_prefixed_and_nodes_expire_by_redis_ttl(redis_url: str) -> None:  # noqa: F811
    async with (
        RedisDirectory.connect(redis_url, prefix="one:") as one,
        RedisDirectory.connect(redis_url, prefix="two:") as two,
        coredis.Redis.from_url(redis_url) as raw,
    ):
        await one.register_node(node("a"), ttl_s=30)
        await one.create_private_room("arena", 4, room_id="room-p", code="K7Q2", now_s=NOW)
        await book(one, "1")
        assert await two.nodes() == []  # prefixes keep directories apart
        keys = {key.decode() for key in await raw.keys("*")}
        assert keys == {
            "one:nodes",
            "one:node:a",
            "one:node-rooms:a",
            "one:rooms",
            "one:room:room-p",
            "one:room:room-1",
            "one:public:arena",
            "one:seats:room-1",
            "one:code:K7Q2",
        }
        assert 0 < await raw.pttl("one:node:a") <= 30_000
        assert await raw.zscore("one:seats:room-1", "seat-1") == NOW + 10

        # Every key of a room carries its expiry as a Redis TTL: nothing stays for ever.
        for key in ("one:room:room-p", "one:code:K7Q2", "one:room:room-1", "one:seats:room-1"):
            assert 0 < await raw.pttl(key) <= 60_000, key

        # Scripts come back by themselves after Redis forgets them (a restart, a flush).
        await raw.script_flush()
        assert (await book(one, "2")).room_id == "room-1"


async def test_200_concurrent_bookings_each_on_its_own_connection(
    redis_url: str,  # noqa: F811
) -> None:
    async with RedisDirectory.connect(redis_url) as directory:
        for node_id in ("a", "b", "c"):
            await directory.register_node(node(node_id, capacity=100), ttl_s=60)
        bookings: list[Booking] = []

        async def one(i: int) -> None:
            async with RedisDirectory.connect(redis_url) as own:
                bookings.append(await book(own, str(i)))

        async with trio.open_nursery() as nursery:
            for i in range(200):
                nursery.start_soon(one, i)
        await check_race(directory, bookings, 200)


async def test_200_concurrent_bookings_sharing_one_client(redis_url: str) -> None:  # noqa: F811
    async with RedisDirectory.connect(redis_url) as directory:
        for node_id in ("a", "b", "c"):
            await directory.register_node(node(node_id, capacity=100), ttl_s=60)
        await check_race(directory, await race(directory, 200), 200)


def test_redacted_url_drops_the_password_and_query() -> None:
    assert (
        redacted_url("redis://user:pw@example.com:6380/2?x=pw") == "redis://user@example.com:6380/2"
    )
    assert redacted_url("rediss://:pw@[::1]:6379") == "rediss://[::1]:6379"
    assert redacted_url("redis://example.com:notaport") == "<unparsable Redis URL>"


async def test_a_url_that_is_not_redis_is_refused_before_connecting() -> None:
    with pytest.raises(DirectoryError, match="not a Redis URL"):
        async with RedisDirectory.connect("http://127.0.0.1:6379"):
            pass
