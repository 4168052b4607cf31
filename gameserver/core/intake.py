"""Intake: what joined connections sent, turned into the game's inputs and commands.

Theory of operation: once per tick, ``collect`` takes every joined connection's arrived
messages, oldest first, through the strict decoder; the first violation closes that
connection with the error's close code and the rest of its messages are ignored.

- Inputs (players only) are validated against the game's input schema and go to
  the player's bounded ``InputQueue``; beyond ``max_inputs_per_tick`` in one tick they
  are dropped, as are stale ones (not newer than the newest seq). ``feed`` then gives
  the game one Input per player per tick; with none queued, the game repeats the last.
- Commands (players only) go to the game in arrival order, at most
  ``max_commands_per_tick`` per player per tick; beyond that each is answered with
  Error 5 and dropped.
- A spectator's input or command is answered with Error 1 and dropped (it stays).
- Pings are answered at once with the server time (``time_ms``).
- Says pass each player's own token bucket (``chat_rate_per_s``, ``chat_burst``) to the
  ``on_say`` hook; beyond it each is answered with Error 3 and dropped.

A spectators-only room (a relay, a replay) has no game: ``game`` is None, and messages
are decoded with the input arity it gives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from gameserver.config import Config
from gameserver.protocol import (
    CloseCode,
    Command,
    Error,
    ErrorCode,
    Input,
    Ping,
    Pong,
    ProtocolError,
    Say,
    decode_client_message,
    encode,
)

from .host import GameHost
from .inputs import PushResult
from .limits import TokenBucket
from .seams import Connection, ProtocolErrorCounters, close_for
from .session import Session


class IntakeCounters(ProtocolErrorCounters, Protocol):
    inputs_dropped_per_tick: int
    inputs_dropped_stale: int
    inputs_dropped_queue_full: int
    spectator_inputs: int
    commands_dropped: int
    chat_rate_limited: int


class Intake:
    def __init__(
        self,
        game: GameHost | None,
        config: Config,
        counters: IntakeCounters,
        *,
        input_fields: int = 0,
    ) -> None:
        """``game`` None: a spectators-only room, decoding with ``input_fields``."""
        self.game = game
        self.config = config
        self._limits = config.limits  # read per command: one lookup less
        self.counters = counters
        self.on_say: Callable[[str, str], None] | None = None  # (sender name, text)
        # The Error a Say beyond the rate limit is answered with.
        self.chat_refusal = f"chat: at most {config.limits.chat_rate_per_s:g} messages per second"
        self._max_message_bytes = config.limits.max_message_bytes
        self._max_inputs_per_tick = config.limits.max_inputs_per_tick
        self._input_fields = game.input_fields if game is not None else input_fields
        # The tick being collected for, and its clock readings (for Ping and Say).
        self._tick = self._game_tick()
        self._now = 0.0
        self._time_ms = 0

    def collect(self, sessions: dict[Connection, Session], now: float, time_ms: int) -> None:
        """Handle every joined connection's messages that arrived since the last tick."""
        self._tick, self._now, self._time_ms = self._game_tick(), now, time_ms
        handle = self._handle
        for connection, session in list(sessions.items()):
            for raw in connection.collect():
                handle(session, raw)
                if connection.closing:
                    break

    def handle_all(
        self, session: Session, messages: list[bytes | str], now: float, time_ms: int
    ) -> None:
        """Messages of one session (those that came right behind its Join)."""
        self._tick, self._now, self._time_ms = self._game_tick(), now, time_ms
        for raw in messages:
            self._handle(session, raw)
            if session.connection.closing:
                break

    def _game_tick(self) -> int:
        return self.game.tick if self.game is not None else 0

    def _handle(self, session: Session, raw: bytes | str) -> None:
        value: object = None
        command: object = None
        try:
            message = decode_client_message(
                raw, self._max_message_bytes, input_fields=self._input_fields
            )
            kind = type(message)
            if kind is Input and session.is_player:
                value = self.game.decode_input(message.fields)  # type: ignore[union-attr]
            elif kind is Command and session.is_player:
                command = self.game.decode_command(message.fields)  # type: ignore[union-attr]
        except ProtocolError as error:  # SchemaError too: 4002 naming the field
            close_for(session.connection, error, self.counters)
            return
        if kind is Input:
            assert isinstance(message, Input)
            if self._spectator_refused(session, "input"):
                return
            tick = self._tick
            if session.inputs_tick != tick:
                session.inputs_tick, session.inputs_this_tick = tick, 0
            if session.inputs_this_tick >= self._max_inputs_per_tick:
                self.counters.inputs_dropped_per_tick += 1
                return
            session.inputs_this_tick += 1
            result = session.input_queue.push(message, value)
            if result is PushResult.STALE:
                self.counters.inputs_dropped_stale += 1
            elif result is PushResult.DISPLACED_OLDEST:
                self.counters.inputs_dropped_queue_full += 1
        elif isinstance(message, Command):
            self._command(session, command)
        elif isinstance(message, Ping):
            session.connection.send_control(encode(Pong(message.nonce, self._time_ms)))
        elif isinstance(message, Say):
            self._say(session, message)
        else:
            close_for(
                session.connection,
                ProtocolError(CloseCode.UNEXPECTED_MESSAGE, "already joined"),
                self.counters,
            )

    def feed(self, sessions: dict[Connection, Session]) -> None:
        """Each player's Input for this tick to the game; with none, it repeats the last."""
        game = self.game
        assert game is not None
        for session in sessions.values():
            if session.is_player:
                queued = session.input_queue.pop()
                if queued is None:
                    continue
                message, value = queued
                session.ack_seq = message.seq
                session.last_client_tick = message.ack_tick
                view_tick = message.view / 256 if message.view else None
                game.set_input(session.player_id, value, view_tick)

    def _spectator_refused(self, session: Session, what: str) -> bool:
        """A spectator's input or command: dropped, answered with Error 1, counted."""
        if session.is_player:
            return False
        self.counters.spectator_inputs += 1
        reason = f"spectators cannot send {what}"
        session.connection.send_control(encode(Error(ErrorCode.SPECTATOR_INPUT, reason)))
        return True

    def _command(self, session: Session, command: object) -> None:
        if self._spectator_refused(session, "commands"):
            return
        tick = self._tick
        if session.commands_tick != tick:
            session.commands_tick, session.commands_this_tick = tick, 0
        limit = self._limits.max_commands_per_tick
        if session.commands_this_tick >= limit:
            self.counters.commands_dropped += 1
            reason = f"at most {limit} commands per tick"
            session.connection.send_control(encode(Error(ErrorCode.COMMAND_DROPPED, reason)))
            return
        session.commands_this_tick += 1
        assert self.game is not None  # only players send commands, and only a game has players
        self.game.command(session.player_id, command)

    def _say(self, session: Session, say: Say) -> None:
        now = self._now
        if session.chat_bucket is None:
            session.chat_bucket = TokenBucket(
                self._limits.chat_rate_per_s, self._limits.chat_burst, now
            )
        if not session.chat_bucket.take(1, now):
            self.counters.chat_rate_limited += 1
            refusal = Error(ErrorCode.CHAT_RATE_LIMITED, self.chat_refusal)
            session.connection.send_control(encode(refusal))
            return
        if self.on_say is not None:
            self.on_say(session.name, say.text)
