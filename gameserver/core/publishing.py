"""Publishing: the spectator stream that relays on other nodes serve.

The relays are ``gameserver/server/cluster/spectator_relays.py``.

Theory of operation: while another node watches the room, each snapshot the room
delivers is published once, as a spectator sees it: a delta against the previous one
published, with the events since it. The first message, and every ``tick_rate``-th
after it (a second apart when every tick is delivered), is a keyframe: a full snapshot
(baseline 0) with the Welcome a spectator needs, so a relay that starts watching, or
lost a message, can begin there. When the watching stops and starts again, the stream
goes on from the previous message published, keyframes counted as before.
"""

from __future__ import annotations

from collections.abc import Mapping

from gameserver.config import Config
from gameserver.protocol import (
    WireState,
    diff,
    encode,
    encode_snapshot_body,
    encode_uint,
    snapshot_prefix,
)

from .events import EventHistory
from .host import GameHost
from .session import EMPTY_STATE
from .welcome import welcome

_NONE: Mapping[int, bytes] = {}


class Publisher:
    def __init__(self, game: GameHost, config: Config, events: EventHistory) -> None:
        self.game = game
        self.config = config
        self._tick_rate = config.rooms.tick_rate  # read every tick
        self.events = events
        self.tick = 0  # of the previous message published (0: none yet)
        self.state: WireState = EMPTY_STATE  # what that message brought a spectator to
        self.count = 0  # messages published

    def publish(
        self,
        tick: int,
        time_ms: int,
        state: WireState,
        bodies: Mapping[int, bytes] = _NONE,
    ) -> tuple[bytes, bytes | None]:
        """This tick's message for ``state`` (the spectators' world), and on a keyframe the
        encoded Welcome to go with it (None otherwise).

        ``bodies``: snapshot bodies of ``state`` already encoded this tick, by baseline tick,
        each against the state this publisher was given at that tick and with the public
        events since it (``Delivery.world_bodies``); a delta is taken from there if found.
        """
        previous_tick = self.tick
        keyframe = not previous_tick or self.count % self._tick_rate == 0
        baseline_tick = 0 if keyframe else previous_tick
        message = snapshot_prefix(tick, baseline_tick, time_ms) + encode_uint(0)
        body = None if keyframe else bodies.get(previous_tick)
        if body is None:
            changes, removed = diff(EMPTY_STATE if keyframe else self.state, state)
            events = self.events.since(previous_tick, tick) if previous_tick else []
            body = encode_snapshot_body(changes, removed, events)
        message += body
        greeting = encode(welcome(self.game, self.config, 0, "")) if keyframe else None
        self.tick, self.state = tick, state
        self.count += 1
        return message, greeting
