"""Global chat and announcements, fanned out to every node through the directory's pub/sub.

Theory of operation: a player's Say is checked in the tick (rate limit per connection)
and handed to ``ChatRelay.say``, which publishes it on the directory's ``chat`` channel
from a task of its own, so the tick never waits for Redis. Every node, this one
included, subscribes to that channel and delivers each message to every connection of
every room as a Chat message (one encoding per message, queued on each connection's
bounded control queue). Announcements (``POST /api/announce``) take the same path with
the announcement channel. Delivery is at most once, like Redis pub/sub: a node that is
cut off from Redis misses what is said meanwhile, and re-subscribes when it can.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import cbor2
import trio

from gameserver.protocol import CHAT_MAX_CHARS, NAME_MAX_CHARS, Chat, ChatChannel, encode
from gameserver.server.cluster.directory import Directory, DirectoryError
from gameserver.server.cluster.pubsub import listen

if TYPE_CHECKING:
    from gameserver.server.metrics import Metrics
    from gameserver.server.rooms.room import Room

log = logging.getLogger(__name__)

CHAT_CHANNEL = "chat"
OUTBOX_SIZE = 1024  # Says waiting to be published; beyond it they are dropped and counted


class ChatRelay:
    def __init__(self, rooms: Mapping[str, Room], metrics: Metrics, directory: Directory) -> None:
        self.rooms = rooms  # the live rooms of this node, delivered to
        self.directory = directory
        self.metrics = metrics
        # One publisher drains this in order, so what one player says arrives in order.
        self._outbox_in, self._outbox_out = trio.open_memory_channel[tuple[str, str]](OUTBOX_SIZE)

    def say(self, sender: str, text: str) -> None:
        """A player said ``text`` (already validated): publish it without blocking."""
        try:
            self._outbox_in.send_nowait((sender, text))
        except trio.WouldBlock:
            self.metrics.chat_failed += 1
            return
        self.metrics.chat_messages += 1

    async def _publish_outbox(self) -> None:
        async for sender, text in self._outbox_out:
            await self.publish(ChatChannel.GLOBAL, sender, text)

    async def publish(self, channel: int, sender: str, text: str) -> bool:
        try:
            await self.directory.publish(CHAT_CHANNEL, cbor2.dumps([channel, sender, text]))
        except DirectoryError as error:
            self.metrics.chat_failed += 1
            log.warning("chat not sent: %s", error)
            return False
        return True

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Publish what is said here and deliver what any node publishes, until cancelled."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._publish_outbox)
            await nursery.start(listen, self.directory, CHAT_CHANNEL, self._deliver)
            task_status.started()

    def _deliver(self, payload: bytes) -> None:
        try:
            channel, sender, text = cbor2.loads(payload)
            message = Chat(int(channel), str(sender)[:NAME_MAX_CHARS], str(text)[:CHAT_MAX_CHARS])
        except Exception:  # another node's bug must not stop this one's chat
            log.warning("ignored a malformed chat payload of %d bytes", len(payload))
            return
        data = encode(message)
        for room in list(self.rooms.values()):
            self.metrics.chat_delivered += room.broadcast(data)
