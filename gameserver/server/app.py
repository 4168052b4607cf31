"""The game server process: the composition root, and each connection from handshake to close.

``GameServer`` builds every part (rooms, network, cluster, web) and hands each the
narrow interface it needs; nothing imports this module back. What is left here is its
one job: carrying a connection from the handshake (checked in ``handshake.py``) into a
room, across rooms (matchmaking on the WebSocket), and out, and draining at shutdown.

The front door (``network/frontdoor.py``) takes every connection on the port: plain
HTTP requests go to the HTTP side (``web/routes.py``), WebSocket upgrades to
trio-websocket, which performs the opening handshake. A request that does not offer
our subprotocol is rejected with HTTP 400 and a body that says why. Each
accepted connection is served by a ``WsConnection`` attached to a room until
it closes; exceptions are caught at this boundary (one escaping a handler
would take the whole server down): the connection gets 1011, the traceback
goes to the log, every other connection carries on.
"""

from __future__ import annotations

import logging
import secrets
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import h11
import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, WebSocketServer

from gameserver.auth import Authenticator
from gameserver.config import Config
from gameserver.protocol import (
    PROTOCOL_VERSION,
    SUBPROTOCOL,
    SUBPROTOCOL_V1,
    SUBPROTOCOLS,
    CloseCode,
    Error,
    ErrorCode,
    FindMatch,
    Join,
    Matched,
    Role,
    encode,
)
from gameserver.server.cluster.chat import ChatRelay
from gameserver.server.cluster.directory import DirectoryError, open_directory
from gameserver.server.cluster.matchlimits import host_of
from gameserver.server.cluster.matchmaking import MatchError, Matchmaker, MatchRequest
from gameserver.server.cluster.spectator_relays import SpectatorRelays
from gameserver.server.handshake import Handshake
from gameserver.server.metrics import Metrics
from gameserver.server.network.addresses import address_key
from gameserver.server.network.fast import FastConnection
from gameserver.server.network.framemeter import FrameMeter
from gameserver.server.network.frontdoor import FrontDoor
from gameserver.server.network.handover import HandoverStream
from gameserver.server.network.tasks import Connection, WsConnection
from gameserver.server.rooms.manager import RoomError, RoomManager
from gameserver.server.rooms.relay_room import RelayRoom
from gameserver.server.rooms.replay import ReplayDriver
from gameserver.server.rooms.room import Room
from gameserver.server.web.http import serve_http
from gameserver.server.web.routes import WebSide
from gameserver.server.web.status import write_stats_forever
from gameserver.tokens import JoinClaims, TokenError

log = logging.getLogger(__name__)


class GameServer:
    def __init__(
        self, config: Config, *, replay: Path | None = None, replay_speed: float = 1.0
    ) -> None:
        self.config = config
        self.metrics = Metrics()
        seed = config.rooms.seed if config.rooms.seed is not None else secrets.randbits(32)
        self.room_manager = RoomManager(config, self.metrics, seed=seed)
        # The default room's tick rate and seats, where they were left to its game.
        self.config = config = self.room_manager.config
        self.rooms = self.room_manager.rooms  # the live rooms by id ("default" always)
        self.seed = seed
        self.connections: set[FastConnection | WsConnection] = set()
        # Identity and server tokens (None: development mode); a bad key file fails here.
        self.auth = Authenticator.from_config(config)
        self.tls: ssl.SSLContext | None = None
        if config.network.certfile and config.network.keyfile:
            self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls.load_cert_chain(config.network.certfile, config.network.keyfile)
        self.transport = config.network.transport
        self.port = 0
        self.draining = False
        self.started_at = 0.0
        self._listener: FrontDoor | None = None
        self._admin_listener: FrontDoor | None = None
        self.admin_port = 0  # the admin listener's port, once listening (admin_port set)
        self._connections_changed = trio.Event()
        self.matchmaker: Matchmaker | None = None  # set once running
        self.chat: ChatRelay | None = None
        self.relays: SpectatorRelays | None = None
        # Serving a recording instead of live rooms (gameserver replay FILE --serve).
        self.replay: ReplayDriver | None = None
        self.replay_room: RelayRoom | None = None
        if replay is not None:
            refusal = "this server replays a recorded match: watch it as a spectator"
            self.replay_room = RelayRoom("replay", config, self.metrics, player_refusal=refusal)
            self.replay = ReplayDriver(replay, self.replay_room, speed=replay_speed)
        self.web = WebSide(self)  # after the replay: it serves the replayed game's page
        # Each connection's room, and the room whose matchmaking seat it holds.
        self._membership: dict[Connection, Room | RelayRoom] = {}  # where it is now
        # Each connection's verified identity (with authentication on): FindMatch uses it.
        self._identities: dict[Connection, JoinClaims] = {}
        self._nursery: trio.Nursery | None = None
        self.handshake = Handshake(config, self)

    def spawn(self, function: Callable[..., Awaitable[object]], *args: object) -> None:
        """Run ``function(*args)`` in the server's nursery (work a tick must not wait for)."""
        if self._nursery is not None:
            self._nursery.start_soon(function, *args)

    @property
    def url(self) -> str:
        """The game WebSocket."""
        scheme = "ws" if self.tls is None else "wss"
        return f"{scheme}://{self.config.network.host}:{self.port}{self.config.network.path}"

    @property
    def http_url(self) -> str:
        """The HTTP side: the browser client at /, the monitor at /monitor."""
        scheme = "http" if self.tls is None else "https"
        return f"{scheme}://{self.config.network.host}:{self.port}/"

    @property
    def uptime_s(self) -> float:
        return trio.current_time() - self.started_at

    @property
    def admin_url(self) -> str:
        """The admin listener (plain HTTP), or "" without one."""
        if self._admin_listener is None:
            return ""
        return f"http://{self.config.admin.admin_host}:{self.admin_port}/"

    @property
    def http_connections(self) -> int:
        return sum(
            door.http_connections
            for door in (self._listener, self._admin_listener)
            if door is not None
        )

    async def run(
        self, *, task_status: trio.TaskStatus[GameServer] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve until cancelled. ``await nursery.start(server.run)`` returns once listening."""
        config = self.config
        self.started_at = trio.current_time()
        async with (
            open_directory(
                config.cluster.redis_url, prefix=config.cluster.directory_prefix
            ) as directory,
            trio.open_nursery() as nursery,
        ):
            self._nursery = nursery
            if self.auth is not None and self.auth.jwks_source is not None:
                await nursery.start(self.auth.jwks_source.run)
            self.matchmaker = Matchmaker(self, directory)
            self.chat = ChatRelay(self.rooms, self.metrics, directory)
            self.room_manager.on_chat = self.chat.say
            self.relays = SpectatorRelays(
                config, self.metrics, self.rooms, directory, on_chat=self.chat.say
            )
            self.room_manager.on_publish = self.relays.publish
            self.room_manager.on_find_match = self._find_match
            self.room_manager.on_seat_freed = self.matchmaker.leave_seat
            await nursery.start(self.room_manager.run)
            listener = (
                await trio.open_tcp_listeners(config.network.port, host=config.network.host)
            )[0]
            self._listener = FrontDoor(
                listener,
                park_websockets=self.transport == "fast",
                http=self._serve_http,
                metrics=self.metrics,
                head_timeout_s=config.limits.handshake_timeout_s,
                max_http_connections=config.web.max_http_connections,
                max_http_connections_per_address=config.web.max_http_connections_per_address,
                http_health_reserve=config.web.http_health_reserve,
                address_key=self._address_key,
                tls=self.tls,
            )
            if config.admin.admin_port is not None:
                # Operators only, so no TLS: keep it on loopback or a private network.
                admin = await trio.open_tcp_listeners(
                    config.admin.admin_port, host=config.admin.admin_host
                )
                self._admin_listener = FrontDoor(
                    admin[0],
                    park_websockets=False,
                    http=self._serve_admin_http,
                    metrics=self.metrics,
                    head_timeout_s=config.limits.handshake_timeout_s,
                    max_http_connections=config.web.max_http_connections,
                    max_http_connections_per_address=config.web.max_http_connections_per_address,
                    http_health_reserve=config.web.http_health_reserve,
                    address_key=self._address_key,
                    game=False,
                )
                self.admin_port = self._admin_listener.socket.getsockname()[1]
                nursery.start_soon(self._admin_listener.serve, nursery)
            websocket_server = WebSocketServer(
                self._handle,
                [self._listener],  # type: ignore[list-item]  # any trio Listener works
                handler_nursery=nursery,
                max_message_size=config.limits.max_message_bytes,
                connect_timeout=config.limits.handshake_timeout_s,
                disconnect_timeout=config.process.shutdown_timeout_s,
            )
            await nursery.start(websocket_server.run)
            nursery.start_soon(self._listener.serve, nursery)
            self.port = self._listener.socket.getsockname()[1]
            await nursery.start(self.matchmaker.run)
            await nursery.start(self.chat.run)
            await nursery.start(self.relays.run)
            if self.replay is not None and self.replay_room is not None:
                await nursery.start(self.replay_room.ticker.run)
                nursery.start_soon(self.replay.run)
            if config.stats.stats_file:
                nursery.start_soon(write_stats_forever, self, config.stats.stats_file)
            if self.auth is None:
                log.warning(
                    "development mode: no join secret (GAMESERVER_SECRET), "
                    "anyone may join under any name without a token"
                )
            if config.admin.admin_token is None and config.admin.admin_port is None:
                log.warning(
                    "operator routes (/metrics, /monitor, /monitor/events, /api/rooms) "
                    "are public on %s: "
                    "set GAMESERVER_ADMIN_TOKEN or --admin-port (docs/security.md)",
                    self.http_url,
                )
            if self.admin_url:
                log.info("operator routes at %s", self.admin_url)
            log.info(
                "listening on %s (subprotocol %s, %d Hz, seed %d); pages at %s",
                self.url,
                SUBPROTOCOL,
                config.rooms.tick_rate,
                self.seed,
                self.http_url,
            )
            task_status.started(self)

    def _address_key(self, host: str) -> str:
        return address_key(host, self.config.admission)

    async def _serve_http(
        self,
        stream: HandoverStream,
        connection: h11.Connection,
        request: h11.Request,
        keep_alive: bool,
        *,
        admin: bool = False,
    ) -> None:
        await serve_http(
            stream,
            connection,
            request,
            self.web.handle,
            post_paths=self.web.post_paths,
            metrics=self.metrics,
            idle_timeout_s=self.config.web.http_idle_timeout_s,
            request_timeout_s=self.config.web.http_request_timeout_s,
            send_timeout_s=self.config.limits.send_timeout_s,
            keep_alive=keep_alive,
            admin=admin,
        )

    async def _serve_admin_http(
        self,
        stream: HandoverStream,
        connection: h11.Connection,
        request: h11.Request,
        keep_alive: bool,
    ) -> None:
        await self._serve_http(stream, connection, request, keep_alive, admin=True)

    async def shutdown(self) -> None:
        """Drain for ``shutdown_timeout_s``, then return (the caller then stops ``run``).

        While draining the listeners stay open: new handshakes get HTTP 503 and /healthz
        answers 503 {"status": "draining"}, so a load balancer sees the node leave instead
        of finding its port closed. Every connection is closed with 1001 at once; the
        wait for their close frames is bounded by the same deadline.
        """
        self.draining = True
        deadline = trio.current_time() + self.config.process.shutdown_timeout_s
        log.info("shutting down: closing %d connection(s)", len(self.connections))
        for connection in list(self.connections):
            connection.close(CloseCode.GOING_AWAY, "server shutting down")
        with trio.move_on_at(deadline):
            while self.connections:
                self._connections_changed = trio.Event()
                await self._connections_changed.wait()
        await trio.sleep_until(deadline)  # still answering 503 until then

    async def _handle(self, request: WebSocketRequest) -> None:
        assert self._listener is not None
        stream = self._listener.claim(request.remote)
        try:
            await self._admit(request, stream)
        except (ConnectionClosed, trio.BrokenResourceError, trio.ClosedResourceError):
            # The peer went away during the handshake (accept or reject): nothing to serve,
            # and nothing may escape a handler, or the whole server stops.
            log.info("%s went away during the handshake", stream.remote)

    async def _admit(self, request: WebSocketRequest, stream: HandoverStream) -> None:
        refusal = self.handshake.refusal(request, stream.host)
        if refusal is not None:
            status, reason = refusal
            self.metrics.handshakes_rejected += 1
            log.info("%s refused with HTTP %d: %s", stream.remote, status, reason)
            await request.reject(status, body=f"{reason}\n".encode())
            return
        try:
            claims = self.handshake.credential(request)
        except TokenError as error:
            self.metrics.handshakes_rejected += 1
            self.metrics.refused_token += 1
            log.info("%s refused with HTTP %d: %s", stream.remote, error.status, error.reason)
            await request.reject(error.status, body=f"{error.reason}\n".encode())
            return
        try:
            room = await self.handshake.choose_room(request, claims)
            seated = await self.handshake.take_seat(request, claims, room)
        except RoomError as error:
            self.metrics.handshakes_rejected += 1
            if claims is not None:
                self.metrics.refused_token += 1
            log.info("%s refused with HTTP %d: %s", stream.remote, error.status, error.reason)
            await request.reject(error.status, body=f"{error.reason}\n".encode())
            return
        key = self.handshake.enter(stream.host)
        try:
            await self._serve_connection(request, stream, claims, room, seated)
        finally:
            self.handshake.leave(key)

    def _find_match(self, origin: Room, connection: Connection, request: FindMatch) -> None:
        self.spawn(self._match_and_move, origin, connection, request)

    async def _match_and_move(
        self, origin: Room, connection: Connection, request: FindMatch
    ) -> None:
        """Matchmaking on the WebSocket: answer Matched, then join here or send it on."""
        assert self.matchmaker is not None
        claims = self._identities.get(connection)
        name = claims.name if claims is not None else request.name  # the credential names it
        try:
            if claims is not None and claims.role is not Role.PLAYER:
                raise MatchError(403, "a spectator identity cannot take a seat")
            answer = await self.matchmaker.match(
                MatchRequest(
                    mode=request.mode,
                    name=name,
                    unreachable_room=request.unreachable_room or None,
                ),
                address=address_key(host_of(connection.remote), self.config.admission),
                identity=claims.subject if claims is not None else None,
            )
        except MatchError as error:
            if error.status == 429 and self.matchmaker.refused_before(connection):
                self.metrics.rate_limited += 1  # it keeps asking: as for any message flood
                connection.close(CloseCode.RATE_LIMITED, "too many match requests")
                return
            connection.send_control(encode(Error(ErrorCode.MATCH_FAILED, error.reason)))
            if not connection.closing and connection in self._membership:
                origin.attach(connection)  # it may Join here, or try again (same deadline)
            return
        room_id, url = str(answer["room"]), str(answer["url"])
        connection.send_control(encode(Matched(room_id, url)))
        room: Room | None = None
        if answer["node"] == self.matchmaker.node_id:
            try:
                room = await self.matchmaker.room_here(room_id)  # made as its player arrives
            except (DirectoryError, RoomError) as error:
                log.warning("%s: room %s not made: %s", connection.remote, room_id, error)
        if room is None:
            connection.close(CloseCode.NORMAL, "matched on another node: connect to its url")
            return
        try:
            taken = await self.matchmaker.take_seat(room_id, str(answer["seat"]))
        except DirectoryError:
            taken = False
        if connection.closing or connection not in self._membership:
            if taken:
                self.matchmaker.leave_seat(room_id)
            return
        origin.detach(connection)  # its join deadline stays behind: it joins at once there
        self._membership[connection] = room
        room.attach(connection, claims, join=Join(Role.PLAYER, name), seated=taken)

    async def _serve_connection(
        self,
        request: WebSocketRequest,
        stream: HandoverStream,
        claims: JoinClaims | None,
        room: Room | RelayRoom,
        seated: bool,
    ) -> None:
        # The newest version both sides speak; version 1 gets no game description.
        subprotocol = next(p for p in SUBPROTOCOLS if p in request.proposed_subprotocols)
        ws = await request.accept(subprotocol=subprotocol)
        connection: FastConnection | WsConnection
        if self.transport == "fast":
            stream.hand_over()
            connection = FastConnection(stream, self.config, self.metrics)
        else:
            connection = WsConnection(ws, self.config, self.metrics, remote=stream.remote)
            stream.meter_frames(FrameMeter(self.config, trio.current_time()), connection.refuse)
        connection.protocol_version = 1 if subprotocol == SUBPROTOCOL_V1 else PROTOCOL_VERSION
        self.connections.add(connection)
        self.metrics.connections_opened += 1
        self._membership[connection] = room
        if claims is not None and self.auth is not None:
            self._identities[connection] = claims
        room.attach(connection, claims, seated=seated)
        try:
            await connection.run()
        except Exception:
            self.metrics.internal_errors += 1
            log.exception("%s: unexpected error, closing with 1011", connection.remote)
            await connection.abort(CloseCode.INTERNAL_ERROR, "internal server error")
        finally:
            stream.release()
            room = self._membership.pop(connection)  # it may have moved (FindMatch)
            self._identities.pop(connection, None)
            room.detach(connection)  # a seat it took is given back when its player leaves
            self.connections.discard(connection)
            self.metrics.connections_closed += 1
            self._connections_changed.set()
