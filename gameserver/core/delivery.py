"""Delivery: the newest snapshot to every joined connection, encoded as little as possible.

Theory of operation: each connection keeps a baseline, the last snapshot it accepted
(``Session.baseline_tick`` and ``baseline_state``; tick 0: none, a new joiner). Every
snapshot is a delta against that baseline and carries the events since it
(``EventHistory``), so a connection that was skipped misses nothing. A connection still
sending its previous snapshot refuses the next (``deliver`` returns False): it keeps its
baseline and the refusal is counted (conflation). One of three strategies is used:

1. Shared bodies (no views, no interest management): connections with the same
   baseline get the same encoded body; spectators with the same baseline share the
   whole message, since it carries no per-connection ack.
2. Interest-managed (a spatial game with ``interest_management``, whenever a player is
   in): spectators as in 1. A player whose baseline is the previous snapshot gets the
   interest tick's shared delta body for its old and new cell; any other (new, or skipped)
   starts again from a full view of its cell (baseline 0), with the events it missed.
   Such a player keeps its cell instead of a baseline state.
3. Per viewer (a game with views, or private events in the history): each player gets
   its own view and the events it may see; spectators share one. Nothing a viewer may
   not see is encoded for it. A viewer whose snapshot would say nothing new (no change,
   no event, no new ack) is sent nothing, unless ``idle_snapshot_interval_s`` passed
   since its last one: a quiet table costs next to no traffic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import cbor2

from gameserver.config import Config
from gameserver.protocol import (
    WireState,
    diff,
    encode_snapshot_body,
    encode_uint,
    snapshot_prefix,
)

from .events import EventHistory
from .host import GameHost
from .seams import Connection
from .session import EMPTY_STATE, Session


class DeliveryCounters(Protocol):
    snapshots_skipped: int  # conflation: the connection still had a snapshot in flight


class InterestTick(Protocol):
    """One snapshot's interest-managed bodies (``gameserver/server/rooms/interest.py``)."""

    cell_of: dict[int, int]  # entity id -> its cell

    def body(self, centre: int, prev_centre: int) -> bytes: ...

    def full_body(self, centre: int, events: bytes) -> bytes: ...


class InterestManager(Protocol):
    prev_tick: int  # tick of the previous snapshot built

    def for_tick(self, tick: int, state: WireState, events: bytes) -> InterestTick: ...


class _Prefixes(dict[int, bytes]):
    """One snapshot's first four items by baseline tick, each encoded once however many
    connections share that baseline (looked up per connection: a plain subscript)."""

    def __init__(self, tick: int, time_ms: int) -> None:
        super().__init__()
        self.tick, self.time_ms = tick, time_ms

    def __missing__(self, baseline_tick: int) -> bytes:
        found = self[baseline_tick] = snapshot_prefix(self.tick, baseline_tick, self.time_ms)
        return found


class Delivery:
    def __init__(
        self,
        game: GameHost,
        events: EventHistory,
        config: Config,
        counters: DeliveryCounters,
        interest: InterestManager | None = None,
    ) -> None:
        self.game = game
        self.events = events
        self.counters = counters
        self.interest = interest
        self.idle_snapshot_ticks = max(
            1, round(config.rooms.idle_snapshot_interval_s * config.rooms.tick_rate)
        )
        # The last delivery's whole-world bodies by baseline tick (empty after one per
        # viewer). Each is against the state delivered at its baseline tick, which is what
        # this returned then (without views, every viewer's state is the whole world), so
        # the publisher's delta for the same tick is one of them (``publishing.py``).
        self.world_bodies: dict[int, bytes] = {}

    def deliver(
        self,
        sessions: Mapping[Connection, Session],
        tick: int,
        time_ms: int,
        player_count: int,
        want_spectator_state: bool = False,
    ) -> WireState | None:
        """This tick's snapshot to every connection; ``time_ms``: the server time it carries.

        Returns the world as spectators see it: always when one was made on the way,
        else only ``want_spectator_state`` (for publishing).
        """
        if self.game.has_views or self.events.private:
            self.world_bodies = {}
            return self._deliver_per_viewer(sessions, tick, time_ms, want_spectator_state)
        state = self.game.wire_state()
        prefix = _Prefixes(tick, time_ms)
        world_bodies: dict[int, bytes] = {}  # baseline tick -> whole-world body
        self.world_bodies = world_bodies
        spectator_messages: dict[int, bytes] = {}  # baseline tick -> whole message
        event_bytes: dict[int, bytes] = {}  # baseline tick -> encoded events since then

        def events_since(baseline_tick: int) -> bytes:
            found = event_bytes.get(baseline_tick)
            if found is None:
                found = cbor2.dumps(self.events.since(baseline_tick, tick))
                event_bytes[baseline_tick] = found
            return found

        def world_body(session: Session) -> bytes:
            body = world_bodies.get(session.baseline_tick)
            if body is None:
                body = world_bodies[session.baseline_tick] = self._encode_body(session, tick, state)
            return body

        shared, steady_tick = self._interest_tick(tick, state, player_count)
        for session in sessions.values():
            connection = session.connection
            if connection.closing:
                continue
            centre = None
            if not session.is_player:
                message = spectator_messages.get(session.baseline_tick)
                if message is None:
                    body = world_body(session)
                    message = prefix[session.baseline_tick] + encode_uint(0) + body
                    spectator_messages[session.baseline_tick] = message
            elif shared is None:
                body = world_body(session)
                message = prefix[session.baseline_tick] + encode_uint(session.ack_seq) + body
            else:
                centre = shared.cell_of.get(session.entity_id, session.interest_centre or 0)
                previous = session.interest_centre
                if session.baseline_tick == steady_tick and previous is not None:
                    body = shared.body(centre, previous)
                    message = prefix[steady_tick] + encode_uint(session.ack_seq) + body
                else:  # joined or skipped: start the client from its full view
                    body = shared.full_body(centre, events_since(session.baseline_tick))
                    message = prefix[0] + encode_uint(session.ack_seq) + body
            if connection.deliver(message):
                session.baseline_tick = tick
                if centre is None:
                    session.baseline_state = state
                else:
                    session.interest_centre = centre
            else:
                self.counters.snapshots_skipped += 1
        return state

    def _deliver_per_viewer(
        self,
        sessions: Mapping[Connection, Session],
        tick: int,
        time_ms: int,
        want_spectator_state: bool,
    ) -> WireState | None:
        """Hidden information: each player its own view and events; spectators share one."""
        game = self.game
        full = game.wire_state()
        spectator_state: WireState | None = None
        spectator_messages: dict[int, bytes | None] = {}  # baseline tick -> whole message
        prefix = _Prefixes(tick, time_ms)
        for session in sessions.values():
            connection = session.connection
            if connection.closing:
                continue
            message: bytes | None
            if session.is_player:
                state = game.view_state(session.player_id, full)
                message = self._per_viewer_message(session, prefix, state)
            else:
                if spectator_state is None:
                    spectator_state = game.view_state(None, full)
                state = spectator_state
                if session.baseline_tick in spectator_messages:
                    message = spectator_messages[session.baseline_tick]
                else:
                    message = self._per_viewer_message(session, prefix, state)
                    spectator_messages[session.baseline_tick] = message
            if message is None:
                continue  # nothing new for it: quiet until something happens
            if connection.deliver(message):
                session.baseline_tick = tick
                session.baseline_state = state
                session.sent_ack_seq = session.ack_seq
            else:
                self.counters.snapshots_skipped += 1
        if want_spectator_state and spectator_state is None:
            spectator_state = game.view_state(None, full)
        return spectator_state

    def _per_viewer_message(
        self, session: Session, prefix: _Prefixes, state: WireState
    ) -> bytes | None:
        """The connection's snapshot; None when it would say nothing new and one went out
        less than ``idle_snapshot_interval_s`` ago (a quiet table sends next to nothing)."""
        if session.interest_centre is not None:
            # Its last snapshot came through interest management, which keeps no
            # baseline state per connection: start it again from a full snapshot.
            session.baseline_tick, session.interest_centre = 0, None
        tick = prefix.tick
        baseline = session.baseline_state if session.baseline_tick else EMPTY_STATE
        changes, removed = diff(baseline, state)
        player_id = session.player_id if session.is_player else None
        events = self.events.since(session.baseline_tick, tick, player_id)
        ack_seq = session.ack_seq if session.is_player else 0
        if (
            not (changes or removed or events)
            and session.baseline_tick
            and ack_seq == session.sent_ack_seq
            and tick - session.baseline_tick < self.idle_snapshot_ticks
        ):
            return None
        return (
            prefix[session.baseline_tick]
            + encode_uint(ack_seq)
            + encode_snapshot_body(changes, removed, events)
        )

    def _interest_tick(
        self, tick: int, state: WireState, player_count: int
    ) -> tuple[InterestTick | None, int]:
        """This snapshot's shared interest data, and the tick a steady player's baseline is at."""
        interest = self.interest
        if interest is None or not player_count:
            return None, -1
        steady_tick = interest.prev_tick
        shared = interest.for_tick(tick, state, cbor2.dumps(self.events.since(steady_tick, tick)))
        return shared, steady_tick

    def _encode_body(self, session: Session, tick: int, state: WireState) -> bytes:
        baseline = session.baseline_state if session.baseline_tick else EMPTY_STATE
        changes, removed = diff(baseline, state)
        return encode_snapshot_body(
            changes, removed, self.events.since(session.baseline_tick, tick)
        )
