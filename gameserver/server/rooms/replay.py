"""Serving a recorded match to spectators: ``gameserver replay FILE --serve``.

Theory of operation: the recording is re-simulated (``gameserver/recording.py``) at
``speed`` times the tick rate, and each tick is turned into the same stream a live room
publishes for relays, by the same ``Publisher`` (``gameserver/core/publishing.py``): a
snapshot as a delta against the previous tick, and a keyframe with the Welcome every
second (the recording's events are not replayed to spectators). A ``RelayRoom``
(``relay_room.py``) serves that stream to spectators exactly as it serves a room on another
node, so the browser client (``/?spectate``) and ``gameserver spectate`` watch a replay
like a live match.
Seeking restores the newest snapshot at or before the wanted tick (from the start in a
recording without one, or when that snapshot does not restore to its recorded hash),
re-simulates from there up to the tick, and starts the stream again with a keyframe;
players are refused.
"""

from __future__ import annotations

import bisect
import logging
from pathlib import Path
from typing import Any

import cbor2
import trio

from gameserver.config import Config
from gameserver.core import EventHistory, GameHost
from gameserver.core.publishing import Publisher
from gameserver.recording import (
    GAP,
    SNAPSHOT,
    RecordingError,
    check_header,
    new_game,
    read_items,
    replay_tick,
    restore_game,
)
from gameserver.server.rooms.relay_room import RelayRoom

log = logging.getLogger(__name__)


class ReplayDriver:
    def __init__(self, path: Path, room: RelayRoom, *, speed: float) -> None:
        self.path = path
        self.room = room
        self.speed = speed
        with path.open("rb") as source:
            items = list(read_items(source))
        self.head = check_header(items[0] if items else None)
        self.ticks = [item for item in items[1:] if item and item[0] not in (GAP, SNAPSHOT)]
        self.snapshots = [item for item in items[1:] if item and item[0] == SNAPSHOT]
        self._tick_numbers = [item[0] for item in self.ticks]
        self.total_ticks = len(self.ticks)
        self.position = 0  # index of the next tick record to play
        self.paused = False
        self._wake = trio.Event()
        self._tick_rate: int = self.head["tick_rate"]
        self._game: GameHost = new_game(self.head)
        # The stream: every tick a snapshot (the Welcome says so), a keyframe every
        # tick_rate of them; no events.
        stream_config = Config.of(tick_rate=self._tick_rate)
        self._publisher = Publisher(self._game, stream_config, EventHistory(0))

    @property
    def game(self) -> GameHost:
        """The re-simulated game, at the last tick played."""
        return self._game

    def status(self) -> dict[str, Any]:
        return {
            "file": self.path.name,
            "tick": self.ticks[self.position - 1][0] if self.position else 0,
            "first_tick": self.ticks[0][0] if self.ticks else 0,
            "last_tick": self.ticks[-1][0] if self.ticks else 0,
            "speed": self.speed,
            "paused": self.paused,
            "finished": self.position >= self.total_ticks,
        }

    def seek(self, tick: int) -> None:
        """Jump to ``tick``: restore the newest snapshot before it, re-simulate from there
        (fast), then go on with a keyframe."""
        self._game, self.position = self._start_before(tick)
        while self.position < self.total_ticks and self.ticks[self.position][0] <= tick:
            replay_tick(self._game, self.ticks[self.position])
            self.position += 1
        self._publisher = Publisher(self._game, self._publisher.config, self._publisher.events)
        self._wake.set()  # the next snapshot is a keyframe: the stream starts again

    def _start_before(self, tick: int) -> tuple[GameHost, int]:
        """The game at the newest usable snapshot at or before ``tick`` (else at the
        start), and the index of the tick record to play next."""
        for snapshot in reversed(self.snapshots):
            if snapshot[1] > tick:
                continue
            try:
                game = restore_game(self.head, snapshot)
            except RecordingError as error:
                log.warning("replay %s: %s; seeking from an earlier point", self.path, error)
                continue
            return game, bisect.bisect_right(self._tick_numbers, snapshot[1])
        return new_game(self.head), 0

    def set_speed(self, speed: float) -> None:
        self.speed = speed
        self._wake.set()

    async def run(self) -> None:
        deadline = trio.current_time()
        while True:
            if self.position >= self.total_ticks or self.paused:
                self._wake = trio.Event()
                await self._wake.wait()
                deadline = trio.current_time()
                continue
            game = self._game
            replay_tick(game, self.ticks[self.position])  # --verify is for checking
            self.position += 1
            state = game.view_state(None, game.wire_state())  # what spectators see
            time_ms = round(game.tick * 1000 / game.tick_rate)  # the recording's clock
            snapshot, welcome = self._publisher.publish(game.tick, time_ms, state)
            self.room.receive(cbor2.dumps([snapshot, welcome or b""]))
            deadline += 1.0 / (self._tick_rate * self.speed)
            with trio.move_on_at(deadline):
                await self._wake.wait()  # a seek or a new speed interrupts the wait
            if self._wake.is_set():
                self._wake = trio.Event()
                deadline = trio.current_time()
