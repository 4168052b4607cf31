"""A live room: the room core (``gameserver/core/room.py``) driven by a ticker, in trio.

Theory of operation: the ``Ticker`` calls ``tick()`` at absolute deadlines. A tick reads
``trio.current_time()`` and hands it to the core's phases (collect, step, deliver); the
core decides everything else and queues what to send on the connections, which move
the bytes themselves. What stays here is what needs trio or the rest of the server:
the clock, the resume tokens' randomness, the interest manager, a tick that raises
(the room stops and closes its connections with 1011, the process goes on), and the
hooks the server sets (matchmaking, chat, the end of a match, publishing for relays).
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable

import trio

from gameserver.config import Config
from gameserver.core import GameHost, RoomCore
from gameserver.core.seams import Connection
from gameserver.protocol import CloseCode, FindMatch, Join
from gameserver.server.metrics import Metrics
from gameserver.server.rooms.interest import Interest
from gameserver.server.rooms.ticker import Ticker
from gameserver.tokens import JoinClaims

log = logging.getLogger(__name__)

RESUME_TOKEN_BYTES = 18


def new_resume_token() -> str:
    """The secret a dropped player reclaims its entity with (docs/security.md)."""
    return secrets.token_urlsafe(RESUME_TOKEN_BYTES)


class Room:
    def __init__(self, name: str, game: GameHost, config: Config, metrics: Metrics) -> None:
        self.name = name
        self.game = game
        self.config = config
        self.metrics = metrics
        self.ticker = Ticker(
            config.rooms.tick_rate, self.tick, max_ticks_behind=config.rooms.max_ticks_behind
        )
        self.stopped = False  # a tick raised: the room no longer runs
        self.on_match_over: Callable[[str], None] | None = None  # (room id): result is set
        # Spectators on other nodes (relay.py): while watched, each snapshot is published
        # once as a delta against the previous one, with a keyframe every second.
        self.on_publish: Callable[[str, bytes, bytes | None], None] | None = None
        self.remote_watch_until = 0.0  # trio time; renewed by the relays' watch messages
        self._on_find_match: Callable[[Room, Connection, FindMatch], None] | None = None
        self.interest = self._interest_manager()
        self.core = RoomCore(
            name, game, config, metrics, new_resume_token=new_resume_token, interest=self.interest
        )
        self.sessions = self.core.sessions  # the same dict, for reading
        self.events = self.core.events

    def _interest_manager(self) -> Interest | None:
        game, config = self.game, self.config
        layout = game.schema.common_position_layout() if game.spatial else None
        if game.spatial and layout is None and config.interest.interest_management:
            log.warning(
                "room %s: interest management is off for game %s: its entity types do not "
                "all keep x and y at the same places with the same scale (docs/games.md)",
                self.name,
                game.name,
            )
        if not config.interest.interest_management or layout is None or game.has_views:
            return None
        return Interest(
            game.world_width,
            game.world_height,
            cell_size=config.interest.interest_cell_size,
            view_ring=config.interest.view_ring,
            inner_ring=config.interest.inner_ring,
            budget_bytes=config.interest.snapshot_budget_bytes,
            layout=layout,
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Tick until cancelled; a bug in a tick stops this room, not the process."""
        try:
            await self.ticker.run(task_status=task_status)
        except Exception:
            self.stopped = True
            self.metrics.rooms_crashed += 1
            log.exception(
                "room %s stopped: a tick raised; closing its connections with 1011", self.name
            )
            for connection in self.core.admission.connections():
                connection.close(
                    CloseCode.INTERNAL_ERROR, f"room {self.name} stopped: internal error"
                )

    # -- hooks the server sets ---------------------------------------------------------

    @property
    def on_find_match(self) -> Callable[[Room, Connection, FindMatch], None] | None:
        """(room, connection, request): a FindMatch instead of a Join (matchmaking.py)."""
        return self._on_find_match

    @on_find_match.setter
    def on_find_match(self, hook: Callable[[Room, Connection, FindMatch], None] | None) -> None:
        self._on_find_match = hook
        self.core.admission.on_find_match = None if hook is None else functools.partial(hook, self)

    @property
    def on_chat(self) -> Callable[[str, str], None] | None:
        """(sender name, text): a player's Say that passed its rate limit."""
        return self.core.intake.on_say

    @on_chat.setter
    def on_chat(self, hook: Callable[[str, str], None] | None) -> None:
        self.core.intake.on_say = hook

    @property
    def on_seat_freed(self) -> Callable[[], None] | None:
        """Called when a matchmaking seat confirmed in this room is free again."""
        return self.core.admission.on_seat_freed

    @on_seat_freed.setter
    def on_seat_freed(self, hook: Callable[[], None] | None) -> None:
        self.core.admission.on_seat_freed = hook

    # -- membership (called from connection handlers) -------------------------

    def attach(
        self,
        connection: Connection,
        claims: JoinClaims | None = None,
        join: Join | None = None,
        *,
        seated: bool = False,
    ) -> None:
        """A new connection; ``claims``: what its join token allows (None: no tokens in use).

        ``join``: the connection has joined already (matchmaking on the WebSocket moved it
        here): its Join is handled at the next tick, as if it had just arrived.
        ``seated``: it confirmed a matchmaking seat in this room (``on_seat_freed`` is
        called once the player it joins as leaves for good, or at once if it joins as none).
        """
        if self.stopped:
            connection.close(CloseCode.INTERNAL_ERROR, f"room {self.name} stopped: internal error")
            return
        self.core.attach(connection, trio.current_time(), claims, join, seated)

    def detach(self, connection: Connection) -> None:
        self.core.detach(connection, trio.current_time())

    def resumable(self, resume_token: str) -> tuple[str, str] | None:
        """(subject, name) of the player this resume token may reclaim, held or still connected."""
        return self.core.admission.resumable(resume_token)

    @property
    def player_count(self) -> int:
        """Players joined or held for a resume: the seats taken."""
        return self.core.admission.player_count

    @property
    def spectator_count(self) -> int:
        return self.core.admission.spectator_count

    @property
    def pending_count(self) -> int:
        """Connections that have not joined yet (they take no seat until they do)."""
        return self.core.admission.pending_count

    @property
    def is_empty(self) -> bool:
        return self.core.admission.is_empty

    def roster(self) -> list[tuple[int, str, bool, int | None]]:
        """(entity_id, name, connected, score) of every player, held ones too, by entity id."""
        return self.core.admission.roster()

    def broadcast(self, data: bytes) -> int:
        """Queue ``data`` (an encoded control message) to every joined connection; how many."""
        return self.core.broadcast(data)

    # -- one tick ----------------------------------------------------------------

    def tick(self) -> None:
        core = self.core
        now = trio.current_time()
        start = self.ticker.start_time
        core.collect(now, round((now - start) * 1000))
        if core.step():
            self._match_over()
        if core.snapshot_due:
            now = trio.current_time()  # the time a snapshot carries: when it was made
            publish = self.on_publish is not None and self.remote_watch_until > now
            published = core.deliver(round((now - start) * 1000), publish)
            if published is not None and self.on_publish is not None:
                self.on_publish(self.name, *published)

    def _match_over(self) -> None:
        result = self.game.result
        assert result is not None
        log.info("room %s: match over at tick %d: %s", self.name, self.game.tick, result.summary)
        self.metrics.matches_ended += 1
        if self.on_match_over is not None:
            self.on_match_over(self.name)
