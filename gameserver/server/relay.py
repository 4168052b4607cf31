"""Watching a room on another node: the room publishes its spectator stream once, relays fan it out.

Theory of operation. A spectator asks any node for ``?room=ID``. When the directory
says the room lives on another node, this node makes (or reuses) a ``RelayRoom`` for
it, which:

- subscribes to the room's stream (pub/sub channel ``spectate:ID``), and announces
  on the ``watch`` channel, every ``WATCH_RENEW_S``, that it is watching. The owning
  room publishes only while such announcements keep arriving, so unwatched rooms cost
  nothing;
- keeps a mirror of the world from the stream. The owner publishes each snapshot once,
  as a delta against the previous published one, and a keyframe (a full snapshot,
  baseline 0, with the Welcome a spectator needs) every second;
- serves its local spectators with the room core's parts (``gameserver/core/relaying.py``),
  as a room serves its own: ``RelayCore`` keeps the mirror of the world from the
  stream, admits spectators only (players are refused with 1008 and told to join
  through matchmaking), answers their Pings, limits their chat and refuses their
  inputs and commands. Once per tick it delivers the newest state: a spectator in step
  with the stream gets the owner's delta bytes as they are, encoded once for all of
  them; one that joined late or was skipped (conflation) gets a full snapshot of the
  mirror, also encoded once per tick. The relay never waits on a socket, like a room.

What stays here is trio's part: the clock, the ticker, the subscription and the watch.
A stream that breaks (a message lost between nodes) leaves the mirror stale until the
next keyframe. A relay with no connection for ``empty_room_grace_s`` closes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import cbor2
import trio

from gameserver.config import Config
from gameserver.core import RelayCore
from gameserver.protocol import CloseCode

from .directory import Directory, DirectoryError
from .metrics import Metrics
from .pubsub import listen
from .ticker import Ticker
from .transport import Connection

if TYPE_CHECKING:
    from .app import GameServer

log = logging.getLogger(__name__)

WATCH_CHANNEL = "watch"
WATCH_RENEW_S = 1.0  # relays renew their watch this often...
WATCH_TTL_S = 3.0  # ...and an owner publishes for this long after the last renewal
OUTBOX_SIZE = 256  # published messages waiting for the directory; beyond: dropped, counted
STREAM_BACKLOG = 64  # stream messages a relay holds between two of its ticks


def stream_channel(room_id: str) -> str:
    return f"spectate:{room_id}"


class RelayRoom:
    """A read-only copy of a room on another node, for spectators connected here."""

    def __init__(
        self, room_id: str, config: Config, metrics: Metrics, *, player_refusal: str = ""
    ) -> None:
        self.name = room_id
        self.player_refusal = (
            player_refusal or f"room {room_id} is on another node: join it through matchmaking"
        )
        self.config = config
        self.metrics = metrics
        self.ticker = Ticker(config.tick_rate, self.tick, max_ticks_behind=config.max_ticks_behind)
        self.core = RelayCore(
            room_id, config, metrics, player_refusal=self.player_refusal, backlog=STREAM_BACKLOG
        )
        self.on_chat: Callable[[str, str], None] | None = None
        # Chat from a relay's spectators goes out under one name, whatever they joined as.
        self.core.intake.on_say = lambda _name, text: self._say(text)
        self.stopped = False
        self.player_count = 0

    # -- the Room-like surface the server uses ----------------------------------------

    @property
    def spectator_count(self) -> int:
        return self.core.admission.spectator_count

    @property
    def is_empty(self) -> bool:
        return self.core.admission.is_empty

    def attach(self, connection: Connection, claims: object = None) -> None:
        """A new connection (a join token's claims do not matter: spectators only)."""
        self.core.attach(connection, trio.current_time())

    def detach(self, connection: Connection) -> None:
        self.core.detach(connection, trio.current_time())

    def close_all(self, code: int, reason: str) -> None:
        for connection in self.core.admission.connections():
            connection.close(code, reason)

    def receive(self, payload: bytes) -> None:
        """A stream message from the owner (called by the subscriber task)."""
        self.core.receive(payload)

    def tick(self) -> None:
        now = trio.current_time()
        self.core.collect(now)
        self.core.deliver(now)

    def _say(self, text: str) -> None:
        if self.on_chat is not None:
            self.on_chat("spectator", text)


class SpectatorRelays:
    """This node's side of cross-node spectating: publishing its rooms, relaying others'."""

    def __init__(self, server: GameServer, directory: Directory) -> None:
        self.server = server
        self.directory = directory
        self.metrics = server.metrics
        self.relays: dict[str, RelayRoom] = {}
        self._outbox_in, self._outbox_out = trio.open_memory_channel[tuple[str, bytes]](OUTBOX_SIZE)
        self._nursery: trio.Nursery | None = None

    def publish(self, room_id: str, snapshot: bytes, welcome: bytes | None) -> None:
        """A watched room's snapshot (called from its tick): queue it, never wait."""
        payload = cbor2.dumps([snapshot, welcome or b""])
        try:
            self._outbox_in.send_nowait((room_id, payload))
        except trio.WouldBlock:
            self.metrics.relay_dropped += 1

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            nursery.start_soon(self._publish_outbox)
            await nursery.start(listen, self.directory, WATCH_CHANNEL, self._watched)
            task_status.started()

    async def _publish_outbox(self) -> None:
        async for room_id, payload in self._outbox_out:
            try:
                await self.directory.publish(stream_channel(room_id), payload)
            except DirectoryError:
                self.metrics.relay_dropped += 1

    def _watched(self, payload: bytes) -> None:
        """A relay somewhere watches one of our rooms: keep publishing its stream."""
        room = self.server.rooms.get(payload.decode(errors="replace"))
        if room is not None:
            room.remote_watch_until = trio.current_time() + WATCH_TTL_S

    async def relay_for(self, room_id: str) -> RelayRoom:
        """The relay of a room on another node, made (and subscribed) on first use."""
        relay = self.relays.get(room_id)
        if relay is not None:
            return relay
        assert self._nursery is not None
        relay = RelayRoom(room_id, self.server.config, self.metrics)
        chat = self.server.chat
        relay.on_chat = chat.say if chat is not None else None
        self.relays[room_id] = relay
        await self._nursery.start(self._run_relay, relay)
        return relay

    async def _run_relay(
        self, relay: RelayRoom, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        try:
            async with (
                self.directory.subscribe(stream_channel(relay.name)) as stream,
                trio.open_nursery() as nursery,
            ):
                await nursery.start(relay.ticker.run)
                nursery.start_soon(self._watch, relay, nursery.cancel_scope)
                task_status.started()
                async for payload in stream:
                    relay.receive(payload)
        except DirectoryError as error:
            log.warning("relay of room %s ended: %s", relay.name, error)
        finally:
            relay.stopped = True
            self.relays.pop(relay.name, None)
            relay.close_all(CloseCode.GOING_AWAY, f"relay of room {relay.name} ended")

    async def _watch(self, relay: RelayRoom, scope: trio.CancelScope) -> None:
        """Tell the owner we watch; end the relay once nobody has watched for a while."""
        empty_since: float | None = None
        while True:
            now = trio.current_time()
            if relay.is_empty:
                empty_since = empty_since if empty_since is not None else now
                if now - empty_since >= self.server.config.empty_room_grace_s:
                    scope.cancel()
                    return
            else:
                empty_since = None
            try:
                await self.directory.publish(WATCH_CHANNEL, relay.name.encode())
            except DirectoryError as error:
                log.warning("relay of room %s cannot renew its watch: %s", relay.name, error)
            await trio.sleep(WATCH_RENEW_S)
