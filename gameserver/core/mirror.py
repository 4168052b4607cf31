"""A mirror of a room's world kept from its spectator stream (``publishing.py``).

Theory of operation: a relay on another node, or a replay, receives the stream a room
publishes: per delivered snapshot one message, a delta against the previous one, and a
keyframe (baseline 0, with the Welcome a spectator needs) every second. Messages queue
as they arrive (at most ``backlog``; the oldest go) and are applied once per tick by
``advance``, in order:

- a keyframe replaces the mirror; a delta whose baseline is the mirror's tick applies
  to it; any other delta means a message was lost: the mirror is unusable (tick 0)
  until the next keyframe. A message that does not decode counts as lost too.
- The newest snapshot's ``server_time_ms`` is the owner's clock; pongs carry it,
  advanced by the time since it arrived, so they agree with the snapshots.
- When exactly one message arrived and it follows on from the mirror as it was
  (``forwarded``), spectators in step with the stream can be sent its bytes as they
  are; everyone else gets ``full_snapshot()``, the whole mirror.
"""

from __future__ import annotations

import collections
import logging

import attrs
import cbor2

from gameserver.protocol import (
    DeltaError,
    ProtocolError,
    Snapshot,
    Welcome,
    WireState,
    apply,
    decode_server_message,
    encode,
)

log = logging.getLogger(__name__)


@attrs.frozen
class Advance:
    """What one ``advance`` did: the stream's bytes to forward, and where they apply."""

    forwarded: bytes | None  # the one message that arrived in step, as published
    previous_tick: int  # the mirror's tick before (0: it was unusable)


class StreamMirror:
    def __init__(self, name: str, backlog: int) -> None:
        self.name = name
        self.welcome: Welcome | None = None  # the newest keyframe's
        self.state: WireState = {}
        self.tick = 0  # 0: no usable mirror (waiting for a keyframe)
        self.owner_time_ms = 0  # the owner's clock at the newest snapshot
        self._owner_time_at = 0.0  # our clock when that snapshot was applied
        self._stream: collections.deque[tuple[bytes, bytes | None]] = collections.deque(
            maxlen=backlog
        )

    def receive(self, payload: bytes) -> None:
        """One stream message: ``[snapshot, welcome or b""]`` in CBOR."""
        try:
            item = cbor2.loads(payload)
            snapshot, welcome = bytes(item[0]), (bytes(item[1]) if item[1] else None)
        except Exception:
            log.warning("relay %s: ignored a malformed stream message", self.name)
            return
        self._stream.append((snapshot, welcome))

    def time_ms(self, now: float) -> int:
        """The owner's clock at ``now`` (our clock), as far as the stream tells it."""
        if not self.owner_time_ms:
            return 0
        return self.owner_time_ms + round((now - self._owner_time_at) * 1000)

    def greeting(self, protocol_version: int) -> Welcome | None:
        """The Welcome for a spectator joining now; None until the mirror is usable."""
        if self.welcome is None or not self.tick:
            return None
        welcome = attrs.evolve(self.welcome, entity_id=0, tick=self.tick, resume="")
        if protocol_version < 2:  # version 1 has no game description
            welcome = attrs.evolve(welcome, protocol_version=1, schema=None)
        return welcome

    def advance(self, now: float) -> Advance | None:
        """Apply the messages that arrived since the last call; None when none did."""
        if not self._stream:
            return None
        forwarded: bytes | None = None
        previous_tick = self.tick
        while self._stream:
            data, welcome = self._stream.popleft()
            try:
                snapshot = decode_server_message(data)
                if welcome is not None:
                    decoded = decode_server_message(welcome)
                    if isinstance(decoded, Welcome):
                        self.welcome = decoded
                if not isinstance(snapshot, Snapshot):
                    continue
                if snapshot.baseline_tick == 0:
                    base: WireState = {}
                elif snapshot.baseline_tick == self.tick and self.tick:
                    base = self.state
                else:
                    self.tick = 0  # a gap: wait for the next keyframe
                    continue
                self.state = apply(base, snapshot.changes, snapshot.removed)
            except (ProtocolError, DeltaError):
                self.tick = 0
                continue
            in_step = forwarded is None and snapshot.baseline_tick == previous_tick
            forwarded = data if in_step else None
            self.tick = snapshot.tick
            self.owner_time_ms, self._owner_time_at = snapshot.server_time_ms, now
        return Advance(forwarded, previous_tick)

    def full_snapshot(self) -> bytes:
        """The whole mirror as one snapshot (baseline 0), for a spectator not in step."""
        return encode(
            Snapshot(
                tick=self.tick,
                baseline_tick=0,
                server_time_ms=self.owner_time_ms,
                ack_seq=0,
                changes=tuple((i, (1 << len(t)) - 1, *t) for i, t in self.state.items()),
                removed=(),
                events=(),
            )
        )
