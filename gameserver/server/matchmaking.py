"""Matchmaking: a seat for a player, in a room on whichever node has one.

Theory of operation: ``match()`` asks the directory to hold a seat (atomic
there: see ``directory/__init__.py``) and answers with where to connect: the
owning node's WebSocket URL with, when authentication is on, ``?seat=`` a
short-lived seat token (a server JWT whose room is the booked room, whose ``jti``
is the seat id and whose ``sub`` is the identity that asked: only that identity's
token opens it), else ``?room=ID&seat=SEAT``. The owning node makes the room
when the booking made it (at once when it is this node, or when the first
player arrives otherwise) and confirms the seat when its player joins; a
seat whose player never comes expires after ``seat_ttl_s`` and frees itself.

Every node renews its registration (address, capacity, load) every third of
``node_ttl_s``; a node that dies drops out of the directory within
``node_ttl_s``, and its rooms with it. Clients of a dead node ask for a new
match.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

import attrs
import trio

from gameserver.protocol import Role
from gameserver.tokens import KIND_SEAT, issue_token

from .directory import (
    Booking,
    Directory,
    DirectoryError,
    DirectoryUnavailable,
    NoCapacity,
    NodeInfo,
    RoomFull,
    UnknownRoom,
)
from .room import Room
from .rooms import CODE_ALPHABET, CODE_LENGTH, RoomError

if TYPE_CHECKING:
    from .app import GameServer

log = logging.getLogger(__name__)


class MatchError(Exception):
    """A match request that cannot be served; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@attrs.frozen
class MatchRequest:
    mode: str | None = None
    code: str | None = None  # join the private room with this code
    private: bool = False  # make a private room of ``mode`` (its code comes back)
    name: str = "player"  # the player's display name (carried in the seat token)

    @classmethod
    def from_json(cls, document: Any) -> MatchRequest:
        if not isinstance(document, dict):
            raise MatchError(400, "the body must be a JSON object")
        mode, code = document.get("mode"), document.get("code")
        private, name = document.get("private", False), document.get("name", "player")
        if (mode is None) == (code is None):
            raise MatchError(400, "give exactly one of 'mode' and 'code'")
        if not isinstance(private, bool) or (private and code is not None):
            raise MatchError(400, "'private' is true or false, and goes with 'mode'")
        for field, value in (("mode", mode), ("code", code)):
            if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= 24):
                raise MatchError(400, f"'{field}' must be a string of 1..24 characters")
        if not isinstance(name, str) or not 1 <= len(name) <= 32 or not name.isprintable():
            raise MatchError(400, "'name' must be 1..32 printable characters")
        return cls(mode=mode, code=code, private=private, name=name)


class Matchmaker:
    def __init__(self, server: GameServer, directory: Directory) -> None:
        self.server = server
        self.config = server.config
        self.directory = directory
        self.node_id = self.config.node_id
        self.seated_rooms: set[str] = set()  # rooms here made by matchmaking: seats required
        self._node_urls: dict[str, tuple[str, str]] = {}  # node id -> (ws_url, http_url)
        self.registered = True  # the last heartbeat reached the directory (or none yet)

    # -- this node in the directory ----------------------------------------------

    def node_info(self) -> NodeInfo:
        server, config = self.server, self.config
        load = sum(room.player_count for room in server.rooms.values())
        return NodeInfo(
            node_id=self.node_id,
            ws_url=config.public_ws_url or server.url,
            http_url=config.public_http_url or server.http_url,
            capacity=config.node_capacity,
            load=load,
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Register this node and renew it until cancelled; then leave the directory."""
        if not self.node_id:
            self.node_id = f"{self.config.host}:{self.server.port}-{secrets.token_hex(2)}"
        self.server.room_manager.on_closed.append(self._room_closed)
        if await self._register():
            log.info("node %s registered in the room directory", self.node_id)
        task_status.started()
        try:
            while True:
                await trio.sleep(self.config.node_ttl_s / 3)
                was_registered = self.registered
                if await self._register() and not was_registered:
                    log.info("node %s is back in the room directory", self.node_id)
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
            await self.directory.register_node(self.node_info(), self.config.node_ttl_s)
        except DirectoryError as error:
            if self.registered:
                log.warning("directory heartbeat failed (matchmaking is down): %s", error)
            self.registered = False
            return False
        self.registered = True
        return True

    def _room_closed(self, room_id: str) -> None:
        if room_id in self.seated_rooms:
            self.seated_rooms.discard(room_id)
            self.server.spawn(self._forget_room, room_id)

    async def _forget_room(self, room_id: str) -> None:
        try:
            await self.directory.remove_room(room_id)
        except DirectoryError as error:
            log.warning("could not remove room %s from the directory: %s", room_id, error)

    # -- matching -----------------------------------------------------------------------

    async def match(self, request: MatchRequest, *, identity: str | None = None) -> dict[str, Any]:
        """A seat for ``request``; ``identity``: the verified ``sub`` of the player asking.

        With authentication on, an identity is required and the seat token is bound to it.
        """
        if self.config.join_secret and identity is None:
            raise MatchError(401, "matchmaking needs the player's identity token")
        try:
            return await self._match(request, identity)
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

    async def _match(self, request: MatchRequest, identity: str | None) -> dict[str, Any]:
        manager, config = self.server.room_manager, self.config
        seat_id = secrets.token_hex(16)
        now_s = time.time()
        code = request.code.upper() if request.code else None
        if request.mode is not None:
            mode = manager.mode(request.mode)
            room_id = f"{mode.name}-{secrets.token_hex(4)}"
            if request.private:
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                await self.directory.create_private_room(
                    mode.name, mode.max_players, room_id=room_id, code=code, now_s=now_s
                )
            else:
                booking = await self.directory.book_seat(
                    mode.name,
                    mode.max_players,
                    new_room_id=room_id,
                    seat_id=seat_id,
                    seat_ttl_s=config.seat_ttl_s,
                    now_s=now_s,
                )
        if code is not None:
            booking = await self.directory.book_private(
                code, seat_id=seat_id, seat_ttl_s=config.seat_ttl_s, now_s=now_s
            )
        if booking.node_id == self.node_id:
            await self.room_here(booking.room_id)  # ready before the player arrives
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
        secret = self.config.join_secret
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
        room = await self.server.room_manager.create(info.mode, room_id=room_id)
        self.seated_rooms.add(room_id)
        return room

    async def elsewhere(self, room_id: str) -> bool:
        """True when the directory has the room on another live node."""
        info = await self.directory.room(room_id, now_s=time.time())
        return info is not None and info.node_id != self.node_id

    async def take_seat(self, room_id: str, seat_id: str) -> bool:
        """The player with this seat arrived: True if the seat was still theirs."""
        return await self.directory.confirm_seat(room_id, seat_id, now_s=time.time())

    def leave_seat(self, room_id: str) -> None:
        self.server.spawn(self._release, room_id)

    async def _release(self, room_id: str) -> None:
        try:
            await self.directory.release_player(room_id)
        except DirectoryError as error:
            log.warning("could not release a seat in room %s: %s", room_id, error)
