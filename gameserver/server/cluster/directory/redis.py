"""The Redis directory: many nodes share one Redis through the ``coredis`` client.

Keys (every one starts with the prefix, ``gs:`` by default):

- ``node:{node_id}``: hash ``ws_url, http_url, capacity, load, ttl_ms``, expiring after
  the node's ttl. Its existence is the node's liveness; every heartbeat refreshes it, so
  ``ttl_ms`` minus its remaining TTL is the time since the last heartbeat.
- ``nodes``: set of node ids that have registered (an expired one is pruned on sight).
- ``node-rooms:{node_id}``: set of the ids of the rooms on that node.
- ``room:{room_id}``: hash ``node_id, mode, capacity, players, private ('0'/'1'), code,
  expires_at`` (caller's seconds). The room's keys (this hash, its seats, its code) also
  carry the same expiry as a Redis TTL, so an entry nobody looks at again still goes.
- ``rooms``: set of every room id.
- ``public:{mode}``: set of the ids of the public rooms of a mode.
- ``seats:{room_id}``: sorted set of held seat ids scored by expiry (caller's seconds).
- ``code:{code}``: string, the id of the private room with that code.
- pub/sub channel ``chan:{channel}``.

Theory of operation: everything that reads and then writes runs as a Lua script on the
Redis server (``scripts/*.lua``, each prefixed by ``common.lua``; called with EVALSHA and
loaded on a NOSCRIPT reply). Redis runs one script at a time and nothing else meanwhile,
so a booking's "find a room with a free seat, hold it" is one indivisible step however
many nodes book at once. The scripts compute key names from the indexes they read, so
they need a single Redis server, not a Redis Cluster.

Dead nodes are found by their expired hash: each script first drops every node in
``nodes`` whose hash is gone, with its rooms, holds and codes, so no booking lands on one.

Failures: a connection error, a timeout or refused credentials become
``DirectoryUnavailable`` naming the Redis URL (without its password); any other Redis
error becomes ``DirectoryError``. Commands are never retried: a script whose reply was
lost may have run, and a repeated confirmation would wrongly report an expired seat.
coredis notices dropped connections by itself, so after a Redis restart the next call
simply opens a fresh one.

Pub/sub uses Redis pub/sub: at most once, and a subscriber that loses its connection
retries for a few seconds, then its iteration raises ``DirectoryUnavailable``.
"""

from __future__ import annotations

import importlib.resources
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import anyio
import coredis
import coredis.exceptions
import trio
from coredis.commands.script import Script
from coredis.patterns.pubsub import PubSub
from coredis.retry import (
    CompositeRetryPolicy,
    ConstantRetryPolicy,
    ExponentialBackoffRetryPolicy,
    NoRetryPolicy,
)

from gameserver.server.cluster.directory.interface import (
    DEFAULT_ROOM_TTL_S,
    Booking,
    DirectoryError,
    DirectoryUnavailable,
    NoCapacity,
    NodeInfo,
    RoomFull,
    RoomInfo,
    UnknownRoom,
)

DEFAULT_TIMEOUT_S = 2.0  # to connect, and for Redis to answer one command

_SCRIPT_NAMES = (
    "book_private",
    "book_seat",
    "confirm_seat",
    "create_private_room",
    "node_beat_age",
    "nodes",
    "register_node",
    "release_player",
    "remove_node",
    "remove_room",
    "renew_rooms",
    "rooms",
    "seat_held",
)
_COMMAND_RETRIES = NoRetryPolicy()  # at most once: see the module docstring
# A subscriber rides out a Redis restart of a few seconds, then gives up loudly.
_SUBSCRIBER_RETRIES = CompositeRetryPolicy(
    ExponentialBackoffRetryPolicy(
        (coredis.exceptions.ConnectionError,), retries=6, base_delay=0.1, max_delay=1.0
    ),
    ConstantRetryPolicy((TimeoutError,), retries=2, delay=0.1),
)
# Errors that mean "Redis is not there for us" rather than "the command was wrong".
_UNREACHABLE = (
    coredis.exceptions.ConnectionError,
    coredis.exceptions.ReadOnlyError,  # a replica, or a primary demoted under us
    TimeoutError,
    anyio.ClosedResourceError,  # the client's connection was torn down (shutdown, reset)
    anyio.BrokenResourceError,
)
_TORN_DOWN = (anyio.ClosedResourceError, anyio.BrokenResourceError)
_REFUSED = (coredis.exceptions.AuthenticationError, coredis.exceptions.AuthorizationError)


def _load_scripts() -> dict[str, str]:
    folder = importlib.resources.files(__package__).joinpath("scripts")
    common = folder.joinpath("common.lua").read_text(encoding="utf-8")
    return {
        name: common + "\n" + folder.joinpath(f"{name}.lua").read_text(encoding="utf-8")
        for name in _SCRIPT_NAMES
    }


_SCRIPTS = _load_scripts()


def redacted_url(url: str) -> str:
    """``url`` without its password or query, fit for logs and error messages."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparsable Redis URL>"
    if ":" in host:
        host = f"[{host}]"  # IPv6
    user = f"{parts.username}@" if parts.username else ""
    netloc = f"{user}{host}" + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class RedisDirectory:
    """The ``Directory`` shared by every node through one Redis; open it with ``connect``."""

    def __init__(self, client: coredis.Redis[bytes], *, safe_url: str, prefix: str) -> None:
        self._client = client
        self._safe_url = safe_url
        self._prefix = prefix
        self._scripts: dict[str, Script[bytes]] = {
            name: client.register_script(text) for name, text in _SCRIPTS.items()
        }
        self._closed = False

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, url: str, *, prefix: str = "gs:", timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> AsyncIterator[RedisDirectory]:
        """Connect to the Redis at ``url``; raises ``DirectoryUnavailable`` if it does not answer.

        coredis clients are structured (their connections run in a task group), so the
        directory is an async context manager rather than a plain object.
        """
        safe_url = redacted_url(url)
        if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
            raise DirectoryError(
                f"{safe_url} is not a Redis URL: use redis://, rediss:// or unix://"
            )
        try:
            client: coredis.Redis[bytes] = coredis.Redis.from_url(
                url,
                decode_responses=False,
                connect_timeout=timeout_s,
                stream_timeout=timeout_s,
                retry_policy=_COMMAND_RETRIES,
            )
        except ValueError as exc:
            raise DirectoryError(f"{safe_url} is not a usable Redis URL: {exc}") from None
        directory = cls(client, safe_url=safe_url, prefix=prefix)
        try:
            async with client:
                with directory._translating():
                    await client.ping()
                try:
                    yield directory
                finally:
                    await directory.aclose()
        except BaseExceptionGroup as group:
            _raise_sole(group, directory._translate)

    # -- nodes ---------------------------------------------------------------------------

    async def register_node(self, node: NodeInfo, ttl_s: float) -> None:
        ttl_ms = max(1, round(ttl_s * 1000))
        await self._run(
            "register_node",
            node.node_id,
            node.ws_url,
            node.http_url,
            node.capacity,
            node.load,
            ttl_ms,
        )

    async def remove_node(self, node_id: str) -> None:
        await self._run("remove_node", node_id)

    async def node_beat_age_s(self, node_id: str) -> float | None:
        age_ms = await self._run("node_beat_age", node_id)
        return None if age_ms is None else max(0, int(age_ms)) / 1000

    async def nodes(self) -> list[NodeInfo]:
        rows = await self._run("nodes")
        return [
            NodeInfo(
                node_id=_text(row[0]),
                ws_url=_text(row[1]),
                http_url=_text(row[2]),
                capacity=int(row[3]),
                load=int(row[4]),
            )
            for row in rows
        ]

    # -- booking -------------------------------------------------------------------------

    async def book_seat(
        self,
        mode: str,
        capacity: int,
        *,
        new_room_id: str,
        seat_id: str,
        seat_ttl_s: float,
        now_s: float,
        room_ttl_s: float = DEFAULT_ROOM_TTL_S,
    ) -> Booking:
        expires_at_s = now_s + seat_ttl_s
        reply = await self._run(
            "book_seat",
            mode,
            capacity,
            new_room_id,
            seat_id,
            expires_at_s,
            now_s,
            now_s + room_ttl_s,
        )
        status = _text(reply[0])
        if status == "NO_CAPACITY":
            raise NoCapacity(f"no live node has room for another {mode!r} room")
        if status == "ROOM_EXISTS":
            raise DirectoryError(f"a room with id {new_room_id!r} already exists")
        return Booking(
            room_id=_text(reply[1]),
            node_id=_text(reply[2]),
            seat_id=seat_id,
            expires_at_s=expires_at_s,
            created=bool(reply[3]),
        )

    async def create_private_room(
        self,
        mode: str,
        capacity: int,
        *,
        room_id: str,
        code: str,
        now_s: float,
        seat_id: str | None = None,
        seat_ttl_s: float = 0.0,
        room_ttl_s: float = DEFAULT_ROOM_TTL_S,
    ) -> RoomInfo:
        if not code:
            raise ValueError("a private room needs a non-empty code")
        reply = await self._run(
            "create_private_room",
            mode,
            capacity,
            room_id,
            code,
            now_s,
            now_s + room_ttl_s,
            seat_id or "",
            now_s + seat_ttl_s,
        )
        status = _text(reply[0])
        if status == "CODE_TAKEN":
            raise DirectoryError(f"the private code {code!r} is already in use")
        if status == "NO_CAPACITY":
            raise NoCapacity(f"no live node has room for another {mode!r} room")
        if status == "ROOM_EXISTS":
            raise DirectoryError(f"a room with id {room_id!r} already exists")
        return RoomInfo(
            room_id=room_id,
            node_id=_text(reply[1]),
            mode=mode,
            capacity=capacity,
            players=0,
            held_seats=0 if seat_id is None else 1,
            private=True,
            code=code,
        )

    async def book_private(
        self, code: str, *, seat_id: str, seat_ttl_s: float, now_s: float
    ) -> Booking:
        expires_at_s = now_s + seat_ttl_s
        reply = await self._run("book_private", code, seat_id, expires_at_s, now_s)
        status = _text(reply[0])
        if status == "UNKNOWN_ROOM":
            raise UnknownRoom(f"no room has the code {code!r}")
        if status == "ROOM_FULL":
            raise RoomFull(f"the room with code {code!r} is full")
        return Booking(
            room_id=_text(reply[1]),
            node_id=_text(reply[2]),
            seat_id=seat_id,
            expires_at_s=expires_at_s,
            created=False,
        )

    async def confirm_seat(self, room_id: str, seat_id: str, *, now_s: float | None = None) -> bool:
        return bool(await self._run("confirm_seat", room_id, seat_id, _now(now_s)))

    async def release_player(self, room_id: str) -> None:
        await self._run("release_player", room_id)

    async def seat_held(self, room_id: str, seat_id: str, *, now_s: float | None = None) -> bool:
        return bool(await self._run("seat_held", room_id, seat_id, _now(now_s)))

    async def renew_rooms(
        self, node_id: str, room_ids: list[str], *, ttl_s: float, now_s: float | None = None
    ) -> None:
        if room_ids:
            await self._run("renew_rooms", node_id, ttl_s, _now(now_s), *room_ids)

    # -- rooms ---------------------------------------------------------------------------

    async def remove_room(self, room_id: str) -> None:
        await self._run("remove_room", room_id)

    async def rooms(self, mode: str | None = None, *, now_s: float | None = None) -> list[RoomInfo]:
        selector = ("all", "") if mode is None else ("mode", mode)
        return [_room_info(row) for row in await self._run("rooms", _now(now_s), *selector)]

    async def room(self, room_id: str, *, now_s: float | None = None) -> RoomInfo | None:
        rows = await self._run("rooms", _now(now_s), "room", room_id)
        return _room_info(rows[0]) if rows else None

    async def room_by_code(self, code: str, *, now_s: float | None = None) -> RoomInfo | None:
        rows = await self._run("rooms", _now(now_s), "code", code)
        return _room_info(rows[0]) if rows else None

    # -- pub/sub -------------------------------------------------------------------------

    async def publish(self, channel: str, payload: bytes) -> None:
        self._check_open()
        with self._translating():
            await self._client.publish(self._channel(channel), payload)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[bytes]]:
        self._check_open()
        pubsub = self._client.pubsub(
            channels=[self._channel(channel)],
            ignore_subscribe_messages=True,
            retry_policy=_SUBSCRIBER_RETRIES,
        )
        try:
            with self._translating():
                async with pubsub:
                    yield _Payloads(pubsub, self._translating)
        except BaseExceptionGroup as group:
            _raise_sole(group, self._translate)

    async def aclose(self) -> None:
        # The connections close when ``connect``'s block ends; this stops further use.
        self._closed = True

    # -- internals -----------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise DirectoryError("the directory is closed")

    def _channel(self, channel: str) -> str:
        return f"{self._prefix}chan:{channel}"

    async def _run(self, script: str, *args: str | int | float) -> Any:
        self._check_open()
        with self._translating():
            return await self._scripts[script](keys=[], args=[self._prefix, *args])

    def _translate(self, exc: BaseException) -> BaseException:
        """Our own exception for a coredis or timeout error; anything else unchanged."""
        if isinstance(exc, _UNREACHABLE):
            return DirectoryUnavailable(
                f"the room directory cannot reach Redis at {self._safe_url}: {exc} "
                "(is Redis running there, and is the URL right?)"
            )
        if isinstance(exc, _REFUSED):
            return DirectoryUnavailable(
                f"Redis at {self._safe_url} refused the room directory's credentials: {exc} "
                "(check the user and password in the URL)"
            )
        if isinstance(exc, coredis.exceptions.RedisError):
            return DirectoryError(f"Redis at {self._safe_url} refused a directory command: {exc}")
        return exc

    @contextmanager
    def _translating(self) -> Iterator[None]:
        try:
            yield
        except (*_UNREACHABLE, coredis.exceptions.RedisError) as exc:
            raise self._translate(exc) from exc


class _Payloads:
    """The iterator a subscription yields: the payload bytes of each message."""

    def __init__(
        self, pubsub: PubSub[bytes], translating: Callable[[], AbstractContextManager[None]]
    ) -> None:
        self._pubsub = pubsub
        self._translating = translating

    def __aiter__(self) -> _Payloads:
        return self

    async def __anext__(self) -> bytes:
        while True:
            with self._translating():
                message = await self._pubsub.get_message()
            if message is not None and message["type"] == "message":
                data = message["data"]
                return data if isinstance(data, bytes) else str(data).encode()


def _now(now_s: float | None) -> float:
    return time.time() if now_s is None else now_s


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _room_info(row: list[Any]) -> RoomInfo:
    private = _text(row[6]) == "1"
    return RoomInfo(
        room_id=_text(row[0]),
        node_id=_text(row[1]),
        mode=_text(row[2]),
        capacity=int(row[3]),
        players=int(row[4]),
        held_seats=int(row[5]),
        private=private,
        code=_text(row[7]) if private else None,
    )


def _raise_sole(
    group: BaseExceptionGroup[BaseException], translate: Callable[[BaseException], BaseException]
) -> NoReturn:
    """Re-raise the one exception inside ``group``, translated; the group if there are more.

    coredis runs its connections in a task group, so whatever leaves the block (even an
    error of the caller's own) arrives wrapped in a group: unwrap it so the context
    manager raises what a plain object would.
    """
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        exc = pending.pop()
        if isinstance(exc, BaseExceptionGroup):
            pending.extend(exc.exceptions)
        else:
            leaves.append(exc)
    if len(leaves) > 1:
        # A connection torn down by the same cancellation (shutdown) is its echo, not news.
        leaves = [e for e in leaves if not isinstance(e, _TORN_DOWN)] or leaves
    if len(leaves) > 1 and all(isinstance(e, trio.Cancelled) for e in leaves):
        leaves = leaves[:1]  # one cancellation seen by several tasks
    if len(leaves) != 1:
        raise group
    sole = translate(leaves[0])
    if sole is not leaves[0]:
        raise sole from leaves[0]
    context = sole.__context__
    try:
        raise sole
    finally:
        sole.__context__ = context  # keep its own context, not the group it came in
