"""The intake with plain calls: inputs, commands, pings and chat of joined sessions."""

from __future__ import annotations

import cbor2

from gameserver.core import Connection, GameHost, Session
from gameserver.core.inputs import InputQueue
from gameserver.core.intake import Intake
from gameserver.protocol import (
    CloseCode,
    Command,
    ErrorCode,
    Input,
    Join,
    Ping,
    Pong,
    Role,
    Say,
    encode,
)
from gameserver.rules import Player

from .fakes import Counters, FakeConnection, room_config
from .test_rules_api import Climb, Move, Settings

UP = (int(Move.UP),)


def make_intake(**overrides: object) -> tuple[Intake, Counters]:
    config = room_config(**overrides)
    game = GameHost(Climb(Settings(goal=1000), seed=3), tick_rate=config.rooms.tick_rate)
    counters = Counters()
    return Intake(game, config, counters), counters


def seat(intake: Intake, name: str = "ada", role: Role = Role.PLAYER) -> Session:
    """A joined session, as admission would have made it."""
    entity_id = intake.game.join(Player(name, name, {})) if role is Role.PLAYER else 0
    return Session(
        connection=FakeConnection(),
        role=role,
        name=name,
        entity_id=entity_id,
        input_queue=InputQueue(intake.config.limits.input_queue_size),
        joined_tick=intake.game.tick,
        player_id=name if role is Role.PLAYER else "",
    )


def send(session: Session, *messages: object) -> None:
    inbox = session.connection.inbox  # type: ignore[attr-defined]
    inbox += [m if isinstance(m, bytes) else encode(m) for m in messages]  # type: ignore[arg-type]


def sessions_of(*sessions: Session) -> dict[Connection, Session]:
    return {s.connection: s for s in sessions}


def test_inputs_beyond_the_per_tick_cap_are_dropped_and_the_queue_keeps_the_newest() -> None:
    intake, counters = make_intake(max_inputs_per_tick=4, input_queue_size=3)
    ada = seat(intake)
    everyone = sessions_of(ada)
    send(ada, *(Input(seq, UP, 0) for seq in range(1, 11)))
    intake.collect(everyone, 0.0, 0)
    assert counters.inputs_dropped_per_tick == 6  # 4 a tick at most
    assert counters.inputs_dropped_queue_full == 1  # 4 accepted, the queue holds 3
    assert len(ada.input_queue) == 3
    intake.feed(everyone)
    assert ada.ack_seq == 2  # frame 1 was displaced: the oldest goes


def test_stale_and_duplicate_inputs_are_dropped_and_counted() -> None:
    intake, counters = make_intake()
    ada = seat(intake)
    send(ada, *(Input(seq, UP, 0) for seq in (5, 5, 3, 6)))
    intake.collect(sessions_of(ada), 0.0, 0)
    assert counters.inputs_dropped_stale == 2 and len(ada.input_queue) == 2


def test_one_frame_per_tick_goes_to_the_game_and_the_last_is_repeated() -> None:
    intake, _ = make_intake()
    ada = seat(intake)
    everyone = sessions_of(ada)
    send(ada, Input(1, UP, 7), Input(2, UP, 8))
    intake.collect(everyone, 0.0, 0)
    heights = []
    for _ in range(4):
        intake.feed(everyone)
        intake.game.step()
        heights.append(intake.game.wire_state()[ada.entity_id][2])
    assert heights == [1, 2, 3, 4]  # it climbs on with the repeated frame
    assert (ada.ack_seq, ada.last_client_tick) == (2, 8)


def test_commands_beyond_the_per_tick_cap_are_answered_and_dropped() -> None:
    intake, counters = make_intake(max_commands_per_tick=2)
    ada = seat(intake)
    send(ada, *(Command((0, 1)) for _ in range(5)))
    intake.collect(sessions_of(ada), 0.0, 0)
    assert counters.commands_dropped == 3
    assert ada.connection.errors() == [ErrorCode.COMMAND_DROPPED] * 3  # type: ignore[attr-defined]
    assert len(intake.game.step()) == 2 * 2  # two guesses reached the game, two events each
    send(ada, cbor2.dumps([6, 0, 100]))  # a guess outside the schema's range
    intake.collect(sessions_of(ada), 0.0, 0)
    assert ada.connection.close_code == CloseCode.INVALID_MESSAGE


def test_a_spectators_input_and_command_are_refused_but_it_stays() -> None:
    intake, counters = make_intake()
    watcher = seat(intake, "w", Role.SPECTATOR)
    send(watcher, Input(1, UP, 0), Command((0, 5)))
    intake.collect(sessions_of(watcher), 0.0, 0)
    connection = watcher.connection
    assert connection.errors() == [ErrorCode.SPECTATOR_INPUT] * 2  # type: ignore[attr-defined]
    assert counters.spectator_inputs == 2 and connection.close_code is None


def test_a_ping_is_answered_with_the_server_time_given() -> None:
    intake, _ = make_intake()
    ada = seat(intake)
    send(ada, Ping(42))
    intake.collect(sessions_of(ada), 3.0, 2500)
    assert ada.connection.received == [Pong(42, 2500)]  # type: ignore[attr-defined]


def test_chat_passes_a_token_bucket_per_player() -> None:
    intake, counters = make_intake(chat_rate_per_s=1.0, chat_burst=2)
    said: list[tuple[str, str]] = []
    intake.on_say = lambda name, text: said.append((name, text))
    ada = seat(intake)
    send(ada, Say("a"), Say("b"), Say("c"))
    intake.collect(sessions_of(ada), 100.0, 0)
    assert said == [("ada", "a"), ("ada", "b")] and counters.chat_rate_limited == 1
    assert ada.connection.errors() == [ErrorCode.CHAT_RATE_LIMITED]  # type: ignore[attr-defined]
    send(ada, Say("d"))
    intake.collect(sessions_of(ada), 101.0, 0)  # a second later: one more token
    assert said[-1] == ("ada", "d")


def test_a_violation_closes_that_connection_and_its_later_messages_are_ignored() -> None:
    intake, counters = make_intake()
    ada, bob = seat(intake, "ada"), seat(intake, "bob")
    send(ada, Join(Role.PLAYER, "again"), Input(1, UP, 0))
    send(bob, b"\xff", Input(1, UP, 0))
    intake.collect(sessions_of(ada, bob), 0.0, 0)
    assert ada.connection.close_code == CloseCode.UNEXPECTED_MESSAGE
    assert bob.connection.close_code == CloseCode.INVALID_PAYLOAD
    assert len(ada.input_queue) == len(bob.input_queue) == 0
    assert sum(counters.protocol_errors.values()) == 2
