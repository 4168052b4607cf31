"""Watching a room on another node: the room publishes its spectator stream once, relays fan it out.

Theory of operation. A spectator asks any node for ``?room=ID``. When the directory
says the room lives on another node, this node makes (or reuses) a relay room
(``rooms/relay_room.py``) for it, which subscribes to the room's stream (pub/sub channel
``spectate:ID``) and announces on the ``watch`` channel, every ``WATCH_RENEW_S``, that it
is watching. The owning room publishes only while such announcements keep arriving, so
unwatched rooms cost nothing. A relay with no connection for ``empty_room_grace_s``
closes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import cbor2
import trio

from gameserver.config import Config
from gameserver.protocol import CloseCode
from gameserver.server.cluster.directory import Directory, DirectoryError
from gameserver.server.cluster.pubsub import listen
from gameserver.server.metrics import Metrics
from gameserver.server.rooms.relay_room import RelayRoom

if TYPE_CHECKING:
    from gameserver.server.rooms.room import Room

log = logging.getLogger(__name__)

WATCH_CHANNEL = "watch"
WATCH_RENEW_S = 1.0  # relays renew their watch this often...
WATCH_TTL_S = 3.0  # ...and an owner publishes for this long after the last renewal
OUTBOX_SIZE = 256  # published messages waiting for the directory; beyond: dropped, counted


def stream_channel(room_id: str) -> str:
    return f"spectate:{room_id}"


class SpectatorRelays:
    """This node's side of cross-node spectating: publishing its rooms, relaying others'."""

    def __init__(
        self,
        config: Config,
        metrics: Metrics,
        rooms: Mapping[str, Room],
        directory: Directory,
        *,
        on_chat: Callable[[str, str], None] | None = None,
    ) -> None:
        self.config = config
        self.metrics = metrics
        self.rooms = rooms  # this node's live rooms, which relays elsewhere may watch
        self.directory = directory
        self.on_chat = on_chat  # what a relayed spectator says goes to the global chat
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
        room = self.rooms.get(payload.decode(errors="replace"))
        if room is not None:
            room.remote_watch_until = trio.current_time() + WATCH_TTL_S

    async def relay_for(self, room_id: str) -> RelayRoom:
        """The relay of a room on another node, made (and subscribed) on first use."""
        relay = self.relays.get(room_id)
        if relay is not None:
            return relay
        assert self._nursery is not None
        relay = RelayRoom(room_id, self.config, self.metrics)
        relay.on_chat = self.on_chat
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
                if now - empty_since >= self.config.rooms.empty_room_grace_s:
                    scope.cancel()
                    return
            else:
                empty_since = None
            try:
                await self.directory.publish(WATCH_CHANNEL, relay.name.encode())
            except DirectoryError as error:
                log.warning("relay of room %s cannot renew its watch: %s", relay.name, error)
            await trio.sleep(WATCH_RENEW_S)
