"""Recording a room's match without ever making its tick wait for a disk.

Theory of operation: ``RecordingHost`` is the room's ``GameHost`` that also notes, in
order, every call that changes the world (joins, leaves, drops and returns, inputs and
commands), and after each step the state hash and per-entity digests (every
``recording_hash_every_ticks`` ticks), and every ``recording_snapshot_every_s`` a
snapshot of the whole game (``GameHost.save()``), from which a replay can start. Each
step appends one encoded record (and now and then a snapshot) to the ``Recorder``'s
in-memory buffer, which is all the tick does. A task of
the room's own writes the buffer to the file (in a worker thread) every
``recording_flush_interval_s``. If the disk is so slow that the buffer reaches
``recording_buffer_bytes``, records are dropped, counted (``recording_dropped``), and
the gap is written into the recording itself, so a replay reports it rather than
silently skipping ticks. A snapshot that does not fit is skipped (and counted) without a
gap: the ticks are all there, a replay just has one starting point fewer. The format is
in ``gameserver/recording.py``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import trio

from gameserver.core import GameHost, HostedEvent
from gameserver.recording import (
    COMMAND,
    DISCONNECTED,
    INPUT,
    JOIN,
    LEAVE,
    RECONNECTED,
    entity_digests,
    gap_record,
    header,
    snapshot_record,
    tick_record,
)
from gameserver.rules import Player, Rules, StateError
from gameserver.server.metrics import Metrics

log = logging.getLogger(__name__)


class Recorder:
    def __init__(self, path: Path, *, max_buffer_bytes: int, flush_interval_s: float,
                 metrics: Metrics) -> None:  # fmt: skip
        self.path = path
        self.max_buffer_bytes = max_buffer_bytes
        self.flush_interval_s = flush_interval_s
        self.metrics = metrics
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._gap: tuple[int, int] | None = None  # ticks dropped since the last kept record
        self.records = 0

    def append_snapshot(self, data: bytes, tick: int) -> None:
        """Queue a snapshot record if it fits (after its tick's record, kept or not)."""
        if self._gap is not None or self._buffered + len(data) > self.max_buffer_bytes:
            self.metrics.recording_snapshots_dropped += 1
            log.warning("recording %s: no room for the snapshot at tick %d", self.path, tick)
            return
        self._chunks.append(data)
        self._buffered += len(data)

    def append(self, data: bytes, tick: int) -> None:
        """Queue one record (the tick calls this; it never blocks)."""
        if self._buffered + len(data) > self.max_buffer_bytes:
            self.metrics.recording_dropped += 1
            first = self._gap[0] if self._gap else tick
            self._gap = (first, tick)
            return
        if self._gap is not None:
            gap = gap_record(*self._gap)
            self._chunks.append(gap)
            self._buffered += len(gap)
            log.warning("recording %s lost ticks %d..%d (disk too slow)", self.path, *self._gap)
            self._gap = None
        self._chunks.append(data)
        self._buffered += len(data)
        self.records += 1

    async def run(self) -> None:
        """Write the buffer out until cancelled; then write what is left and close the file."""
        await trio.to_thread.run_sync(lambda: self.path.parent.mkdir(parents=True, exist_ok=True))
        file = await trio.to_thread.run_sync(self.path.open, "ab")
        try:
            while True:
                await trio.sleep(self.flush_interval_s)
                await self._flush(file)
        finally:
            with trio.CancelScope(shield=True):
                await self._flush(file)
                await trio.to_thread.run_sync(file.close)

    async def _flush(self, file: Any) -> None:
        if not self._chunks:
            return
        chunks, self._chunks, self._buffered = self._chunks, [], 0
        data = b"".join(chunks)

        def write() -> None:
            file.write(data)
            file.flush()

        await trio.to_thread.run_sync(write)
        self.metrics.recording_bytes += len(data)


def snapshot_every_ticks(every_s: float, tick_rate: int) -> int:
    """``recording_snapshot_every_s`` in ticks (0: no snapshots), at least one."""
    return 0 if every_s <= 0 else max(1, round(every_s * tick_rate))


class RecordingHost(GameHost):
    """A ``GameHost`` that records what is done to its game."""

    def __init__(
        self, rules: Rules[Any, Any], recorder: Recorder, *, tick_rate: int,
        hash_every_ticks: int, seed: int, room: str, mode: str, settings: object, game: str = "",
        snapshot_every_ticks: int = 0,
    ) -> None:  # fmt: skip
        super().__init__(rules, tick_rate=tick_rate)
        self._recorder = recorder
        self._hash_every = hash_every_ticks
        self._snapshot_every = snapshot_every_ticks  # 0: none
        self._ops: list[list[Any]] = []
        recorder.append(
            header(rules=rules.id, rules_version=rules.version, seed=seed, tick_rate=tick_rate,
                   settings=settings, room=room, mode=mode, game=game),
            rules.tick,
        )  # fmt: skip

    def join(self, player: Player) -> int:
        entity_id = super().join(player)
        self._ops.append([JOIN, player.id, player.name, entity_id, dict(player.claims)])
        return entity_id

    def leave(self, player_id: str) -> None:
        super().leave(player_id)
        self._ops.append([LEAVE, player_id])

    def disconnected(self, player_id: str) -> None:
        super().disconnected(player_id)
        self._ops.append([DISCONNECTED, player_id])

    def reconnected(self, player_id: str) -> None:
        super().reconnected(player_id)
        self._ops.append([RECONNECTED, player_id])

    def set_input(self, player_id: str, value: Any, view_tick: float | None = None) -> None:
        super().set_input(player_id, value, view_tick)
        assert self.schema.input is not None  # a value was decoded with it
        self._ops.append([INPUT, player_id, self.schema.input.to_wire(value), view_tick])

    def command(self, player_id: str, command: Any) -> None:
        super().command(player_id, command)
        self._ops.append([COMMAND, player_id, self.schema.commands.to_wire(command)])

    def step(self) -> list[HostedEvent]:
        events = super().step()
        tick = self.rules.tick
        state_hash = entities = None
        if tick % self._hash_every == 0:
            state_hash = self.rules.state_hash()
            entities = entity_digests(self.rules.wire_state(), has_text=self.schema.has_text)
        self._recorder.append(tick_record(tick, self._ops, state_hash, entities), tick)
        self._ops = []
        if self._snapshot_every and tick % self._snapshot_every == 0:
            self._snapshot(tick, state_hash)
        return events

    def _snapshot(self, tick: int, state_hash: str | None) -> None:
        try:
            game = self.save()
        except StateError as error:  # a game that holds what cannot be data: no snapshots
            log.error("recording %s carries no snapshots: %s", self._recorder.path, error)
            self._snapshot_every = 0
            return
        record = snapshot_record(tick, state_hash or self.rules.state_hash(), game)
        self._recorder.append_snapshot(record, tick)
