"""Matchmaking: a seat for a player, in a room on whichever node has one.

Theory of operation: ``match()`` asks the directory to hold a seat (atomic
there: see ``directory/interface.py``) and answers with where to connect: the
owning node's WebSocket URL with, when authentication is on, ``?seat=`` a
short-lived seat token (a server JWT whose room is the booked room, whose ``jti``
is the seat id and whose ``sub`` is the identity that asked: only that identity's
token opens it), else ``?room=ID&seat=SEAT``. The owning node makes the room
(its ticking task) only when the first player with a seat arrives, and
confirms the seat then; a seat whose player never comes expires after
``seat_ttl_s`` and frees itself, and a room nobody arrived in leaves the
directory with its last seat. While the room lives this node renews its
directory entry with every heartbeat.

Before any booking, ``matchlimits.py`` checks the requester: a request rate per
address and per identity, and a bound on seats booked here whose players have not
arrived (per address and in all). A private room is reachable only with its code or
a seat held in it, never by its id alone.

Every node renews its registration (address, capacity, load) every third of
``node_ttl_s``; a node that dies drops out of the directory within
``node_ttl_s``, and its rooms with it. Clients of a dead node ask for a new
match, and may name the node they cannot reach (``unreachable``, or the room on it:
``unreachable_room``): ``nodecheck.py``
probes it and, if it is down, removes it at once rather than after ``node_ttl_s``.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import trio

from gameserver.errors import Refusal
from gameserver.protocol import NODE_ID_MAX_CHARS, ROOM_ID_MAX_CHARS, Role
from gameserver.server.cluster.directory import (
    Booking,
    Directory,
    DirectoryError,
    DirectoryUnavailable,
    NoCapacity,
    NodeInfo,
    RoomFull,
    UnknownRoom,
)
from gameserver.server.cluster.matchlimits import KeyedBuckets, SeatLedger
from gameserver.server.cluster.nodecheck import NodeChecker
from gameserver.server.rooms.manager import CODE_ALPHABET, CODE_LENGTH, RoomError
from gameserver.server.rooms.room import Room
from gameserver.tokens import KIND_SEAT, issue_token

if TYPE_CHECKING:
    from gameserver.config import Config
    from gameserver.server.metrics import Metrics
    from gameserver.server.rooms.manager import RoomManager

log = logging.getLogger(__name__)


class MatchHost(Protocol):
    """What matchmaking needs of the node it books rooms on (``GameServer`` provides it):
    its rooms, where clients reach it once listening, and a nursery for directory calls."""

    @property
    def config(self) -> Config: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def rooms(self) -> Mapping[str, Room]: ...
    @property
    def room_manager(self) -> RoomManager: ...
    @property
    def url(self) -> str: ...
    @property
    def http_url(self) -> str: ...
    @property
    def port(self) -> int: ...
    def spawn(self, function: Callable[..., Awaitable[object]], *args: object) -> None: ...


class MatchError(Refusal):
    """A match request that cannot be served; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(status, reason)
        self.retry_after_s = retry_after_s  # for a Retry-After header


@attrs.frozen
class MatchRequest:
    mode: str | None = None
    code: str | None = None  # join the private room with this code
    private: bool = False  # make a private room of ``mode`` (its code comes back)
    name: str = "player"  # the player's display name (carried in the seat token)
    unreachable: str | None = None  # a node the client could not reach (nodecheck.py)
    unreachable_room: str | None = None  # or the room on it (FindMatch names the room)

    @classmethod
    def from_json(cls, document: Any) -> MatchRequest:
        if not isinstance(document, dict):
            raise MatchError(400, "the body must be a JSON object")
        mode, code = document.get("mode"), document.get("code")
        private, name = document.get("private", False), document.get("name", "player")
        unreachable = document.get("unreachable")
        unreachable_room = document.get("unreachable_room")
        if (mode is None) == (code is None):
            raise MatchError(400, "give exactly one of 'mode' and 'code'")
        if not isinstance(private, bool) or (private and code is not None):
            raise MatchError(400, "'private' is true or false, and goes with 'mode'")
        for field, value in (("mode", mode), ("code", code)):
            if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= 24):
                raise MatchError(400, f"'{field}' must be a string of 1..24 characters")
        if not isinstance(name, str) or not 1 <= len(name) <= 32 or not name.isprintable():
            raise MatchError(400, "'name' must be 1..32 printable characters")
        for field, value, most in (
            ("unreachable", unreachable, NODE_ID_MAX_CHARS),
            ("unreachable_room", unreachable_room, ROOM_ID_MAX_CHARS),
        ):
            if value is not None and (
                not isinstance(value, str) or not 1 <= len(value) <= most or not value.isprintable()
            ):
                raise MatchError(400, f"'{field}' must be 1..{most} printable characters")
        return cls(
            mode=mode,
            code=code,
            private=private,
            name=name,
            unreachable=unreachable,
            unreachable_room=unreachable_room,
        )


class Matchmaker:
    def __init__(self, server: MatchHost, directory: Directory) -> None:
        self.server = server
        self.config = server.config
        self.directory = directory
        self.node_id = self.config.cluster.node_id
        # Rooms here made by matchmaking (seats required); ``?mode=`` joins stay out of them.
        self.seated_rooms: set[str] = server.room_manager.matchmade
        self.ended_rooms: set[str] = set()  # seated rooms whose match is over
        self._node_urls: dict[str, tuple[str, str]] = {}  # node id -> (ws_url, http_url)
        self.registered = True  # the last heartbeat reached the directory (or none yet)
        config = self.config
        limits = config.matchmaking
        self.address_buckets = KeyedBuckets(limits.match_rate_per_s, limits.match_burst)
        self.identity_buckets = KeyedBuckets(
            limits.match_identity_rate_per_s, limits.match_identity_burst
        )
        self.unconfirmed = SeatLedger(
            per_address=limits.max_unconfirmed_seats_per_address,
            total=limits.max_unconfirmed_seats,
        )
        self.node_checker = NodeChecker(
            directory,
            server.metrics,
            own_node_id=lambda: self.node_id,
            probe_timeout_s=config.cluster.node_probe_timeout_s,
            probe_interval_s=config.cluster.node_probe_interval_s,
            beat_late_s=config.cluster.node_ttl_s / 2,  # heartbeats come every third of it
        )
        # Connections whose FindMatch was refused for its rate once already.
        self._refused_once: weakref.WeakSet[object] = weakref.WeakSet()

    # -- this node in the directory ----------------------------------------------

    def node_info(self) -> NodeInfo:
        server, config = self.server, self.config
        load = sum(room.player_count for room in server.rooms.values())
        return NodeInfo(
            node_id=self.node_id,
            ws_url=config.cluster.public_ws_url or server.url,
            http_url=config.cluster.public_http_url or server.http_url,
            capacity=config.cluster.node_capacity,
            load=load,
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Register this node and renew it until cancelled; then leave the directory."""
        if not self.node_id:
            self.node_id = f"{self.config.network.host}:{self.server.port}-{secrets.token_hex(2)}"
        self.server.room_manager.on_closed.append(self._room_closed)
        self.server.room_manager.on_match_over.append(self._match_over)
        if await self._register():
            log.info("node %s registered in the room directory", self.node_id)
        task_status.started()
        try:
            while True:
                await trio.sleep(self.config.cluster.node_ttl_s / 3)
                was_registered = self.registered
                if await self._register():
                    if not was_registered:
                        log.info("node %s is back in the room directory", self.node_id)
                    await self._renew_rooms(list(self.seated_rooms))
        finally:
            with (
                trio.CancelScope(shield=True),
                trio.move_on_after(1),
                contextlib.suppress(DirectoryError),
            ):
                await self.directory.remove_node(self.node_id)

    async def _register(self) -> bool:
        """One heartbeat; a directory that is down is logged, and the rooms play on."""
        try:
            await self.directory.register_node(self.node_info(), self.config.cluster.node_ttl_s)
        except DirectoryError as error:
            if self.registered:
                log.warning("directory heartbeat failed (matchmaking is down): %s", error)
            self.registered = False
            return False
        self.registered = True
        return True

    async def _renew_rooms(self, room_ids: list[str]) -> None:
        """The directory entries of rooms that live here last another ``node_ttl_s``."""
        live = [
            room_id
            for room_id in room_ids
            if room_id in self.server.rooms and room_id not in self.ended_rooms
        ]
        try:
            await self.directory.renew_rooms(
                self.node_id, live, ttl_s=self.config.cluster.node_ttl_s, now_s=time.time()
            )
        except DirectoryError as error:
            log.warning("could not renew this node's rooms in the directory: %s", error)

    def _match_over(self, room_id: str) -> None:
        """A room whose match ended takes no more bookings: it leaves the directory."""
        if room_id in self.seated_rooms:
            self.ended_rooms.add(room_id)
            self.server.spawn(self._forget_room, room_id)

    def _room_closed(self, room_id: str) -> None:
        self.ended_rooms.discard(room_id)
        if room_id in self.seated_rooms:
            self.seated_rooms.discard(room_id)
            self.server.spawn(self._forget_room, room_id)

    async def _forget_room(self, room_id: str) -> None:
        try:
            await self.directory.remove_room(room_id)
        except DirectoryError as error:
            log.warning("could not remove room %s from the directory: %s", room_id, error)

    # -- matching -----------------------------------------------------------------------

    async def match(
        self, request: MatchRequest, *, address: str | None = None, identity: str | None = None
    ) -> dict[str, Any]:
        """A seat for ``request``; ``address``: the requester's address key (per-address
        limits), ``identity``: the verified ``sub`` of the player asking (None without
        authentication). With authentication on, an identity is required and the seat
        token is bound to it."""
        if self.config.auth.join_secret and identity is None:
            raise MatchError(401, "matchmaking needs the player's identity token")
        seat_id = secrets.token_hex(16)
        self._check_limits(address, identity)
        # Counted before the booking is awaited, so concurrent requests cannot all pass.
        self.unconfirmed.add(seat_id, address, time.time() + self.config.matchmaking.seat_ttl_s)
        booked = False
        try:
            # Checked, never taken on trust; a dead node leaves before this booking.
            if request.unreachable is not None:
                await self.node_checker.report(request.unreachable)
            elif request.unreachable_room is not None:
                await self.node_checker.report_room(request.unreachable_room)
            answer = await self._match(request, seat_id, identity)
            booked = True
            return answer
        except DirectoryUnavailable as error:
            self.server.metrics.matches_failed += 1
            raise MatchError(503, f"matchmaking unavailable: {error}") from None
        except NoCapacity:
            self.server.metrics.matches_failed += 1
            raise MatchError(503, "no server has room for another game; try again") from None
        except UnknownRoom:
            raise MatchError(404, "no private room with that code") from None
        except RoomFull:
            raise MatchError(409, "that private room is full") from None
        except RoomError as error:
            raise MatchError(error.status, error.reason) from None
        finally:
            if not booked:
                self.unconfirmed.taken(seat_id)  # no seat was held after all

    def _check_limits(self, address: str | None, identity: str | None) -> None:
        now = trio.current_time()
        metrics = self.server.metrics
        for buckets, key, who in (
            (self.address_buckets, address, "this address"),
            (self.identity_buckets, identity, "this player"),
        ):
            wait_s = 0.0 if key is None else buckets.take(key, now)
            if wait_s:
                metrics.matches_rate_limited += 1
                rate = f"{buckets.rate_per_s:g} per second, bursts of {buckets.burst}"
                reason = f"too many match requests from {who} (at most {rate})"
                raise MatchError(429, reason, retry_after_s=wait_s)
        refusal = self.unconfirmed.refusal(address, time.time())
        if refusal is not None:
            status, reason, wait_s = refusal
            metrics.matches_unconfirmed_refused += 1
            raise MatchError(status, f"{reason}; try again", retry_after_s=wait_s)

    def refused_before(self, connection: object) -> bool:
        """A FindMatch of ``connection`` was refused for its rate: True if not the first."""
        if connection in self._refused_once:
            return True
        self._refused_once.add(connection)
        return False

    async def _match(
        self, request: MatchRequest, seat_id: str, identity: str | None
    ) -> dict[str, Any]:
        manager, ttl_s = self.server.room_manager, self.config.matchmaking.seat_ttl_s
        now_s = time.time()
        code = request.code.upper() if request.code else None
        if request.mode is not None:
            mode = manager.mode(request.mode)
            room_id = f"{mode.name}-{secrets.token_hex(4)}"
            if request.private:
                # The room and its host's seat in one step: a refusal leaves nothing behind.
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                info = await self.directory.create_private_room(
                    mode.name,
                    mode.room.max_players_per_room,
                    room_id=room_id,
                    code=code,
                    now_s=now_s,
                    seat_id=seat_id,
                    seat_ttl_s=ttl_s,
                    room_ttl_s=ttl_s,
                )
                booking = Booking(
                    room_id=room_id,
                    node_id=info.node_id,
                    seat_id=seat_id,
                    expires_at_s=now_s + ttl_s,
                    created=True,
                )
            else:
                booking = await self.directory.book_seat(
                    mode.name,
                    mode.room.max_players_per_room,
                    new_room_id=room_id,
                    seat_id=seat_id,
                    seat_ttl_s=ttl_s,
                    now_s=now_s,
                    room_ttl_s=ttl_s,  # a room nobody comes to goes with its seats
                )
        else:
            assert code is not None
            booking = await self.directory.book_private(
                code, seat_id=seat_id, seat_ttl_s=ttl_s, now_s=now_s
            )
        # The room itself is made when its first player arrives (room_here), so a booking
        # costs a directory entry, never a ticking room.
        ws_url, http_url = await self._node_urls_of(booking.node_id)
        self.server.metrics.matches += 1
        return self._answer(request, booking, ws_url, http_url, code, identity)

    def _answer(
        self,
        request: MatchRequest,
        booking: Booking,
        ws_url: str,
        http_url: str,
        code: str | None,
        identity: str | None,
    ) -> dict[str, Any]:
        secret = self.config.auth.join_secret
        ttl_s = max(1.0, booking.expires_at_s - time.time())
        token = None
        if secret and identity is not None:
            token = issue_token(
                secret.encode(),
                subject=identity,
                name=request.name,
                role=Role.PLAYER,
                room=booking.room_id,
                ttl_s=ttl_s,
                now_s=time.time(),
                nonce=booking.seat_id,
                kind=KIND_SEAT,
            )
            url = f"{ws_url}?seat={token}"  # the client adds &token=<its identity token>
        else:
            url = f"{ws_url}?room={booking.room_id}&seat={booking.seat_id}"
        return {
            "room": booking.room_id,
            "node": booking.node_id,
            "url": url,
            "http_url": http_url,
            "token": token,
            "seat": booking.seat_id,
            "expires_in_s": round(ttl_s, 1),
            "code": code,
            "created": booking.created,
        }

    async def _node_urls_of(self, node_id: str) -> tuple[str, str]:
        if node_id == self.node_id:
            info = self.node_info()
            return info.ws_url, info.http_url
        if node_id not in self._node_urls:
            for node in await self.directory.nodes():
                self._node_urls[node.node_id] = (node.ws_url, node.http_url)
        if node_id not in self._node_urls:
            raise MatchError(503, f"node {node_id} left the directory; try again")
        return self._node_urls[node_id]

    # -- arrivals ---------------------------------------------------------------------

    async def room_here(self, room_id: str) -> Room | None:
        """The room, made now if the directory says it is this node's; None if it is not."""
        room = self.server.rooms.get(room_id)
        if room is not None:
            return room
        info = await self.directory.room(room_id, now_s=time.time())
        if info is None or info.node_id != self.node_id:
            return None
        manager = self.server.room_manager
        # Seated before it is made: ``create`` lists the room, then awaits its task, and
        # players arriving meanwhile find it listed; they must confirm their seats too
        # (``take_seat`` skips rooms not seated), or the directory counts fewer players
        # than the room holds and books their seats again once the holds lapse.
        made_here = room_id not in self.seated_rooms
        self.seated_rooms.add(room_id)
        try:
            room = await manager.create(info.mode, room_id=room_id)
        except BaseException:
            if made_here and room_id not in self.server.rooms:
                self.seated_rooms.discard(room_id)
            raise
        if info.private and info.code:
            manager.register_private(info.code, room_id)
        await self._renew_rooms([room_id])  # it lives now: renewed with every heartbeat
        return room

    async def room_for_code(self, code: str) -> Room:
        """The private room with ``code`` on this node, made now if its host has not come yet."""
        manager = self.server.room_manager
        with contextlib.suppress(RoomError):
            return manager.by_code(code)
        info = await self.directory.room_by_code(code.upper(), now_s=time.time())
        room = None
        if info is not None and info.node_id == self.node_id:
            room = await self.room_here(info.room_id)
        if room is None or room.stopped:
            # On another node it is reached through POST /api/match {"code": ...}.
            raise RoomError(404, "no private room with that code on this server")
        return room

    async def admits(self, room_id: str, seat: str) -> bool:
        """May a connection without a token enter ``room_id`` by its id?

        Not a private room, unless ``seat`` is held in it: its code is the way in.
        """
        if room_id in self.server.rooms:
            if not self.server.room_manager.is_private(room_id):
                return True
        else:
            info = await self.directory.room(room_id, now_s=time.time())
            if info is None or not info.private:
                return True  # an unknown room gets its own 404
        return bool(seat) and await self.directory.seat_held(room_id, seat, now_s=time.time())

    async def elsewhere(self, room_id: str) -> bool:
        """True when the directory has the room on another live node."""
        info = await self.directory.room(room_id, now_s=time.time())
        return info is not None and info.node_id != self.node_id

    async def take_seat(self, room_id: str, seat_id: str) -> bool:
        """The player with this seat arrived: True if the seat was still theirs."""
        self.unconfirmed.taken(seat_id)
        return await self.directory.confirm_seat(room_id, seat_id, now_s=time.time())

    def leave_seat(self, room_id: str) -> None:
        self.server.spawn(self._release, room_id)

    async def _release(self, room_id: str) -> None:
        try:
            await self.directory.release_player(room_id)
        except DirectoryError as error:
            log.warning("could not release a seat in room %s: %s", room_id, error)
