"""A relay room: a read-only room whose snapshots are made elsewhere, for spectators here.

Theory of operation. A ``RelayRoom`` is fed a stream of published snapshot messages
(``receive``): each a delta against the previous published one, and a keyframe (a full
snapshot, baseline 0, with the Welcome a spectator needs) every second. It serves its
local spectators with the room core's parts (``gameserver/core/relaying.py``), as a room
serves its own: ``RelayCore`` keeps the mirror of the world from the stream, admits
spectators only (players are refused with 1008 and told to join through matchmaking),
answers their Pings, limits their chat and refuses their inputs and commands. Once per
tick it delivers the newest state: a spectator in step with the stream gets the owner's
delta bytes as they are, encoded once for all of them; one that joined late or was
skipped (conflation) gets a full snapshot of the mirror, also encoded once per tick. The
relay never waits on a socket, like a room.

What stays here is trio's part: the clock and the ticker. A stream that breaks (a
message lost between nodes) leaves the mirror stale until the next keyframe. Two things
feed one: the cross-node spectator relays (``cluster/spectator_relays.py``), with another
node's room, and the replay driver (``replay.py``), with a recording.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import trio

from gameserver.config import Config
from gameserver.core import RelayCore
from gameserver.core.seams import Connection
from gameserver.server.metrics import Metrics
from gameserver.server.rooms.ticker import Ticker
from gameserver.tokens import JoinClaims

log = logging.getLogger(__name__)

STREAM_BACKLOG = 64  # stream messages a relay holds between two of its ticks


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
        self.ticker = Ticker(
            config.rooms.tick_rate, self.tick, max_ticks_behind=config.rooms.max_ticks_behind
        )
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

    def attach(
        self, connection: Connection, claims: JoinClaims | None = None, *, seated: bool = False
    ) -> None:
        """A new connection; its join token's claims are checked as a live room checks
        them (``seated`` does not matter: a relay holds no seats)."""
        self.core.attach(connection, trio.current_time(), claims)

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
