"""The core of a room watched from elsewhere: spectators served from a room's stream.

Theory of operation: a relay of a room on another node, and the room a replay plays
into, have no game here; their world is a ``StreamMirror`` of the stream the room (or
the replay) publishes. Everything else is the live room's: ``Admission`` takes
spectators only (a player's Join is closed with 1008 and ``player_refusal``; a
spectator's Join waits until the stream has brought a keyframe, within its join
deadline, else 1008 "no stream from the room in time"), and ``Intake`` answers Pings
(with the owner's clock), rate-limits chat and refuses inputs and commands, as for a
live room's spectators. Per tick a driver calls:

1. ``collect(now)``: pending connections are admitted or refused, joined ones' messages
   handled.
2. ``deliver(now)``: the stream messages that arrived are applied to the mirror; when
   any did and the mirror is usable, every spectator gets a snapshot. One in step with
   the stream (its baseline the mirror's previous tick) gets the owner's delta bytes as
   they are; any other (new, or skipped while still sending) the full mirror. Both are
   encoded once for all spectators. A spectator still sending is skipped (conflation)
   and starts again from a full snapshot.
"""

from __future__ import annotations

from gameserver.config import Config
from gameserver.tokens import JoinClaims

from .admission import Admission, SpectatorsOnly
from .intake import Intake
from .mirror import StreamMirror
from .room import RoomCounters
from .seams import Connection
from .session import Session

__all__ = ["RelayCore"]

# A relay does not know the watched game's input: spectators' inputs are decoded
# with protocol 1's arity (two fields), before they are refused.
SPECTATOR_INPUT_FIELDS = 2


class RelayCore:
    def __init__(
        self,
        name: str,
        config: Config,
        counters: RoomCounters,
        *,
        player_refusal: str,
        backlog: int,
    ) -> None:
        self.name = name
        self.counters = counters
        self.mirror = StreamMirror(name, backlog)
        only = SpectatorsOnly(player_refusal, self.mirror.greeting, SPECTATOR_INPUT_FIELDS)
        # Spectators get no resume token: the maker is never called.
        self.admission = Admission(
            name, None, config, counters, new_resume_token=str, spectators_only=only
        )
        self.admission.join_timeout_reason = "no stream from the room in time"
        self.sessions: dict[Connection, Session] = self.admission.sessions
        self.intake = Intake(None, config, counters, input_fields=SPECTATOR_INPUT_FIELDS)
        self.intake.chat_refusal = "chat: too many messages"

    def attach(self, connection: Connection, now: float, claims: JoinClaims | None = None) -> None:
        """A new connection; ``claims``: what its join token allows (a token for a player
        alone may not watch here, as in a live room)."""
        self.admission.attach(connection, now, claims)

    def detach(self, connection: Connection, now: float) -> None:
        self.admission.detach(connection, now)

    def receive(self, payload: bytes) -> None:
        """A message of the stream (kept until the next ``deliver``)."""
        self.mirror.receive(payload)

    def collect(self, now: float) -> None:
        time_ms = self.mirror.time_ms(now)  # pongs carry the owner's clock
        for session, messages in self.admission.admit(now, time_ms):
            self.intake.handle_all(session, messages, now, time_ms)
        self.intake.collect(self.sessions, now, time_ms)

    def deliver(self, now: float) -> None:
        mirror = self.mirror
        advance = mirror.advance(now)
        if advance is None or not mirror.tick or not self.sessions:
            return
        forwarded, previous_tick = advance.forwarded, advance.previous_tick
        full: bytes | None = None
        for session in self.sessions.values():
            connection = session.connection
            if connection.closing:
                continue
            baseline = session.baseline_tick
            if forwarded is not None and baseline == previous_tick and baseline:
                message = forwarded
            else:
                if full is None:
                    full = mirror.full_snapshot()
                message = full
            if connection.deliver(message):
                session.baseline_tick = mirror.tick
            else:
                session.baseline_tick = 0  # skipped: it starts again from a full snapshot
                self.counters.snapshots_skipped += 1
