"""Many rooms in one process: made on demand by mode, private ones by code, closed when empty.

Theory of operation: the manager owns a nursery; each room runs in a task of
its own there, with its ticker, so rooms tick independently. A room ends in
one of three ways, and is then forgotten (``rooms`` no longer lists it):

- it stayed empty (no player, spectator, pending or held connection) for
  ``empty_room_grace_s``, or at all once its match is over: its task is
  cancelled. The permanent ``default`` room closes only the second way, and a
  fresh ``default`` room, for the next match, replaces it at once;
- a tick raised: the room closed its connections with 1011 and stopped
  (``Room.run``); a fresh ``default`` room replaces a crashed one at once;
- the server stops.

Making a room never blocks a tick: it happens in a connection handler (or
the HTTP side) and only starts a task.

Who may enter which room: a ``?mode=`` join takes a free seat (a seat is a joined
player; a connection that has not joined takes none) in a public room of the mode
that it made itself, never in a room matchmaking made (``matchmade``: its seats are
promised to the players who booked them) nor in a private room (reached by its code).
"""

from __future__ import annotations

import functools
import logging
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trio

from gameserver.config import Config, Mode
from gameserver.core import GameHost
from gameserver.core.seams import Connection
from gameserver.errors import Refusal
from gameserver.protocol import FindMatch
from gameserver.rules import Rules
from gameserver.rules.loading import load_rules, make_settings
from gameserver.server.metrics import Metrics
from gameserver.server.rooms.modes import DEFAULT_MODE, all_modes, resolved, room_config
from gameserver.server.rooms.recorder import Recorder, RecordingHost, snapshot_every_ticks
from gameserver.server.rooms.room import Room

log = logging.getLogger(__name__)

DEFAULT_ROOM = "default"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 6
EMPTY_CHECK_INTERVAL_S = 1.0


class RoomError(Refusal):
    """A room could not be found or made; ``status`` is the HTTP status to answer with."""


class RoomManager:
    def __init__(self, config: Config, metrics: Metrics, *, seed: int) -> None:
        self.metrics = metrics
        # Each mode's rules class and settings, loaded and checked now: a game that cannot
        # be found or a setting it does not have stops the start, not the first room. A
        # mode's tick rate and seats left to the game are filled in from its rules class.
        self.modes: dict[str, Mode] = {}
        self.games: dict[str, tuple[type[Rules[Any, Any]], object]] = {}
        for name, mode in all_modes(config).items():
            rules = load_rules(mode.game.game)
            self.games[name] = (rules, make_settings(rules, mode.game.game_settings))
            self.modes[name] = resolved(mode, rules)
        # The server's settings with the default room's tick rate and seats, as it runs.
        self.config = room_config(config, self.modes[DEFAULT_MODE])
        self.rooms: dict[str, Room] = {}  # the live ones, by id
        self.room_modes: dict[str, str] = {}  # room id -> mode name
        self.private_codes: dict[str, str] = {}  # code -> room id
        self._private_rooms: set[str] = set()  # ids of the rooms in private_codes
        self.matchmade: set[str] = set()  # rooms matchmaking made: their seats are booked
        self._seed = seed
        self._rooms_made = 0
        self._nursery: trio.Nursery | None = None
        self.on_closed: list[Callable[[str], None]] = []  # called with a room id
        self.on_match_over: list[Callable[[str], None]] = []  # likewise: no new players
        self._finished: set[str] = set()  # rooms closing because their match is over
        self.on_chat: Callable[[str, str], None] | None = None  # given to every room
        self.on_publish: Callable[[str, bytes, bytes | None], None] | None = None  # likewise
        self.on_find_match: Callable[[Room, Connection, FindMatch], None] | None = None
        # (room id): a matchmaking seat confirmed in it is free again (its player left).
        self.on_seat_freed: Callable[[str], None] | None = None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await self.create(DEFAULT_MODE, room_id=DEFAULT_ROOM)
            task_status.started()
            await trio.sleep_forever()

    # -- finding rooms ------------------------------------------------------------

    def mode(self, name: str) -> Mode:
        mode = self.modes.get(name)
        if mode is None:
            known = ", ".join(sorted(self.modes))
            raise RoomError(404, f"no mode named {name!r} (modes: {known})")
        return mode

    def get(self, room_id: str) -> Room:
        room = self.rooms.get(room_id)
        if room is None or room.stopped:
            raise RoomError(404, f"no room {room_id!r} on this server")
        return room

    async def default_room(self) -> Room:
        room = self.rooms.get(DEFAULT_ROOM)
        if room is None or room.stopped:  # the last one crashed: start afresh
            room = await self.create(DEFAULT_MODE, room_id=DEFAULT_ROOM)
        return room

    def by_code(self, code: str) -> Room:
        room_id = self.private_codes.get(code.upper())
        if room_id is None:
            raise RoomError(404, "no private room with that code")
        return self.get(room_id)

    def is_private(self, room_id: str) -> bool:
        return room_id in self._private_rooms

    def register_private(self, code: str, room_id: str) -> None:
        """``room_id`` is reached by ``code`` (and is listed to nobody but operators)."""
        self.private_codes[code.upper()] = room_id
        self._private_rooms.add(room_id)

    def free_seats(self, room: Room) -> int:
        return room.config.rooms.max_players_per_room - room.player_count

    async def join_or_create(self, mode_name: str) -> Room:
        """A public room of the mode with a free seat, the fullest first; else a new one.

        Rooms made by matchmaking are left out: their free seats are promised.
        """
        self.mode(mode_name)
        candidates = [
            room
            for room_id, room in self.rooms.items()
            if self.room_modes.get(room_id) == mode_name
            and room_id not in self._private_rooms
            and room_id not in self.matchmade
            and not room.stopped
            and room.game.result is None  # a match that is over takes nobody new
            and self.free_seats(room) > 0
        ]
        if candidates:
            return min(candidates, key=self.free_seats)
        return await self.create(mode_name)

    async def create_private(self, mode_name: str) -> tuple[Room, str]:
        """A new room only reachable by its code."""
        room = await self.create(mode_name)
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if code not in self.private_codes:
                break
        self.register_private(code, room.name)
        return room, code

    # -- making and closing rooms ----------------------------------------------------

    async def create(self, mode_name: str, *, room_id: str | None = None) -> Room:
        mode = self.mode(mode_name)
        if len(self.rooms) >= self.config.rooms.max_rooms:
            self.metrics.rooms_refused += 1
            raise RoomError(
                503, f"this server holds its maximum of {self.config.rooms.max_rooms} rooms"
            )
        if room_id is None:
            room_id = f"{mode_name}-{secrets.token_hex(3)}"
        if room_id in self.rooms:
            return self.rooms[room_id]
        assert self._nursery is not None, "RoomManager.run() first"
        config = room_config(self.config, mode)
        self._rooms_made += 1
        seed = (self._seed + self._rooms_made - 1) % 2**32
        rules_class, settings = self.games[mode_name]
        rules = rules_class(settings, seed, tick_rate=config.rooms.tick_rate)
        game = GameHost(rules, tick_rate=config.rooms.tick_rate)
        recorder = None
        if mode.record or self.config.recording.record_all:
            stamp = time.strftime("%Y%m%dT%H%M%S")
            recorder = Recorder(
                Path(self.config.recording.recordings_dir) / f"{room_id}-{stamp}.rec",
                max_buffer_bytes=self.config.recording.recording_buffer_bytes,
                flush_interval_s=self.config.recording.recording_flush_interval_s,
                metrics=self.metrics,
            )
            game = RecordingHost(
                rules, recorder, tick_rate=config.rooms.tick_rate,
                hash_every_ticks=self.config.recording.recording_hash_every_ticks,
                seed=seed, room=room_id, mode=mode_name, settings=settings, game=mode.game.game,
                snapshot_every_ticks=snapshot_every_ticks(
                    self.config.recording.recording_snapshot_every_s, config.rooms.tick_rate
                ),
            )  # fmt: skip
            log.info("room %s is recorded to %s", room_id, recorder.path)
        room = Room(room_id, game, config, self.metrics)
        room.on_chat = self.on_chat
        room.on_match_over = self._match_over
        room.on_publish = self.on_publish
        room.on_find_match = self.on_find_match
        if self.on_seat_freed is not None:
            room.on_seat_freed = functools.partial(self.on_seat_freed, room_id)
        self.rooms[room_id] = room
        self.room_modes[room_id] = mode_name
        await self._nursery.start(self._room_task, room, room_id != DEFAULT_ROOM, recorder)
        self.metrics.rooms_opened += 1
        log.info("room %s opened (mode %s, seed %d)", room_id, mode_name, seed)
        return room

    def _match_over(self, room_id: str) -> None:
        for callback in self.on_match_over:
            callback(room_id)

    async def _room_task(
        self,
        room: Room,
        closes_when_empty: bool,
        recorder: Recorder | None,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        try:
            async with trio.open_nursery() as nursery:
                if recorder is not None:
                    nursery.start_soon(recorder.run)

                async def tick_until_stopped(
                    *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
                ) -> None:
                    await room.run(task_status=task_status)
                    nursery.cancel_scope.cancel()  # returns only after a tick raised

                await nursery.start(tick_until_stopped)
                task_status.started()
                nursery.start_soon(
                    self._close_when_empty, room, nursery.cancel_scope, closes_when_empty
                )
        finally:
            self._forget(room)

    async def _close_when_empty(
        self, room: Room, scope: trio.CancelScope, closes_when_empty: bool
    ) -> None:
        """Close ``room`` once empty for the grace period, or once empty after its match:
        a finished match has nothing to wait for (the default room waits only for this)."""
        empty_since: float | None = None
        while True:
            await trio.sleep(EMPTY_CHECK_INTERVAL_S)
            now = trio.current_time()
            if not room.is_empty:
                empty_since = None
            elif room.game.result is not None:
                log.info("room %s closed: its match is over and everyone has left", room.name)
                self._finished.add(room.name)
                scope.cancel()
                return
            elif not closes_when_empty:
                continue
            elif empty_since is None:
                empty_since = now
            elif now - empty_since >= self.config.rooms.empty_room_grace_s:
                log.info("room %s closed: empty for %.0f s", room.name, now - empty_since)
                scope.cancel()
                return

    def _forget(self, room: Room) -> None:
        room_id = room.name
        if self.rooms.get(room_id) is not room:
            return  # already replaced (a crashed default room)
        del self.rooms[room_id]
        self.room_modes.pop(room_id, None)
        if room_id in self._private_rooms:
            self._private_rooms.discard(room_id)
            for code, private_id in list(self.private_codes.items()):
                if private_id == room_id:
                    del self.private_codes[code]
        self.metrics.rooms_closed += 1
        for callback in self.on_closed:
            callback(room_id)
        self.matchmade.discard(room_id)
        finished = room_id in self._finished
        self._finished.discard(room_id)
        if room_id == DEFAULT_ROOM and (room.stopped or finished) and self._nursery is not None:
            self._nursery.start_soon(self.default_room)  # crashed or finished: a fresh one
