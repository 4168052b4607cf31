"""What a WebSocket handshake is checked for, and where it leads.

Theory of operation: ``GameServer`` asks, in this order, for each upgrade request:

1. ``refusal``: what refuses it before any credential is read (draining, path,
   subprotocol, origin, the total and per-address connection limits);
2. ``credential``: what its credential proves (a resume token, an identity, join or seat
   token; nothing in development mode), each single-use token remembered once;
3. ``choose_room``: the room it enters (its token's, a code's, a mode's, an id's, a relay
   of a room on another node, or the replay);
4. ``take_seat``: the matchmaking seat it confirms there.

Each refusal is ``(HTTP status, reason)``: returned by ``refusal``, raised as a
``TokenError`` or ``RoomError`` (``gameserver.Refusal``) by the rest. The server is met
through ``HandshakeHost``: this module never imports it.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sized
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qs, urlsplit

from trio_websocket import WebSocketRequest

from gameserver.auth import Authenticator, now_s
from gameserver.config import Config
from gameserver.protocol import SUBPROTOCOLS, Role
from gameserver.server.cluster.directory import DirectoryError
from gameserver.server.network.addresses import address_key
from gameserver.server.rooms.manager import DEFAULT_ROOM, RoomError
from gameserver.tokens import KIND_IDENTITY, KIND_RESUME, JoinClaims, ReplayGuard, TokenError

if TYPE_CHECKING:
    from gameserver.server.cluster.matchmaking import Matchmaker
    from gameserver.server.cluster.spectator_relays import SpectatorRelays
    from gameserver.server.metrics import Metrics
    from gameserver.server.rooms.manager import RoomManager
    from gameserver.server.rooms.relay_room import RelayRoom
    from gameserver.server.rooms.room import Room


class HandshakeHost(Protocol):
    """What the checks read of the server (``GameServer``): its state and its parts."""

    @property
    def draining(self) -> bool: ...
    @property
    def connections(self) -> Sized: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def auth(self) -> Authenticator | None: ...
    @property
    def rooms(self) -> Mapping[str, Room]: ...
    @property
    def room_manager(self) -> RoomManager: ...
    @property
    def matchmaker(self) -> Matchmaker | None: ...
    @property
    def relays(self) -> SpectatorRelays | None: ...
    @property
    def replay_room(self) -> RelayRoom | None: ...


class Handshake:
    """The checks of every upgrade request, and the open connections per address."""

    def __init__(self, config: Config, server: HandshakeHost) -> None:
        self.config = config
        self.server = server
        self.per_address: collections.Counter[str] = collections.Counter()
        self._replay_guard = ReplayGuard()

    def enter(self, host: str) -> str:
        """A connection from ``host`` was accepted: count it; its address key."""
        key = address_key(host, self.config.admission)
        self.per_address[key] += 1
        return key

    def leave(self, key: str) -> None:
        self.per_address[key] -= 1
        if not self.per_address[key]:
            del self.per_address[key]

    def refusal(self, request: WebSocketRequest, host: str) -> tuple[int, str] | None:
        """Why a handshake is refused, as (HTTP status, reason), or None to accept it."""
        config, metrics = self.config, self.server.metrics
        if self.server.draining:
            return 503, "server shutting down"
        if request.path.split("?", 1)[0] != config.network.path:
            path = request.path.split("?", 1)[0]  # the query may hold a token: never echo it
            return 404, f"no game at {path}; connect to {config.network.path}"
        if not set(SUBPROTOCOLS) & set(request.proposed_subprotocols):
            offered = ", ".join(request.proposed_subprotocols) or "none"
            return (
                400,
                f"unsupported subprotocol (offered: {offered}); "
                f"this server speaks {' and '.join(SUBPROTOCOLS)}",
            )
        origin = header(request, b"origin")
        admission = config.admission
        allowed = admission.allowed_origins
        if allowed and origin is not None and origin not in allowed:
            metrics.refused_origin += 1
            return 403, f"origin {origin} is not allowed"
        most = admission.max_connections
        if most and len(self.server.connections) >= most:
            metrics.refused_capacity += 1
            return 503, "server full: too many connections"
        per_address = admission.max_connections_per_address
        key = address_key(host, admission)
        if per_address and self.per_address[key] >= per_address:
            metrics.refused_per_address += 1
            return 429, f"too many connections from {key}"
        return None

    def credential(self, request: WebSocketRequest) -> JoinClaims | None:
        """What the handshake's credential proves; None in development mode without one.

        ``?resume=`` (any mode) names a player whose entity a room holds: the resume token
        proves the player, so reconnecting needs no new token. With authentication on,
        ``?token=`` is an identity token or a join token, and ``?seat=`` a seat token that
        must name the identity's ``sub`` (docs/protocol.md section 1.1).
        """
        query = parse_qs(urlsplit(request.path).query)
        resume = query.get("resume", [None])[0]
        if resume is not None:
            claims = self._resume_claims(resume)
            if claims is not None or self.server.auth is None:
                return claims  # development mode: the room refuses it at the Join, as ever
            self.server.metrics.resumes_refused += 1
            raise TokenError(401, "resume token unknown or expired: join again with a new token")
        if self.server.auth is None:
            return None
        now = now_s()
        claims = self.server.auth.verify(query.get("token", [None])[0], now)
        seat = query.get("seat", [None])[0]
        if seat is not None:
            seat_claims = self.server.auth.verify_seat(seat, now)
            if claims.kind != KIND_IDENTITY:
                raise TokenError(401, "a seat token goes with an identity token in ?token=")
            if seat_claims.subject != claims.subject:
                raise TokenError(403, "the seat is another player's")
            claims = seat_claims
        if claims.nonce:  # join and seat tokens admit once
            self._replay_guard.check_and_remember(claims, now, self.server.auth.settings.leeway_s)
        return claims

    def _resume_claims(self, resume: str) -> JoinClaims | None:
        """Claims for a reconnecting player: who the room remembers under ``resume``."""
        for room in self.server.rooms.values():
            held = room.resumable(resume)
            if held is not None:
                subject, name = held
                return JoinClaims(
                    subject=subject,
                    name=name,
                    role=Role.PLAYER,
                    room=room.name,
                    expires_s=0.0,
                    kind=KIND_RESUME,
                    resume=resume,
                )
        return None

    async def choose_room(
        self, request: WebSocketRequest, claims: JoinClaims | None
    ) -> Room | RelayRoom:
        """The room a connection joins: its token's, or as its query asks (docs/protocol.md 1)."""
        if self.server.replay_room is not None:
            return self.server.replay_room  # a replay server shows its recording and nothing else
        manager, matchmaker = self.server.room_manager, self.server.matchmaker
        if claims is not None and claims.room is not None:
            room_id = claims.room
        else:
            query = parse_qs(urlsplit(request.path).query)
            try:
                if "code" in query:
                    if matchmaker is None:
                        return manager.by_code(query["code"][0])
                    return await matchmaker.room_for_code(query["code"][0])
                if "mode" in query:
                    return await manager.join_or_create(query["mode"][0])
                room_id = query.get("room", [DEFAULT_ROOM])[0]
                # A private room is reached with its code or a seat held in it, never by
                # its id alone; the refusal is the unknown room's, so it confirms nothing.
                seat = query.get("seat", [""])[0]
                if (
                    room_id != DEFAULT_ROOM
                    and matchmaker is not None
                    and not await matchmaker.admits(room_id, seat)
                ):
                    raise RoomError(404, f"no room {room_id!r} on this server")
            except DirectoryError as error:
                raise RoomError(503, f"room directory unavailable: {error}") from None
        if room_id == DEFAULT_ROOM:
            return await manager.default_room()
        room = self.server.rooms.get(room_id)
        if room is None and matchmaker is not None:
            try:
                room = await matchmaker.room_here(room_id)  # booked here, made on arrival
                # On another node: spectators watch it through a relay here.
                bound = claims is not None and claims.room is not None
                relayed = room is None and not bound and self.server.relays is not None
                if relayed and await matchmaker.elsewhere(room_id):
                    assert self.server.relays is not None
                    return await self.server.relays.relay_for(room_id)
            except DirectoryError as error:
                raise RoomError(503, f"room directory unavailable: {error}") from None
        if room is not None and not room.stopped:
            return room
        if claims is None or claims.room is None:
            raise RoomError(404, f"no room {room_id!r} on this server")
        raise RoomError(403, f"token is for room {room_id!r}, not on this server")

    async def take_seat(
        self, request: WebSocketRequest, claims: JoinClaims | None, room: Room | RelayRoom
    ) -> bool:
        """Confirm a matchmaking seat; True when one was taken (and must be released)."""
        matchmaker = self.server.matchmaker
        if matchmaker is None or room.name not in matchmaker.seated_rooms:
            return False
        if claims is not None and claims.kind == KIND_RESUME:
            return False  # its entity is still in the room: no new seat
        if claims is not None and self.server.auth is not None:
            seat = claims.nonce  # a seat token's id; an identity or join token has none here
        else:
            seat = parse_qs(urlsplit(request.path).query).get("seat", [""])[0]
        try:
            taken = bool(seat) and await matchmaker.take_seat(room.name, seat)
        except DirectoryError as error:
            raise RoomError(503, f"room directory unavailable: {error}") from None
        if not taken and self.server.auth is not None:
            raise RoomError(403, "seat expired or unknown: ask matchmaking for a new one")
        # Development mode (no tokens) lets a player in without a seat (a reconnect, a
        # hand-made URL); the room's own max_players still bounds it.
        return taken


def header(request: WebSocketRequest, name: bytes) -> str | None:
    for key, value in request.headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None
