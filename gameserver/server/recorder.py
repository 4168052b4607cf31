"""Recording a room's match without ever making its tick wait for a disk.

Theory of operation: ``RecordingGame`` stands between a room and its game. It passes
every call through, and notes what changes the world: joins and leaves in order, the
inputs applied before each step, and after each step the state hash and per-entity
digests (every ``recording_hash_every_ticks`` ticks). Each step appends one encoded
record to the ``Recorder``'s in-memory buffer, which is all the tick does. A task of
the room's own writes the buffer to the file (in a worker thread) every
``recording_flush_interval_s``. If the disk is so slow that the buffer reaches
``recording_buffer_bytes``, records are dropped, counted (``recording_dropped``), and
the gap is written into the recording itself, so a replay reports it rather than
silently skipping ticks. The format is in ``gameserver/recording.py``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import trio

from gameserver.recording import (
    JOIN,
    LEAVE,
    entity_digests,
    gap_record,
    header,
    tick_record,
)
from gameserver.sim.arena import Arena
from gameserver.sim.game import Event

from .metrics import Metrics

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


class RecordingGame:
    """A ``Game`` that records what is done to it; everything else passes through."""

    def __init__(
        self, game: Arena, recorder: Recorder, *, hash_every_ticks: int, seed: int, room: str,
        mode: str,
    ) -> None:  # fmt: skip
        self._game = game
        self._recorder = recorder
        self._hash_every = hash_every_ticks
        self._ops: list[list[Any]] = []
        self._inputs: list[list[Any]] = []
        self._previous_inputs: list[list[Any]] | None = None
        recorder.append(
            header(rules=game.name, seed=seed, tick_rate=game.tick_rate, settings=game.settings,
                   room=room, mode=mode),
            game.tick,
        )  # fmt: skip

    def __getattr__(self, name: str) -> Any:  # name, tick, wire_state, state_hash, ...
        return getattr(self._game, name)

    def join(self, name: str) -> int:
        entity_id = self._game.join(name)
        self._ops.append([JOIN, entity_id, name])
        return entity_id

    def leave(self, entity_id: int) -> None:
        self._game.leave(entity_id)
        self._ops.append([LEAVE, entity_id])

    def apply_input(
        self, entity_id: int, buttons: int, aim: int, view_tick: float | None = None
    ) -> None:
        self._game.apply_input(entity_id, buttons, aim, view_tick)
        entry: list[Any] = [entity_id, buttons, aim]
        self._inputs.append(entry if view_tick is None else [*entry, view_tick])

    def step(self) -> list[Event]:
        game = self._game
        events = game.step()
        tick = game.tick
        inputs: list[list[Any]] | None = self._inputs
        if inputs == self._previous_inputs:
            inputs = None  # "the same calls as the previous tick"
        else:
            self._previous_inputs = self._inputs
        state_hash = entities = None
        if tick % self._hash_every == 0:
            state_hash = game.state_hash()
            entities = entity_digests(game.wire_state())
        self._recorder.append(tick_record(tick, self._ops, inputs, state_hash, entities), tick)
        self._ops, self._inputs = [], []
        return events
