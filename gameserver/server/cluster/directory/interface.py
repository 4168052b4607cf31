"""The room directory: which nodes are alive, which rooms they hold, and where a player goes.

Rooms are the unit of scale: one room lives in one server process (a node), and every
node shares one directory. Matchmaking asks it for a seat; the node that holds the room
confirms the seat when the player arrives.

Theory of operation: a seat is booked in two steps so that a player who never arrives
costs nothing for long.

1. ``book_seat`` (or ``book_private``) holds a seat in a room until ``now_s + seat_ttl_s``.
   A room's free seats are ``capacity - players - held seats that have not expired``, so
   a held seat counts against the room exactly like a player. Public bookings fill the
   fullest room that still has space before they make a new one, and a new room goes to
   the live node with the most free capacity. Each booking is atomic: under any number of
   concurrent calls no room goes over capacity and no seat is handed out twice.
2. ``confirm_seat`` turns the held seat into a player when the player arrives; it returns
   False when the hold expired (the room may since have been given to someone else), and
   the node then refuses the join. ``release_player`` undoes a player when they leave.

A room entry has a ttl of its own, so that nothing a request leaves behind stays for
ever: a room is made (``book_seat``, ``create_private_room``) with an expiry of
``now_s + room_ttl_s``, every seat held in it pushes that expiry to the seat's own, and
the node that runs the room renews it (``renew_rooms``) while the room lives. A room
whose expiry passed is gone: it is skipped and removed wherever it is seen, with its
held seats and its code. A room booked but never started therefore disappears once its
last seat lapses. A private room is made with its first seat in the same step, so a
refused request leaves neither room nor code.

A node is alive while its registration is fresh: ``register_node`` is also the
heartbeat. Rooms on a node that stopped heart-beating are skipped and removed the next
time anyone looks at them, so a crashed node never strands players.

A node's free capacity is ``capacity - max(load, players in its rooms) - held seats in
its rooms``: the reported load can lag behind a burst of joins, and the directory's own
count never lags, so the larger of the two is used. Public rooms take players only while
their node has free capacity; a private room is an invitation and is bounded by its own
capacity alone.

Time: seat expiry compares the ``now_s`` values callers pass (the same clock for every
call). Where ``now_s`` is optional it defaults to the backend's clock:
``trio.current_time()`` in memory, wall-clock ``time.time()`` with Redis.

Two backends share this interface: ``memory.MemoryDirectory`` (one process, the
default) and ``redis.RedisDirectory`` (many nodes, one Redis). ``open_directory`` (in the
package) picks one from an optional Redis URL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import attrs

from gameserver.errors import GameServerError

__all__ = [
    "Booking",
    "Directory",
    "DirectoryError",
    "DirectoryUnavailable",
    "NoCapacity",
    "NodeInfo",
    "RoomFull",
    "RoomInfo",
    "UnknownRoom",
]

# A room entry made without a ttl of the caller's lives this long unless renewed.
DEFAULT_ROOM_TTL_S = 60.0


@attrs.frozen
class NodeInfo:
    """One server process: where clients reach it and how many players it takes."""

    node_id: str
    ws_url: str
    http_url: str
    capacity: int  # players the node is willing to host
    load: int  # players it reported at its last heartbeat


@attrs.frozen
class RoomInfo:
    """One room as the directory sees it; ``held_seats`` counts unexpired holds only."""

    room_id: str
    node_id: str
    mode: str
    capacity: int
    players: int
    held_seats: int
    private: bool
    code: str | None  # the join code of a private room

    @property
    def free_seats(self) -> int:
        return self.capacity - self.players - self.held_seats


@attrs.frozen
class Booking:
    """A seat held for one player in ``room_id`` on ``node_id`` until ``expires_at_s``."""

    room_id: str
    node_id: str
    seat_id: str
    expires_at_s: float
    created: bool  # the booking made the room


class DirectoryError(GameServerError):
    """Base class of every error the directory raises."""


class DirectoryUnavailable(DirectoryError):
    """The shared directory (Redis) cannot be reached: retry later or stop serving."""


class NoCapacity(DirectoryError):
    """No live node can take another room: scale out or ask the player to wait."""


class UnknownRoom(DirectoryError):
    """No live room has this private code."""


class RoomFull(DirectoryError):
    """The private room has no free seat."""


class Directory(Protocol):
    """What matchmaking and the nodes need from a directory; both backends implement it."""

    async def register_node(self, node: NodeInfo, ttl_s: float) -> None:
        """Add or refresh a node (the heartbeat): it stays live for ``ttl_s`` seconds."""
        ...

    async def remove_node(self, node_id: str) -> None:
        """Forget a node and every room on it (a graceful shutdown)."""
        ...

    async def nodes(self) -> list[NodeInfo]:
        """The live nodes, by id."""
        ...

    async def node_beat_age_s(self, node_id: str) -> float | None:
        """Seconds since the live node's last heartbeat; None if it is not registered."""
        ...

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
        """Hold a seat in the fullest public room of ``mode`` with space, else in a new room.

        The new room is ``new_room_id`` with ``capacity`` seats, on the live node with the
        most free capacity, and expires after ``room_ttl_s`` unless renewed. Raises
        ``NoCapacity`` when no live node can take it.
        """
        ...

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
        """Make a room reachable only by ``code``, on the node with the most free capacity.

        With ``seat_id``, that seat is held in it (for ``seat_ttl_s``) in the same step.
        Raises ``NoCapacity`` when no live node can take it, ``DirectoryError`` when the
        code belongs to another live room; either way nothing is left behind.
        """
        ...

    async def book_private(
        self, code: str, *, seat_id: str, seat_ttl_s: float, now_s: float
    ) -> Booking:
        """Hold a seat in the private room with ``code`` (``UnknownRoom``, ``RoomFull``)."""
        ...

    async def confirm_seat(self, room_id: str, seat_id: str, *, now_s: float | None = None) -> bool:
        """The player arrived: their held seat becomes a player. False if expired or unknown."""
        ...

    async def release_player(self, room_id: str) -> None:
        """A player left the room."""
        ...

    async def seat_held(self, room_id: str, seat_id: str, *, now_s: float | None = None) -> bool:
        """True while ``seat_id`` is held (booked, not confirmed, not expired) in the room."""
        ...

    async def renew_rooms(
        self, node_id: str, room_ids: list[str], *, ttl_s: float, now_s: float | None = None
    ) -> None:
        """The rooms of ``node_id`` named here still live: each expires ``ttl_s`` from now."""
        ...

    async def remove_room(self, room_id: str) -> None:
        """Forget a room (it closed), its held seats and its code."""
        ...

    async def rooms(self, mode: str | None = None, *, now_s: float | None = None) -> list[RoomInfo]:
        """The rooms on live nodes (of ``mode``, when given), by id."""
        ...

    async def room(self, room_id: str, *, now_s: float | None = None) -> RoomInfo | None:
        """One room, or None when it is unknown, expired or its node is dead."""
        ...

    async def room_by_code(self, code: str, *, now_s: float | None = None) -> RoomInfo | None:
        """The live private room with ``code``, or None."""
        ...

    async def publish(self, channel: str, payload: bytes) -> None:
        """Send ``payload`` to every current subscriber of ``channel`` on every node."""
        ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """Receive what is published on ``channel`` from the moment this is entered.

        Delivery is at most once, like Redis pub/sub: a subscriber that falls behind or
        loses its connection misses messages (and its iterator raises ``DirectoryError``).
        """
        ...

    async def aclose(self) -> None:
        """Release the backend's resources; calls after this raise ``DirectoryError``."""
        ...
