"""Admission: who is in a room, from a connection's first message to its player's leaving.

Theory of operation: a connection is in one of these states.

- pending: attached, not joined yet; it must join by its deadline (``join_timeout_s``
  after it arrived). Its only messages may be ``Join``, ``Ping`` (answered) and, with
  matchmaking on the WebSocket, ``FindMatch``; anything else closes it with the code
  the ``ProtocolError`` carries, and silence past the deadline with 1008.
- matching: it sent ``FindMatch``; the ``on_find_match`` hook takes it from here and
  either moves it to the room found or attaches it here again (same deadline).
- prejoined: matchmaking moved it here with its ``Join`` made already: it joins at the
  next ``admit``, as if that Join had just arrived.
- joined: it has a ``Session``; a player holds a seat (``max_players_per_room``), a
  spectator a spectator's place. A join token's claims decide the role it may take and
  the name it gets.
- held: a player whose connection was lost (a close code in ``HELD_AFTER``, not a
  goodbye) keeps its entity and its seat for ``resume_grace_s`` under its resume token.
  A Join with that token, from the same token subject, takes it back; anyone else gets
  an Error and joins as a new player. A Join naming the token of a player whose
  connection still looks alive takes that player over: the old connection is likely
  stale (a phone that changed networks), so it is closed and the new one resumes.
  A held player not resumed by its deadline leaves the game.

A spectators-only room (``SpectatorsOnly``: a relay of a room on another node, or a
replay) has no game of its own. A Join as a player closes the connection with 1008 and
the room's ``player_refusal``; a spectator's Join waits, pending, until the room has a
Welcome to give (``greeting``: the relay's stream has started), within its deadline;
it is looked at after the connection's messages of that tick. Meanwhile only Pings are
answered; anything else closes the connection.

Time comes in as ``now`` (seconds, any origin); resume tokens come from the
``new_resume_token`` the driver gives, so that tests can make them predictable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

import attrs

from gameserver.config import Config
from gameserver.protocol import (
    CloseCode,
    Error,
    ErrorCode,
    FindMatch,
    Join,
    Ping,
    Pong,
    ProtocolError,
    Role,
    Welcome,
    decode_client_message,
    encode,
)
from gameserver.rules import Player
from gameserver.tokens import JoinClaims

from .host import GameHost
from .inputs import InputQueue
from .seams import Connection, ProtocolErrorCounters, close_for
from .session import Session
from .welcome import welcome

log = logging.getLogger(__name__)

# Close codes after which a player's entity is held for a resume: the connection was lost
# or stalled, as opposed to the client leaving (1000) or breaking the protocol.
HELD_AFTER = frozenset({None, 1001, 1006, 1011, CloseCode.SLOW_CONSUMER, CloseCode.IDLE_TIMEOUT})


class AdmissionCounters(ProtocolErrorCounters, Protocol):
    join_timeouts: int
    room_full: int  # joins refused with 4009
    resumes: int
    resumes_refused: int


@attrs.frozen
class SpectatorsOnly:
    """What a room without a game of its own admits spectators with."""

    player_refusal: str  # the reason of the 1008 a Join as a player is closed with
    # The Welcome for a spectator speaking this protocol version; None while the room
    # has none to give (its Join waits).
    greeting: Callable[[int], Welcome | None]
    input_fields: int  # the input arity messages are decoded with (no game says it)


def token_refusal(claims: JoinClaims, role: Role) -> str | None:
    """Why a Join as ``role`` does not fit its token (None: it does)."""
    if claims.allows(role):
        return None
    return f"join as {role.name.lower()}: the token is for a {claims.role.name.lower()}"


@attrs.frozen
class Held:
    """A dropped player's entity, kept for a resume until ``deadline``."""

    entity_id: int
    subject: str  # join-token subject of its player ("" without tokens)
    deadline: float
    name: str
    player_id: str


class Admission:
    def __init__(
        self,
        room_name: str,
        game: GameHost | None,
        config: Config,
        counters: AdmissionCounters,
        *,
        new_resume_token: Callable[[], str],
        spectators_only: SpectatorsOnly | None = None,
    ) -> None:
        """``game`` None: a spectators-only room, as ``spectators_only`` says."""
        assert (game is None) == (spectators_only is not None)
        self.room_name = room_name
        self._game = game
        self.spectators_only = spectators_only
        only_fields = spectators_only.input_fields if spectators_only is not None else 0
        self._input_fields = game.input_fields if game is not None else only_fields
        self.config = config
        self.counters = counters
        self.new_resume_token = new_resume_token
        self.sessions: dict[Connection, Session] = {}  # joined; never replaced, only changed
        self.pending: dict[Connection, float] = {}  # connected, not joined yet -> deadline
        self.claims: dict[Connection, JoinClaims] = {}  # token claims of pending connections
        self.prejoined: dict[Connection, Join] = {}  # moved here by matchmaking, joined
        self.matching: dict[Connection, float] = {}  # sent FindMatch -> its join deadline
        self.waiting: dict[Connection, Join] = {}  # pending with a Join the room cannot greet yet
        self.held: dict[str, Held] = {}  # resume token -> a dropped player's entity
        self.live: dict[str, Session] = {}  # resume token -> a connected player's session
        self.player_count = 0  # joined and held players: the seats taken
        self.spectator_count = 0
        self._guests = 0  # player ids made for players without an identity
        # (connection, request): a FindMatch instead of a Join; None: matchmaking is off.
        self.on_find_match: Callable[[Connection, FindMatch], None] | None = None
        # Matchmaking's seats: a connection that confirmed one (``attach(seated=True)``)
        # hands it to the player it joins as; the seat is given back (``on_seat_freed``)
        # when that player leaves the room for good (left, or its resume grace ran out),
        # not when a connection drops, so a held player keeps its seat in the directory.
        self.seated_connections: set[Connection] = set()
        self.seated_players: set[str] = set()
        self.on_seat_freed: Callable[[], None] | None = None
        self.join_timeout_reason = "no join message in time"  # the 1008's reason

    @property
    def game(self) -> GameHost:
        """The game players join (only a room with players reaches for it)."""
        assert self._game is not None
        return self._game

    # -- membership ----------------------------------------------------------------

    def attach(
        self,
        connection: Connection,
        now: float,
        claims: JoinClaims | None = None,
        join: Join | None = None,
        seated: bool = False,
    ) -> None:
        """A new connection; ``claims``: what its join token allows (None: no tokens in use).

        ``join``: the connection has joined already (matchmaking moved it here): its Join
        is handled at the next ``admit``. ``seated``: it confirmed a matchmaking seat here.
        """
        if seated:
            self.seated_connections.add(connection)
        deadline = self.matching.pop(connection, None)  # back from a failed FindMatch
        if deadline is None:
            deadline = now + self.config.limits.join_timeout_s
        self.pending[connection] = deadline
        if claims is not None:
            self.claims[connection] = claims
        if join is not None:
            self.prejoined[connection] = join

    def detach(self, connection: Connection, now: float) -> None:
        """The connection is gone: a lost player is held, one who left leaves the game."""
        self.pending.pop(connection, None)
        self.matching.pop(connection, None)
        self.prejoined.pop(connection, None)
        self.waiting.pop(connection, None)
        self.claims.pop(connection, None)
        if connection in self.seated_connections:  # never became a player: seat unused
            self.seated_connections.discard(connection)
            self._free_seat()
        session = self.sessions.pop(connection, None)
        if session is None:
            return
        self.live.pop(session.resume_token, None)
        if session.is_player and connection.close_code in HELD_AFTER:
            # Dropped, not left: keep the player (its rules are told) for a resume.
            self.game.disconnected(session.player_id)
            self._hold(session, now)
        elif session.is_player:
            self._player_gone(session.player_id)
        else:
            self.spectator_count -= 1
        log.info(
            "%s left room %s (%s %r)",
            connection.remote,
            self.room_name,
            session.role.name.lower(),
            session.name,
        )

    def resumable(self, resume_token: str) -> tuple[str, str] | None:
        """(subject, name) of the player this resume token may reclaim, held or still connected."""
        held = self.held.get(resume_token)
        if held is not None:
            return held.subject, held.name
        session = self.live.get(resume_token)  # its old connection may not look lost yet
        return (session.subject, session.name) if session is not None else None

    @property
    def pending_count(self) -> int:
        """Connections that have not joined yet (they take no seat until they do)."""
        return len(self.pending) + len(self.matching)

    @property
    def is_empty(self) -> bool:
        return not (self.sessions or self.pending or self.matching or self.held)

    def connections(self) -> list[Connection]:
        """Every connection attached, joined or not."""
        return [*self.pending, *self.matching, *self.sessions]

    def roster(self) -> list[tuple[int, str, bool, int | None]]:
        """(entity_id, name, connected, score) of every player, held ones too, by entity id."""
        if self._game is None:
            return []
        score = self._game.score
        players = [
            (s.entity_id, s.name, True, score(s.player_id))
            for s in self.sessions.values()
            if s.is_player
        ]
        players += [
            (held.entity_id, held.name, False, score(held.player_id)) for held in self.held.values()
        ]
        return sorted(players, key=lambda player: (player[0], player[1]))

    # -- once per tick --------------------------------------------------------------

    def expire(self, now: float) -> None:
        """Held players whose grace ran out leave the game."""
        for token, held in list(self.held.items()):
            if now > held.deadline:
                del self.held[token]
                self._player_gone(held.player_id)
                log.info(
                    "room %s: entity %d not resumed in time, removed",
                    self.room_name,
                    held.entity_id,
                )

    def admit(self, now: float, time_ms: int) -> list[tuple[Session, list[bytes | str]]]:
        """Handle what connections that have not joined sent, and their deadlines.

        Returns the sessions that joined with messages right behind their Join: those
        are a joined session's, for the intake. ``time_ms``: the server time pongs carry.
        """
        while self.prejoined:
            connection, join = self.prejoined.popitem()
            if self.pending.pop(connection, None) is not None:
                self._join(connection, join, now)
        leftovers: list[tuple[Session, list[bytes | str]]] = []
        if self.pending:
            for connection, deadline in list(self.pending.items()):
                messages = connection.collect()
                for i, raw in enumerate(messages):
                    self._handle_pending(connection, raw, now, time_ms)
                    if connection not in self.pending:
                        session = self.sessions.get(connection)
                        if session is not None and i + 1 < len(messages):
                            leftovers.append((session, messages[i + 1 :]))
                        break
                else:
                    waiting = self.waiting.get(connection)
                    if waiting is not None and self._greeting(connection) is not None:
                        del self.pending[connection], self.waiting[connection]
                        self._join(connection, waiting, now)
                    elif now > deadline and not connection.closing:
                        self.pending.pop(connection)
                        self.waiting.pop(connection, None)
                        self._join_timed_out(connection)
        if self.matching:
            for connection, deadline in list(self.matching.items()):
                if now > deadline and not connection.closing:
                    del self.matching[connection]
                    self._join_timed_out(connection)
        return leftovers

    # -- joining ----------------------------------------------------------------------

    def _join_timed_out(self, connection: Connection) -> None:
        self.counters.join_timeouts += 1
        reason = self.join_timeout_reason
        log.warning("%s closed: %s", connection.remote, reason)
        connection.close(CloseCode.POLICY_VIOLATION, reason)

    def _handle_pending(
        self, connection: Connection, raw: bytes | str, now: float, time_ms: int
    ) -> None:
        try:
            message = decode_client_message(
                raw, self.config.limits.max_message_bytes, input_fields=self._input_fields
            )
            if isinstance(message, FindMatch) and self.on_find_match is not None:
                claims = self.claims.get(connection)
                if claims is not None and claims.room is not None:
                    raise ProtocolError(
                        CloseCode.POLICY_VIOLATION, "a token for one room cannot look for a match"
                    )
                self.matching[connection] = self.pending.pop(connection)
                self.on_find_match(connection, message)  # it moves to the room found
                return
            if not isinstance(message, Join) or connection in self.waiting:
                if isinstance(message, Ping):
                    connection.send_control(encode(Pong(message.nonce, time_ms)))
                    return
                raise ProtocolError(CloseCode.UNEXPECTED_MESSAGE, "the first message must be join")
        except ProtocolError as error:
            self.pending.pop(connection, None)
            self.waiting.pop(connection, None)
            close_for(connection, error, self.counters)
            return
        only = self.spectators_only
        if only is not None:
            refusal = only.player_refusal if message.role is not Role.SPECTATOR else None
            claims = self.claims.pop(connection, None)
            if refusal is None and claims is not None:
                refusal = token_refusal(claims, message.role)  # as a live room would
            if refusal is not None:
                # Refused by the room's policy, counted as the live room counts a join its
                # token does not allow (a 1008 in protocol_errors).
                self.counters.protocol_errors[CloseCode.POLICY_VIOLATION] += 1
                del self.pending[connection]
                log.warning("%s refused: %s", connection.remote, refusal)
                connection.close(CloseCode.POLICY_VIOLATION, refusal)
                return
            self.waiting[connection] = message  # joins once the room can greet it
            return
        del self.pending[connection]
        self._join(connection, message, now)

    def _greeting(self, connection: Connection) -> Welcome | None:
        """The Welcome a joining spectator gets in a spectators-only room."""
        assert self.spectators_only is not None
        return self.spectators_only.greeting(connection.protocol_version)

    def _player_gone(self, player_id: str) -> None:
        """A player leaves the room for good: its seat, and its matchmaking seat if any."""
        self.player_count -= 1
        self.game.leave(player_id)
        if player_id in self.seated_players:
            self.seated_players.discard(player_id)
            self._free_seat()

    def _free_seat(self) -> None:
        if self.on_seat_freed is not None:
            self.on_seat_freed()

    def _join(self, connection: Connection, join: Join, now: float) -> None:
        """Join ``connection``; a matchmaking seat it brought goes to the new player, or back
        (a refused join, a spectator, or a resume: the held player keeps the seat it had)."""
        seated = connection in self.seated_connections
        self.seated_connections.discard(connection)
        player_id = self._join_one(connection, join, now)
        if not seated:
            return
        if player_id:
            self.seated_players.add(player_id)
        else:
            self._free_seat()

    def _join_one(self, connection: Connection, join: Join, now: float) -> str:
        """The Join handled; the id of the new player it made ("": none)."""
        config, counters = self.config, self.counters
        claims = self.claims.pop(connection, None)
        if claims is not None:
            reason = token_refusal(claims, join.role)
            if reason is not None:
                counters.protocol_errors[CloseCode.POLICY_VIOLATION] += 1
                log.warning("%s refused: %s", connection.remote, reason)
                connection.close(CloseCode.POLICY_VIOLATION, reason)
                return ""
            # The token names the player; admitted with ?resume=, the Join resumes that one.
            join = Join(join.role, claims.name, claims.resume or join.resume)
        subject = claims.subject if claims is not None else ""
        if join.resume and join.resume not in self.held:
            self._take_over(join.resume, now)  # the old connection may not look lost yet
        held = self.held.pop(join.resume, None) if join.resume else None
        if held is not None and (held.subject != subject or join.role is not Role.PLAYER):
            self.held[join.resume] = held  # not theirs to take
            held = None
        if join.resume and held is None:
            counters.resumes_refused += 1
            reason = "resume token unknown or expired: joined as a new player"
            connection.send_control(encode(Error(ErrorCode.RESUME_REFUSED, reason)))
        player_id = ""
        if held is not None:
            entity_id = held.entity_id  # same entity, score and state; seat still counted
            player_id = held.player_id
            self.game.reconnected(player_id)
            counters.resumes += 1
        elif join.role is Role.PLAYER:
            limit = config.rooms.max_players_per_room
            if self._full(connection, self.player_count, limit, "players"):
                return ""
            player_id = self._new_player_id(subject)
            identity = {"sub": subject, "roles": list(claims.roles)} if claims is not None else {}
            entity_id = self.game.join(Player(player_id, join.name, identity))
            self.player_count += 1
        else:
            limit = config.rooms.max_spectators_per_room
            if self._full(connection, self.spectator_count, limit, "spectators"):
                return ""
            entity_id = 0
            self.spectator_count += 1
        resume_token = self.new_resume_token() if join.role is Role.PLAYER else ""
        version = connection.protocol_version
        greeting = (
            welcome(self.game, config, entity_id, resume_token, version)
            if self.spectators_only is None
            else self._greeting(connection)
        )
        assert greeting is not None  # a spectators-only room's Join waits until it has one
        session = self.sessions[connection] = Session(
            connection=connection,
            role=join.role,
            name=join.name,
            entity_id=entity_id,
            input_queue=InputQueue(config.limits.input_queue_size),
            joined_tick=greeting.tick,
            resume_token=resume_token,
            subject=subject,
            player_id=player_id,
        )
        if resume_token:
            self.live[resume_token] = session
        connection.send_control(encode(greeting))
        log.info(
            "%s joined room %s as %s %r (entity %d)",
            connection.remote,
            self.room_name,
            join.role.name.lower(),
            join.name,
            entity_id,
        )
        return player_id if held is None else ""  # a resumed player keeps its own seat

    def _full(self, connection: Connection, count: int, limit: int, who: str) -> bool:
        """At ``limit`` ``who`` already: the connection is refused with 4009, counted."""
        if count < limit:
            return False
        self.counters.room_full += 1
        log.warning("%s refused: room %s is full (%s)", connection.remote, self.room_name, who)
        connection.close(CloseCode.ROOM_FULL, f"room is full ({who})")
        return True

    def _take_over(self, resume_token: str, now: float) -> None:
        """A resume for a session whose connection still looks alive: that one is stale."""
        for connection, session in self.sessions.items():
            if session.resume_token == resume_token:
                connection.close(CloseCode.NORMAL, "replaced by a newer connection")
                del self.sessions[connection]
                del self.live[resume_token]
                self._hold(session, now)
                return

    def _hold(self, session: Session, now: float) -> None:
        self.held[session.resume_token] = Held(
            session.entity_id,
            session.subject,
            now + self.config.rooms.resume_grace_s,
            session.name,
            session.player_id,
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
