"""The in-memory directory: one process, plain dicts, the default without Redis.

Theory of operation: every method first yields to trio once (a checkpoint, so it can be
cancelled like a network call) and then does all its work without another await. Trio
runs one task at a time, so each booking reads and changes the dicts as a single step:
concurrent bookings are atomic without a lock.

Node liveness uses ``trio.current_time()`` (a node is live until its last heartbeat plus
its ttl), so tests drive it with trio's ``MockClock``. Seat and room expiry compare the
caller's ``now_s`` values; where ``now_s`` is optional it defaults to
``trio.current_time()``. Every call that takes ``now_s`` first forgets expired rooms.

Pub/sub hands each payload to every subscriber's bounded memory channel. A subscriber
whose buffer is full is cut off rather than allowed to block the publisher or grow
without bound; its iterator then raises ``DirectoryError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs
import trio

from gameserver.server.cluster.directory.interface import (
    DEFAULT_ROOM_TTL_S,
    Booking,
    DirectoryError,
    NoCapacity,
    NodeInfo,
    RoomFull,
    RoomInfo,
    UnknownRoom,
)

DEFAULT_SUBSCRIBER_BUFFER = 1024  # payloads a subscriber may fall behind before it is cut off


@attrs.define
class _Node:
    info: NodeInfo
    expires_at: float  # trio time
    beat_at: float  # trio time of the last heartbeat
    room_ids: set[str] = attrs.Factory(set)


@attrs.define
class _Room:
    room_id: str
    node_id: str
    mode: str
    capacity: int
    private: bool
    code: str | None
    expires_at_s: float  # caller's clock; pushed on by held seats and renewals
    players: int = 0
    held: dict[str, float] = attrs.Factory(dict)  # seat id -> expires at (caller's clock)

    def sweep(self, now_s: float) -> int:
        """Forget expired holds; the number still held."""
        for seat_id in [seat for seat, expires in self.held.items() if expires <= now_s]:
            del self.held[seat_id]
        return len(self.held)

    def free_seats(self, now_s: float) -> int:
        return self.capacity - self.players - self.sweep(now_s)

    def info(self, now_s: float) -> RoomInfo:
        return RoomInfo(
            room_id=self.room_id,
            node_id=self.node_id,
            mode=self.mode,
            capacity=self.capacity,
            players=self.players,
            held_seats=self.sweep(now_s),
            private=self.private,
            code=self.code,
        )


@attrs.define(eq=False)  # compared and hashed by identity: kept in sets
class _Subscriber:
    send: trio.MemorySendChannel[bytes]
    lagged: bool = False


class _Payloads:
    """The iterator a subscription yields: payloads until the subscription ends."""

    def __init__(
        self, channel: str, receive: trio.MemoryReceiveChannel[bytes], subscriber: _Subscriber
    ) -> None:
        self._channel = channel
        self._receive = receive
        self._subscriber = subscriber

    def __aiter__(self) -> _Payloads:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self._receive.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            if self._subscriber.lagged:
                raise DirectoryError(
                    f"the subscriber to {self._channel!r} fell too far behind and was cut off"
                ) from None
            raise StopAsyncIteration from None


class MemoryDirectory:
    """The ``Directory`` for a single process."""

    def __init__(self, *, subscriber_buffer: int = DEFAULT_SUBSCRIBER_BUFFER) -> None:
        self._nodes: dict[str, _Node] = {}
        self._rooms: dict[str, _Room] = {}
        self._codes: dict[str, str] = {}  # private code -> room id
        self._subscribers: dict[str, set[_Subscriber]] = {}
        self._subscriber_buffer = subscriber_buffer
        self._closed = False

    # -- nodes ---------------------------------------------------------------------------

    async def register_node(self, node: NodeInfo, ttl_s: float) -> None:
        await self._checkpoint()
        self._drop_dead_nodes()  # a node that missed its ttl comes back without its old rooms
        now = trio.current_time()
        expires_at = now + ttl_s
        known = self._nodes.get(node.node_id)
        if known is None:
            self._nodes[node.node_id] = _Node(info=node, expires_at=expires_at, beat_at=now)
        else:
            known.info = node
            known.expires_at = expires_at
            known.beat_at = now

    async def remove_node(self, node_id: str) -> None:
        await self._checkpoint()
        self._drop_node(node_id)

    async def node_beat_age_s(self, node_id: str) -> float | None:
        await self._checkpoint()
        self._drop_dead_nodes()
        node = self._nodes.get(node_id)
        return None if node is None else trio.current_time() - node.beat_at

    async def nodes(self) -> list[NodeInfo]:
        await self._checkpoint()
        self._drop_dead_nodes()
        return [self._nodes[node_id].info for node_id in sorted(self._nodes)]

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
        await self._checkpoint()
        self._drop_dead_nodes()
        self._drop_expired_rooms(now_s)
        node_free = {node_id: self._node_free(node, now_s) for node_id, node in self._nodes.items()}
        best: _Room | None = None
        best_free = 0
        for room_id in sorted(self._rooms):
            room = self._rooms[room_id]
            if room.private or room.mode != mode or node_free[room.node_id] <= 0:
                continue
            free = room.free_seats(now_s)
            # The fewest free seats wins: rooms fill up instead of spreading players thin.
            if free > 0 and (best is None or free < best_free):
                best, best_free = room, free
        created = best is None
        if best is None:
            best = self._new_room(
                mode,
                capacity,
                room_id=new_room_id,
                private=False,
                code=None,
                now_s=now_s,
                expires_at_s=now_s + room_ttl_s,
            )
        return self._hold(best, seat_id, now_s + seat_ttl_s, created=created)

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
        await self._checkpoint()
        self._drop_dead_nodes()
        self._drop_expired_rooms(now_s)
        if code in self._codes:
            raise DirectoryError(f"the private code {code!r} is already in use")
        room = self._new_room(
            mode,
            capacity,
            room_id=room_id,
            private=True,
            code=code,
            now_s=now_s,
            expires_at_s=now_s + room_ttl_s,
        )
        self._codes[code] = room_id
        if seat_id is not None:
            self._hold(room, seat_id, now_s + seat_ttl_s, created=True)
        return room.info(now_s)

    async def book_private(
        self, code: str, *, seat_id: str, seat_ttl_s: float, now_s: float
    ) -> Booking:
        await self._checkpoint()
        self._drop_dead_nodes()
        self._drop_expired_rooms(now_s)
        room_id = self._codes.get(code)
        if room_id is None:
            raise UnknownRoom(f"no room has the code {code!r}")
        room = self._rooms[room_id]
        if room.free_seats(now_s) <= 0:
            raise RoomFull(f"the room with code {code!r} is full")
        return self._hold(room, seat_id, now_s + seat_ttl_s, created=False)

    async def confirm_seat(self, room_id: str, seat_id: str, *, now_s: float | None = None) -> bool:
        await self._checkpoint()
        now_s = trio.current_time() if now_s is None else now_s
        room = self._live_room(room_id, now_s)
        if room is None:
            return False
        expires_at_s = room.held.pop(seat_id, None)
        if expires_at_s is None or expires_at_s <= now_s:
            return False
        room.players += 1
        return True

    async def release_player(self, room_id: str) -> None:
        await self._checkpoint()
        room = self._rooms.get(room_id)
        if room is not None:
            room.players = max(0, room.players - 1)

    async def seat_held(self, room_id: str, seat_id: str, *, now_s: float | None = None) -> bool:
        await self._checkpoint()
        now_s = trio.current_time() if now_s is None else now_s
        room = self._live_room(room_id, now_s)
        return room is not None and room.held.get(seat_id, now_s) > now_s

    async def renew_rooms(
        self, node_id: str, room_ids: list[str], *, ttl_s: float, now_s: float | None = None
    ) -> None:
        await self._checkpoint()
        now_s = trio.current_time() if now_s is None else now_s
        for room_id in room_ids:
            room = self._live_room(room_id, now_s)
            if room is not None and room.node_id == node_id:
                room.expires_at_s = max(room.expires_at_s, now_s + ttl_s)

    # -- rooms ---------------------------------------------------------------------------

    async def remove_room(self, room_id: str) -> None:
        await self._checkpoint()
        self._drop_room(room_id)

    async def rooms(self, mode: str | None = None, *, now_s: float | None = None) -> list[RoomInfo]:
        await self._checkpoint()
        self._drop_dead_nodes()
        now_s = trio.current_time() if now_s is None else now_s
        self._drop_expired_rooms(now_s)
        found = [self._rooms[room_id] for room_id in sorted(self._rooms)]
        return [room.info(now_s) for room in found if mode in (None, room.mode)]

    async def room(self, room_id: str, *, now_s: float | None = None) -> RoomInfo | None:
        await self._checkpoint()
        self._drop_dead_nodes()
        now_s = trio.current_time() if now_s is None else now_s
        room = self._live_room(room_id, now_s)
        return None if room is None else room.info(now_s)

    async def room_by_code(self, code: str, *, now_s: float | None = None) -> RoomInfo | None:
        await self._checkpoint()
        self._drop_dead_nodes()
        now_s = trio.current_time() if now_s is None else now_s
        room_id = self._codes.get(code)
        room = None if room_id is None else self._live_room(room_id, now_s)
        return None if room is None else room.info(now_s)

    # -- pub/sub -------------------------------------------------------------------------

    async def publish(self, channel: str, payload: bytes) -> None:
        await self._checkpoint()
        for subscriber in list(self._subscribers.get(channel, ())):
            try:
                subscriber.send.send_nowait(payload)
            except trio.WouldBlock:
                subscriber.lagged = True
                subscriber.send.close()
                self._unsubscribe(channel, subscriber)
            except trio.BrokenResourceError:
                self._unsubscribe(channel, subscriber)  # its reader is gone

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[bytes]]:
        await self._checkpoint()
        send, receive = trio.open_memory_channel[bytes](self._subscriber_buffer)
        subscriber = _Subscriber(send=send)
        self._subscribers.setdefault(channel, set()).add(subscriber)
        try:
            with send, receive:
                yield _Payloads(channel, receive, subscriber)
        finally:
            self._unsubscribe(channel, subscriber)

    async def aclose(self) -> None:
        self._closed = True
        for subscribers in self._subscribers.values():
            for subscriber in subscribers:
                subscriber.send.close()  # ends every subscription's iteration
        self._subscribers.clear()
        await trio.lowlevel.checkpoint()

    # -- internals -----------------------------------------------------------------------

    async def _checkpoint(self) -> None:
        if self._closed:
            raise DirectoryError("the directory is closed")
        await trio.lowlevel.checkpoint()

    def _drop_dead_nodes(self) -> None:
        """Forget every node whose heartbeat is overdue, with its rooms."""
        now = trio.current_time()
        for node_id in [node_id for node_id, node in self._nodes.items() if node.expires_at <= now]:
            self._drop_node(node_id)

    def _live_room(self, room_id: str, now_s: float) -> _Room | None:
        """The room, unless unknown or expired (then it is forgotten)."""
        room = self._rooms.get(room_id)
        if room is not None and room.expires_at_s <= now_s:
            self._drop_room(room_id)
            return None
        return room

    def _drop_expired_rooms(self, now_s: float) -> None:
        for room_id in [r.room_id for r in self._rooms.values() if r.expires_at_s <= now_s]:
            self._drop_room(room_id)

    def _hold(self, room: _Room, seat_id: str, expires_at_s: float, *, created: bool) -> Booking:
        room.held[seat_id] = expires_at_s
        room.expires_at_s = max(room.expires_at_s, expires_at_s)  # a seat outlives no room
        return Booking(
            room_id=room.room_id,
            node_id=room.node_id,
            seat_id=seat_id,
            expires_at_s=expires_at_s,
            created=created,
        )

    def _node_free(self, node: _Node, now_s: float) -> int:
        rooms = [self._rooms[room_id] for room_id in node.room_ids]
        players = sum(room.players for room in rooms)
        held = sum(room.sweep(now_s) for room in rooms)
        return node.info.capacity - max(node.info.load, players) - held

    def _new_room(
        self,
        mode: str,
        capacity: int,
        *,
        room_id: str,
        private: bool,
        code: str | None,
        now_s: float,
        expires_at_s: float,
    ) -> _Room:
        chosen: _Node | None = None
        chosen_free = 0
        for node_id in sorted(self._nodes):
            node = self._nodes[node_id]
            free = self._node_free(node, now_s)
            if free > chosen_free:
                chosen, chosen_free = node, free
        if chosen is None:
            raise NoCapacity(f"no live node has room for another {mode!r} room")
        if room_id in self._rooms:
            raise DirectoryError(f"a room with id {room_id!r} already exists")
        room = _Room(
            room_id=room_id,
            node_id=chosen.info.node_id,
            mode=mode,
            capacity=capacity,
            private=private,
            code=code,
            expires_at_s=expires_at_s,
        )
        self._rooms[room_id] = room
        chosen.room_ids.add(room_id)
        return room

    def _drop_room(self, room_id: str) -> None:
        room = self._rooms.pop(room_id, None)
        if room is None:
            return
        node = self._nodes.get(room.node_id)
        if node is not None:
            node.room_ids.discard(room_id)
        if room.code is not None and self._codes.get(room.code) == room_id:
            del self._codes[room.code]

    def _drop_node(self, node_id: str) -> None:
        node = self._nodes.pop(node_id, None)
        if node is not None:
            for room_id in list(node.room_ids):
                self._drop_room(room_id)

    def _unsubscribe(self, channel: str, subscriber: _Subscriber) -> None:
        subscribers = self._subscribers.get(channel)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._subscribers[channel]
