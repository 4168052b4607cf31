"""The room core: one game world and its connections, one tick at a time, without I/O.

Theory of operation: a driver (``gameserver/server/rooms/room.py`` for a live room) calls
three phases per tick, giving each the time it needs; nothing here reads a clock,
sleeps or touches a socket. Connections are met only through the ``Connection``
protocol (``seams.py``): the core takes what each one received and queues what it
should send.

1. ``collect(now, time_ms)``: held players past their grace leave (``Admission``);
   connections that have not joined are admitted or refused; every joined connection's
   messages are decoded into inputs, commands, pongs and chat (``Intake``).
2. ``step()``: each player's Input for this tick goes to the game (the previous one is
   repeated when none arrived), the rules step once through the ``GameHost``, and the
   tick's events join the ``EventHistory``. True when the match ended at this step.
3. ``deliver(time_ms, publish)``, on ticks where ``snapshot_due``: every connection
   gets its snapshot (``Delivery``); with ``publish``, the spectator stream for other
   nodes is made too (``Publisher``) and returned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from gameserver.config import Config
from gameserver.protocol import Join
from gameserver.tokens import JoinClaims

from .admission import Admission, AdmissionCounters
from .delivery import Delivery, DeliveryCounters, InterestManager
from .events import EventHistory
from .host import GameHost
from .intake import Intake, IntakeCounters
from .publishing import Publisher
from .seams import Connection
from .session import Session

__all__ = ["RoomCore", "RoomCounters"]


class RoomCounters(AdmissionCounters, IntakeCounters, DeliveryCounters, Protocol):
    """Every counter the room core counts in (the server's ``Metrics`` has them all)."""


class RoomCore:
    def __init__(
        self,
        name: str,
        game: GameHost,
        config: Config,
        counters: RoomCounters,
        *,
        new_resume_token: Callable[[], str],
        interest: InterestManager | None = None,
    ) -> None:
        self.name = name
        self.game = game
        self.config = config
        self.events = EventHistory(config.rooms.event_history_ticks)
        self.admission = Admission(name, game, config, counters, new_resume_token=new_resume_token)
        self.sessions: dict[Connection, Session] = self.admission.sessions
        self.intake = Intake(game, config, counters)
        self.delivery = Delivery(game, self.events, config, counters, interest)
        self.publisher = Publisher(game, config, self.events)
        self._snapshot_divisor = config.rooms.snapshot_divisor

    # -- membership --------------------------------------------------------------------

    def attach(
        self,
        connection: Connection,
        now: float,
        claims: JoinClaims | None = None,
        join: Join | None = None,
        seated: bool = False,
    ) -> None:
        self.admission.attach(connection, now, claims, join, seated)

    def detach(self, connection: Connection, now: float) -> None:
        self.admission.detach(connection, now)

    def broadcast(self, data: bytes) -> int:
        """Queue ``data`` (an encoded control message) to every joined connection; how many."""
        for connection in self.sessions:
            connection.send_control(data)
        return len(self.sessions)

    # -- one tick ----------------------------------------------------------------------

    def collect(self, now: float, time_ms: int) -> None:
        admission, intake = self.admission, self.intake
        if admission.held:
            admission.expire(now)
        for session, messages in admission.admit(now, time_ms):
            intake.handle_all(session, messages, now, time_ms)
        intake.collect(self.sessions, now, time_ms)

    def step(self) -> bool:
        """Advance the world one tick; True when its match ended at this step."""
        self.intake.feed(self.sessions)
        game = self.game
        over = game.result is not None
        events = game.step()
        self.events.add(game.tick, events)
        return not over and game.result is not None

    @property
    def snapshot_due(self) -> bool:
        """Whether the tick just stepped is one that is delivered."""
        return self.game.tick % self._snapshot_divisor == 0

    def deliver(self, time_ms: int, publish: bool = False) -> tuple[bytes, bytes | None] | None:
        """Snapshots to every connection; with ``publish``, the spectator stream's message
        for this tick and, on a keyframe, the encoded Welcome that goes with it."""
        tick = self.game.tick
        spectator_state = self.delivery.deliver(
            self.sessions, tick, time_ms, self.admission.player_count, publish
        )
        if not publish or spectator_state is None:
            return None
        return self.publisher.publish(tick, time_ms, spectator_state, self.delivery.world_bodies)
