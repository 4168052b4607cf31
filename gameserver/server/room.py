"""A room: one game world, its sessions, and what happens in one tick.

Theory of operation: ``tick()`` is synchronous and runs in three phases.

1. Collect: every connection's arrived messages are decoded by the strict
   decoder. A connection that has not joined yet may only send ``Join``;
   a joined player's input frames go to its bounded ``InputQueue``; pings are
   answered at once on the control queue. A protocol violation closes only
   that connection, with the close code the ``ProtocolError`` carries.
2. Step: each player contributes at most one frame (the previous one is
   repeated when none arrived), commands go in arrival order, and the game's
   rules step once through the room's ``GameHost`` (``gameserver/core/host.py``).
3. Deliver (every ``snapshot_divisor`` ticks): each connection gets the newest
   wire state as a delta against its own baseline, the last snapshot it
   accepted. Connections with the same baseline share one encoded body; all
   spectators with the same baseline share the whole message. A connection
   still sending its previous snapshot is skipped and keeps its baseline.
   A game with views (hidden information) gets one state per viewer instead,
   so nothing a viewer may not see is ever encoded for it; events marked
   private reach only the players they name.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

import attrs
import cbor2
import trio

from gameserver.config import Config
from gameserver.core import EventHistory, GameHost
from gameserver.protocol import (
    PROTOCOL_VERSION,
    CloseCode,
    Command,
    Error,
    ErrorCode,
    FindMatch,
    InputFrame,
    Join,
    Ping,
    Pong,
    ProtocolError,
    Role,
    Say,
    Welcome,
    WireState,
    decode_client_message,
    diff,
    encode,
    encode_snapshot_body,
    encode_uint,
    snapshot_prefix,
)
from gameserver.rules import Player
from gameserver.tokens import JoinClaims

from .inputs import InputQueue, PushResult
from .interest import Interest, InterestFrame
from .limits import TokenBucket
from .metrics import Metrics
from .session import EMPTY_STATE, Session
from .ticker import Ticker
from .transport import Connection

log = logging.getLogger(__name__)

# Close codes after which a player's entity is held for a resume: the connection was lost
# or stalled, as opposed to the client leaving (1000) or breaking the protocol.
HELD_AFTER = frozenset({None, 1001, 1006, 1011, CloseCode.SLOW_CONSUMER, CloseCode.IDLE_TIMEOUT})


@attrs.frozen
class _Held:
    entity_id: int
    subject: str  # join-token subject of its player ("" without tokens)
    deadline: float
    name: str
    player_id: str


class Room:
    def __init__(self, name: str, game: GameHost, config: Config, metrics: Metrics) -> None:
        self.name = name
        self.game = game
        self.config = config
        self.metrics = metrics
        self.ticker = Ticker(config.tick_rate, self.tick, max_ticks_behind=config.max_ticks_behind)
        self.sessions: dict[Connection, Session] = {}
        self._pending: dict[Connection, float] = {}  # connected, not joined yet -> deadline
        self._claims: dict[Connection, JoinClaims] = {}  # token claims of pending connections
        self._prejoined: dict[Connection, Join] = {}  # moved here by matchmaking, joined
        self._matching: dict[Connection, float] = {}  # sent FindMatch -> its join deadline
        # (room, connection, request): a FindMatch instead of a Join (matchmaking.py).
        self.on_find_match: Callable[[Room, Connection, FindMatch], None] | None = None
        self._held: dict[str, _Held] = {}  # resume token -> a dropped player's entity
        self._live: dict[str, Session] = {}  # resume token -> a connected player's session
        self.events = EventHistory(config.event_history_ticks)
        self._guests = 0  # player ids made for players without an identity
        self._idle_snapshot_ticks = max(
            1, round(config.idle_snapshot_interval_s * config.tick_rate)
        )
        self.player_count = 0
        self.spectator_count = 0
        self.stopped = False  # a tick raised: the room no longer runs
        self.on_chat: Callable[[str, str], None] | None = None  # (sender name, text)
        self.on_match_over: Callable[[str], None] | None = None  # (room id): result is set
        # Spectators on other nodes (relay.py): while watched, each snapshot is published
        # once as a delta against the previous one, with a keyframe every second.
        self.on_publish: Callable[[str, bytes, bytes | None], None] | None = None
        self.remote_watch_until = 0.0  # trio time; renewed by the relays' watch messages
        self._published_tick = 0
        self._published_state: WireState = EMPTY_STATE
        self._published_count = 0
        layout = game.schema.common_position_layout() if game.spatial else None
        if game.spatial and layout is None and config.interest_management:
            log.warning(
                "room %s: interest management is off for game %s: its entity types do not "
                "all keep x and y at the same places with the same scale (docs/games.md)",
                name,
                game.name,
            )
        self.interest = (
            Interest(
                game.world_width,
                game.world_height,
                cell_size=config.interest_cell_size,
                view_ring=config.view_ring,
                inner_ring=config.inner_ring,
                budget_bytes=config.snapshot_budget_bytes,
                layout=layout,
            )
            if config.interest_management and layout is not None and not game.has_views
            else None
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
            for connection in [*self._pending, *self._matching, *self.sessions]:
                connection.close(
                    CloseCode.INTERNAL_ERROR, f"room {self.name} stopped: internal error"
                )

    # -- membership (called from connection handlers) -------------------------

    def attach(
        self, connection: Connection, claims: JoinClaims | None = None, join: Join | None = None
    ) -> None:
        """A new connection; ``claims``: what its join token allows (None: no tokens in use).

        ``join``: the connection has joined already (matchmaking on the WebSocket moved it
        here): its Join is handled at the next tick, as if it had just arrived.
        """
        if self.stopped:
            connection.close(CloseCode.INTERNAL_ERROR, f"room {self.name} stopped: internal error")
            return
        deadline = self._matching.pop(connection, None)  # back from a failed FindMatch
        if deadline is None:
            deadline = trio.current_time() + self.config.join_timeout_s
        self._pending[connection] = deadline
        if claims is not None:
            self._claims[connection] = claims
        if join is not None:
            self._prejoined[connection] = join

    def detach(self, connection: Connection) -> None:
        self._pending.pop(connection, None)
        self._matching.pop(connection, None)
        self._prejoined.pop(connection, None)
        self._claims.pop(connection, None)
        session = self.sessions.pop(connection, None)
        if session is None:
            return
        self._live.pop(session.resume_token, None)
        if session.is_player and connection.close_code in HELD_AFTER:
            # Dropped, not left: keep the player (its rules are told) for a resume.
            self.game.disconnected(session.player_id)
            deadline = trio.current_time() + self.config.resume_grace_s
            self._held[session.resume_token] = _Held(
                session.entity_id, session.subject, deadline, session.name, session.player_id
            )
        elif session.is_player:
            self.player_count -= 1
            self.game.leave(session.player_id)
        else:
            self.spectator_count -= 1
        log.info(
            "%s left room %s (%s %r)",
            connection.remote,
            self.name,
            session.role.name.lower(),
            session.name,
        )

    def resumable(self, resume_token: str) -> tuple[str, str] | None:
        """(subject, name) of the player this resume token may reclaim, held or still connected."""
        held = self._held.get(resume_token)
        if held is not None:
            return held.subject, held.name
        session = self._live.get(resume_token)  # its old connection may not look lost yet
        return (session.subject, session.name) if session is not None else None

    @property
    def pending_count(self) -> int:
        """Connections that have not joined yet (they take no seat until they do)."""
        return len(self._pending) + len(self._matching)

    @property
    def is_empty(self) -> bool:
        return not (self.sessions or self._pending or self._matching or self._held)

    def roster(self) -> list[tuple[int, str, bool, int | None]]:
        """(entity_id, name, connected, score) of every player, held ones too, by entity id."""
        score = self.game.score
        players = [
            (s.entity_id, s.name, True, score(s.player_id))
            for s in self.sessions.values()
            if s.is_player
        ]
        players += [
            (held.entity_id, held.name, False, score(held.player_id))
            for held in self._held.values()
        ]
        return sorted(players, key=lambda player: (player[0], player[1]))

    # -- one tick ----------------------------------------------------------------

    def tick(self) -> None:
        if self._held:
            self._expire_held()
        self._collect()
        for session in self.sessions.values():
            if session.is_player:
                self._consume_input(session)
        over = self.game.result is not None
        events = self.game.step()
        tick = self.game.tick
        if not over and self.game.result is not None:
            self._match_over()
        self.events.add(tick, events)
        if tick % self.config.snapshot_divisor == 0:
            self._deliver(tick)

    def _match_over(self) -> None:
        result = self.game.result
        assert result is not None
        log.info("room %s: match over at tick %d: %s", self.name, self.game.tick, result.summary)
        self.metrics.matches_ended += 1
        if self.on_match_over is not None:
            self.on_match_over(self.name)

    def _take_over(self, resume_token: str) -> None:
        """A resume for a session whose connection still looks alive: that one is stale."""
        for connection, session in self.sessions.items():
            if session.resume_token == resume_token:
                connection.close(CloseCode.NORMAL, "replaced by a newer connection")
                del self.sessions[connection]
                del self._live[resume_token]
                deadline = trio.current_time() + self.config.resume_grace_s
                self._held[resume_token] = _Held(
                    session.entity_id, session.subject, deadline, session.name, session.player_id
                )
                return

    def _expire_held(self) -> None:
        now = trio.current_time()
        for token, held in list(self._held.items()):
            if now > held.deadline:
                del self._held[token]
                self.player_count -= 1
                self.game.leave(held.player_id)
                log.info(
                    "room %s: entity %d not resumed in time, removed", self.name, held.entity_id
                )

    def _collect(self) -> None:
        while self._prejoined:
            connection, join = self._prejoined.popitem()
            if self._pending.pop(connection, None) is not None:
                self._join(connection, join)
        if self._pending:
            now = trio.current_time()
            for connection, deadline in list(self._pending.items()):
                messages = connection.collect()
                for i, raw in enumerate(messages):
                    self._handle_pending(connection, raw)
                    if connection not in self._pending:
                        session = self.sessions.get(connection)
                        if session is not None:  # joined: what came right behind the join
                            self._handle_all(session, messages[i + 1 :])
                        break
                else:
                    if now > deadline and not connection.closing:
                        self._pending.pop(connection)
                        self._join_timed_out(connection)
        if self._matching:
            now = trio.current_time()
            for connection, deadline in list(self._matching.items()):
                if now > deadline and not connection.closing:
                    del self._matching[connection]
                    self._join_timed_out(connection)
        for connection, session in list(self.sessions.items()):
            self._handle_all(session, connection.collect())

    def _join_timed_out(self, connection: Connection) -> None:
        self.metrics.join_timeouts += 1
        log.warning("%s closed: no join message in time", connection.remote)
        connection.close(CloseCode.POLICY_VIOLATION, "no join message in time")

    def _handle_all(self, session: Session, messages: list[bytes | str]) -> None:
        for raw in messages:
            self._handle(session, raw)
            if session.connection.closing:
                break

    def _protocol_error(self, connection: Connection, error: ProtocolError) -> None:
        self.metrics.protocol_errors[error.code] += 1
        log.warning("%s protocol error, closing: %s", connection.remote, error)
        connection.close(error.code, error.reason)

    def _handle_pending(self, connection: Connection, raw: bytes | str) -> None:
        try:
            message = decode_client_message(
                raw, self.config.max_message_bytes, input_fields=self.game.input_fields
            )
            if isinstance(message, FindMatch) and self.on_find_match is not None:
                claims = self._claims.get(connection)
                if claims is not None and claims.room is not None:
                    raise ProtocolError(
                        CloseCode.POLICY_VIOLATION, "a token for one room cannot look for a match"
                    )
                self._matching[connection] = self._pending.pop(connection)
                self.on_find_match(self, connection, message)  # it moves to the room found
                return
            if not isinstance(message, Join):
                if isinstance(message, Ping):
                    self._pong(connection, message)
                    return
                raise ProtocolError(CloseCode.UNEXPECTED_MESSAGE, "the first message must be join")
        except ProtocolError as error:
            self._pending.pop(connection, None)
            self._protocol_error(connection, error)
            return
        del self._pending[connection]
        self._join(connection, message)

    def _join(self, connection: Connection, join: Join) -> None:
        config = self.config
        claims = self._claims.pop(connection, None)
        if claims is not None:
            if not claims.allows(join.role):
                self.metrics.protocol_errors[CloseCode.POLICY_VIOLATION] += 1
                wanted, allowed = join.role.name.lower(), claims.role.name.lower()
                reason = f"join as {wanted}: the token is for a {allowed}"
                log.warning("%s refused: %s", connection.remote, reason)
                connection.close(CloseCode.POLICY_VIOLATION, reason)
                return
            # The token names the player; admitted with ?resume=, the Join resumes that one.
            join = Join(join.role, claims.name, claims.resume or join.resume)
        subject = claims.subject if claims is not None else ""
        if join.resume and join.resume not in self._held:
            self._take_over(join.resume)  # the old connection may not be noticed as lost yet
        held = self._held.pop(join.resume, None) if join.resume else None
        if held is not None and (held.subject != subject or join.role is not Role.PLAYER):
            self._held[join.resume] = held  # not theirs to take
            held = None
        if join.resume and held is None:
            self.metrics.resumes_refused += 1
            reason = "resume token unknown or expired: joined as a new player"
            connection.send_control(encode(Error(ErrorCode.RESUME_REFUSED, reason)))
        player_id = ""
        if held is not None:
            entity_id = held.entity_id  # same entity, score and state; slot still counted
            player_id = held.player_id
            self.game.reconnected(player_id)
            self.metrics.resumes += 1
        elif join.role is Role.PLAYER:
            if self.player_count >= config.max_players_per_room:
                self.metrics.room_full += 1
                log.warning("%s refused: room %s is full (players)", connection.remote, self.name)
                connection.close(CloseCode.ROOM_FULL, "room is full (players)")
                return
            player_id = self._new_player_id(subject)
            identity = {"sub": subject, "roles": list(claims.roles)} if claims is not None else {}
            entity_id = self.game.join(Player(player_id, join.name, identity))
            self.player_count += 1
        else:
            if self.spectator_count >= config.max_spectators_per_room:
                self.metrics.room_full += 1
                log.warning(
                    "%s refused: room %s is full (spectators)", connection.remote, self.name
                )
                connection.close(CloseCode.ROOM_FULL, "room is full (spectators)")
                return
            entity_id = 0
            self.spectator_count += 1
        resume_token = secrets.token_urlsafe(18) if join.role is Role.PLAYER else ""
        session = self.sessions[connection] = Session(
            connection=connection,
            role=join.role,
            name=join.name,
            entity_id=entity_id,
            input_queue=InputQueue(config.input_queue_size),
            joined_tick=self.game.tick,
            resume_token=resume_token,
            subject=subject,
            player_id=player_id,
        )
        if resume_token:
            self._live[resume_token] = session
        version = connection.protocol_version
        connection.send_control(encode(self._welcome(entity_id, resume_token, version)))
        log.info(
            "%s joined room %s as %s %r (entity %d)",
            connection.remote,
            self.name,
            join.role.name.lower(),
            join.name,
            entity_id,
        )

    def _new_player_id(self, subject: str) -> str:
        """The identity's ``sub``, unique in this room; a guest id without an identity."""
        if not subject:
            self._guests += 1
            return f"guest-{self._guests}"
        player_id, n = subject, 1
        while player_id in self.game.players:  # the same identity twice: one id each
            n += 1
            player_id = f"{subject}#{n}"
        return player_id

    def _welcome(
        self, entity_id: int, resume_token: str, version: int = PROTOCOL_VERSION
    ) -> Welcome:
        return Welcome(
            protocol_version=version,
            entity_id=entity_id,
            tick_rate=self.config.tick_rate,
            snapshot_rate=self.config.snapshot_rate,
            world_width=round(self.game.world_width),
            world_height=round(self.game.world_height),
            tick=self.game.tick,
            game=self.game.name,
            params=self.game.client_params(),
            resume=resume_token,
            schema=self.game.describe() if version >= 2 else None,
        )

    def _handle(self, session: Session, raw: bytes | str) -> None:
        connection = session.connection
        value: object = None
        command: object = None
        try:
            message = decode_client_message(
                raw, self.config.max_message_bytes, input_fields=self.game.input_fields
            )
            kind = type(message)
            if kind is InputFrame and session.is_player:
                value = self.game.decode_input(message.fields)  # type: ignore[union-attr]
            elif kind is Command and session.is_player:
                command = self.game.decode_command(message.fields)  # type: ignore[union-attr]
        except ProtocolError as error:  # SchemaError too: 4002 naming the field
            self._protocol_error(connection, error)
            return
        if kind is InputFrame:
            assert isinstance(message, InputFrame)
            if self._spectator_refused(session, "input"):
                return
            tick = self.game.tick
            if session.inputs_tick != tick:
                session.inputs_tick, session.inputs_this_tick = tick, 0
            if session.inputs_this_tick >= self.config.max_inputs_per_tick:
                self.metrics.inputs_dropped_per_tick += 1
                return
            session.inputs_this_tick += 1
            result = session.input_queue.push(message, value)
            if result is PushResult.STALE:
                self.metrics.inputs_dropped_stale += 1
            elif result is PushResult.DISPLACED_OLDEST:
                self.metrics.inputs_dropped_queue_full += 1
        elif isinstance(message, Command):
            self._command(session, command)
        elif isinstance(message, Ping):
            self._pong(connection, message)
        elif isinstance(message, Say):
            self._say(session, message)
        else:
            self._protocol_error(
                connection, ProtocolError(CloseCode.UNEXPECTED_MESSAGE, "already joined")
            )

    def _spectator_refused(self, session: Session, what: str) -> bool:
        """A spectator's input or command: dropped, answered with Error 1, counted."""
        if session.is_player:
            return False
        self.metrics.spectator_inputs += 1
        reason = f"spectators cannot send {what}"
        session.connection.send_control(encode(Error(ErrorCode.SPECTATOR_INPUT, reason)))
        return True

    def _command(self, session: Session, command: object) -> None:
        connection = session.connection
        if self._spectator_refused(session, "commands"):
            return
        tick = self.game.tick
        if session.commands_tick != tick:
            session.commands_tick, session.commands_this_tick = tick, 0
        if session.commands_this_tick >= self.config.max_commands_per_tick:
            self.metrics.commands_dropped += 1
            reason = f"at most {self.config.max_commands_per_tick} commands per tick"
            connection.send_control(encode(Error(ErrorCode.COMMAND_DROPPED, reason)))
            return
        session.commands_this_tick += 1
        self.game.command(session.player_id, command)

    def _say(self, session: Session, say: Say) -> None:
        now = trio.current_time()
        if session.chat_bucket is None:
            session.chat_bucket = TokenBucket(
                self.config.chat_rate_per_s, self.config.chat_burst, now
            )
        if not session.chat_bucket.take(1, now):
            self.metrics.chat_rate_limited += 1
            reason = f"chat: at most {self.config.chat_rate_per_s:g} messages per second"
            session.connection.send_control(encode(Error(ErrorCode.CHAT_RATE_LIMITED, reason)))
            return
        if self.on_chat is not None:
            self.on_chat(session.name, say.text)

    def broadcast(self, data: bytes) -> int:
        """Queue ``data`` (an encoded control message) to every joined connection; how many."""
        for connection in self.sessions:
            connection.send_control(data)
        return len(self.sessions)

    def _pong(self, connection: Connection, ping: Ping) -> None:
        connection.send_control(encode(Pong(ping.nonce, self.server_time_ms())))

    def _consume_input(self, session: Session) -> None:
        """This tick's frame to the game; with none, the game repeats the previous one."""
        queued = session.input_queue.pop()
        if queued is None:
            return
        frame, value = queued
        session.ack_seq = frame.seq
        session.last_client_tick = frame.ack_tick
        view_tick = frame.view / 256 if frame.view else None
        self.game.set_input(session.player_id, value, view_tick)

    def server_time_ms(self) -> int:
        return round((trio.current_time() - self.ticker.start_time) * 1000)

    # -- deliver -------------------------------------------------------------------

    def _deliver(self, tick: int) -> None:
        if self.game.has_views or self.events.private:
            self._deliver_per_viewer(tick)
            return
        state = self.game.wire_state()
        time_ms = self.server_time_ms()
        prefixes: dict[int, bytes] = {}  # baseline tick -> the snapshot's first four items
        world_bodies: dict[int, bytes] = {}  # baseline tick -> whole-world body
        spectator_messages: dict[int, bytes] = {}  # baseline tick -> whole message
        event_bytes: dict[int, bytes] = {}  # baseline tick -> encoded events since then

        def prefix(baseline_tick: int) -> bytes:
            found = prefixes.get(baseline_tick)
            if found is None:
                found = prefixes[baseline_tick] = snapshot_prefix(tick, baseline_tick, time_ms)
            return found

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

        frame, steady_tick = self._interest_frame(tick, state)
        for session in self.sessions.values():
            connection = session.connection
            if connection.closing:
                continue
            centre = None
            if not session.is_player:
                message = spectator_messages.get(session.baseline_tick)
                if message is None:
                    body = world_body(session)
                    message = prefix(session.baseline_tick) + encode_uint(0) + body
                    spectator_messages[session.baseline_tick] = message
            elif frame is None:
                body = world_body(session)
                message = prefix(session.baseline_tick) + encode_uint(session.ack_seq) + body
            else:
                centre = frame.cell_of.get(session.entity_id, session.interest_centre or 0)
                previous = session.interest_centre
                if session.baseline_tick == steady_tick and previous is not None:
                    body = frame.body(centre, previous)
                    message = prefix(steady_tick) + encode_uint(session.ack_seq) + body
                else:  # joined or skipped: start the client from its full view
                    body = frame.full_body(centre, events_since(session.baseline_tick))
                    message = prefix(0) + encode_uint(session.ack_seq) + body
            if connection.deliver(message):
                session.baseline_tick = tick
                if centre is None:
                    session.baseline_state = state
                else:
                    session.interest_centre = centre
            else:
                self.metrics.snapshots_skipped += 1
        if self.on_publish is not None and self.remote_watch_until > trio.current_time():
            self._publish(tick, state, prefix)

    def _deliver_per_viewer(self, tick: int) -> None:
        """Hidden information: each player its own view and events; spectators share one."""
        game = self.game
        full = game.wire_state()
        time_ms = self.server_time_ms()
        spectator_state: WireState | None = None
        spectator_messages: dict[int, bytes | None] = {}  # baseline tick -> whole message
        for session in self.sessions.values():
            connection = session.connection
            if connection.closing:
                continue
            message: bytes | None
            if session.is_player:
                state = game.view_state(session.player_id, full)
                message = self._per_viewer_message(session, tick, time_ms, state)
            else:
                if spectator_state is None:
                    spectator_state = game.view_state(None, full)
                state = spectator_state
                if session.baseline_tick in spectator_messages:
                    message = spectator_messages[session.baseline_tick]
                else:
                    message = self._per_viewer_message(session, tick, time_ms, state)
                    spectator_messages[session.baseline_tick] = message
            if message is None:
                continue  # nothing new for it: quiet until something happens
            if connection.deliver(message):
                session.baseline_tick = tick
                session.baseline_state = state
                session.sent_ack_seq = session.ack_seq
            else:
                self.metrics.snapshots_skipped += 1
        if self.on_publish is not None and self.remote_watch_until > trio.current_time():
            if spectator_state is None:
                spectator_state = game.view_state(None, full)

            def prefix(baseline_tick: int) -> bytes:
                return snapshot_prefix(tick, baseline_tick, time_ms)

            self._publish(tick, spectator_state, prefix)

    def _per_viewer_message(
        self, session: Session, tick: int, time_ms: int, state: WireState
    ) -> bytes | None:
        """The connection's snapshot; None when it would say nothing new and one went out
        less than ``idle_snapshot_interval_s`` ago (a quiet table sends next to nothing)."""
        if session.interest_centre is not None:
            # Its last snapshot came through interest management, which keeps no
            # baseline state per connection: start it again from a full snapshot.
            session.baseline_tick, session.interest_centre = 0, None
        baseline = session.baseline_state if session.baseline_tick else EMPTY_STATE
        changes, removed = diff(baseline, state)
        player_id = session.player_id if session.is_player else None
        events = self.events.since(session.baseline_tick, tick, player_id)
        ack_seq = session.ack_seq if session.is_player else 0
        if (
            not (changes or removed or events)
            and session.baseline_tick
            and ack_seq == session.sent_ack_seq
            and tick - session.baseline_tick < self._idle_snapshot_ticks
        ):
            return None
        return (
            snapshot_prefix(tick, session.baseline_tick, time_ms)
            + encode_uint(ack_seq)
            + encode_snapshot_body(changes, removed, events)
        )

    def _publish(self, tick: int, state: WireState, prefix: Callable[[int], bytes]) -> None:
        """The spectator stream for relays on other nodes: one message per snapshot."""
        assert self.on_publish is not None
        previous_tick = self._published_tick
        keyframe = not previous_tick or self._published_count % self.config.tick_rate == 0
        baseline_tick = 0 if keyframe else previous_tick
        changes, removed = diff(EMPTY_STATE if keyframe else self._published_state, state)
        events = self.events.since(previous_tick, tick) if previous_tick else []
        message = prefix(baseline_tick) + encode_uint(0)
        message += encode_snapshot_body(changes, removed, events)
        self.on_publish(self.name, message, encode(self._welcome(0, "")) if keyframe else None)
        self._published_tick, self._published_state = tick, state
        self._published_count += 1

    def _interest_frame(self, tick: int, state: WireState) -> tuple[InterestFrame | None, int]:
        """This snapshot's shared interest data, and the tick a steady player's baseline is at."""
        interest = self.interest
        if interest is None or not self.player_count:
            return None, -1
        steady_tick = interest.prev_tick
        frame = interest.frame(tick, state, cbor2.dumps(self.events.since(steady_tick, tick)))
        return frame, steady_tick

    def _encode_body(self, session: Session, tick: int, state: WireState) -> bytes:
        baseline = session.baseline_state if session.baseline_tick else EMPTY_STATE
        changes, removed = diff(baseline, state)
        return encode_snapshot_body(
            changes, removed, self.events.since(session.baseline_tick, tick)
        )
