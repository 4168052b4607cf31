"""Admission with plain calls: join deadlines, seats, held players, resumes, take-overs."""

from __future__ import annotations

from gameserver.core import GameHost
from gameserver.core.admission import Admission
from gameserver.protocol import (
    CloseCode,
    ErrorCode,
    FindMatch,
    Input,
    Join,
    Ping,
    Pong,
    Role,
    encode,
)
from gameserver.tokens import KIND_JOIN, JoinClaims

from .fakes import Counters, FakeConnection, counting_tokens, room_config
from .test_rules_api import Climb, Settings

GRACE_S = 15.0
JOIN_TIMEOUT_S = 10.0


def make_admission(**overrides: object) -> tuple[Admission, Counters]:
    settings: dict[str, object] = {"resume_grace_s": GRACE_S, "join_timeout_s": JOIN_TIMEOUT_S}
    config = room_config(**(settings | overrides))
    game = GameHost(Climb(Settings(), seed=3, tick_rate=config.rooms.tick_rate), tick_rate=30)
    counters = Counters()
    admission = Admission("test", game, config, counters, new_resume_token=counting_tokens())
    return admission, counters


def arrive(
    admission: Admission,
    now: float,
    *messages: object,
    claims: JoinClaims | None = None,
    version: int = 2,
) -> FakeConnection:
    connection = FakeConnection(protocol_version=version)
    admission.attach(connection, now, claims)
    connection.inbox += [encode(m) for m in messages]  # type: ignore[arg-type]
    return connection


def claims_of(subject: str, role: Role = Role.PLAYER, resume: str = "") -> JoinClaims:
    return JoinClaims(subject, subject.title(), role, None, 0.0, kind=KIND_JOIN, resume=resume)


def lose(admission: Admission, connection: FakeConnection, now: float, code: int = 1006) -> None:
    connection.closing, connection.close_code = True, code
    admission.detach(connection, now)


def test_a_connection_that_does_not_join_in_time_is_closed() -> None:
    admission, counters = make_admission()
    quiet = arrive(admission, 0.0)
    pinging = arrive(admission, 0.0, Ping(7))
    admission.admit(JOIN_TIMEOUT_S, 1234)
    assert quiet.close_code is None and admission.pending_count == 2  # on the deadline: not yet
    assert pinging.received == [Pong(7, 1234)]  # answered while it waits, with the time given
    admission.admit(JOIN_TIMEOUT_S + 0.01, 0)
    assert quiet.close_code == pinging.close_code == CloseCode.POLICY_VIOLATION
    assert counters.join_timeouts == 2 and admission.is_empty


def test_the_first_message_must_be_a_join() -> None:
    admission, counters = make_admission()
    early = arrive(admission, 0.0, Input(1, (1,), 0))
    admission.admit(0.0, 0)
    assert early.close_code == CloseCode.UNEXPECTED_MESSAGE
    assert counters.protocol_errors[CloseCode.UNEXPECTED_MESSAGE] == 1
    assert early.welcome is None and not admission.sessions


def test_a_full_room_refuses_the_extra_player_and_spectator() -> None:
    admission, counters = make_admission(max_players_per_room=2, max_spectators_per_room=1)
    players = [arrive(admission, 0.0, Join(Role.PLAYER, f"p{i}")) for i in range(3)]
    watchers = [arrive(admission, 0.0, Join(Role.SPECTATOR, f"s{i}")) for i in range(2)]
    admission.admit(0.0, 0)
    assert [p.close_code for p in players] == [None, None, CloseCode.ROOM_FULL]
    assert [w.close_code for w in watchers] == [None, CloseCode.ROOM_FULL]
    assert (admission.player_count, admission.spectator_count, counters.room_full) == (2, 1, 2)
    assert players[0].welcome is not None and players[0].welcome.resume == "r1"
    assert watchers[0].welcome is not None and watchers[0].welcome.entity_id == 0
    assert watchers[0].welcome.resume == ""  # a spectator has nothing to resume


def test_a_lost_player_resumes_its_entity_within_the_grace() -> None:
    admission, counters = make_admission(max_players_per_room=1)
    first = arrive(admission, 0.0, Join(Role.PLAYER, "ada"))
    admission.admit(0.0, 0)
    assert first.welcome is not None
    entity, token = first.welcome.entity_id, first.welcome.resume
    lose(admission, first, 5.0)
    assert admission.roster() == [(entity, "ada", False, None)]
    assert admission.player_count == 1  # the seat stays taken: nobody else gets it
    stranger = arrive(admission, 6.0, Join(Role.PLAYER, "eve"))
    again = arrive(admission, 6.0, Join(Role.PLAYER, "ada", token))
    admission.admit(6.0, 0)
    assert stranger.close_code == CloseCode.ROOM_FULL
    assert again.welcome is not None and again.welcome.entity_id == entity
    assert again.welcome.resume == "r2"  # a new token for the next time
    assert counters.resumes == 1 and again.errors() == []
    assert admission.roster() == [(entity, "ada", True, None)]


def test_a_held_player_past_its_grace_leaves_and_its_token_is_refused() -> None:
    admission, counters = make_admission()
    first = arrive(admission, 0.0, Join(Role.PLAYER, "ada"))
    admission.admit(0.0, 0)
    assert first.welcome is not None
    lose(admission, first, 5.0)
    admission.expire(5.0 + GRACE_S)
    assert admission.player_count == 1  # on the deadline: still held
    admission.expire(5.0 + GRACE_S + 0.01)
    assert admission.player_count == 0 and admission.roster() == [] and admission.is_empty
    late = arrive(admission, 30.0, Join(Role.PLAYER, "ada", first.welcome.resume))
    admission.admit(30.0, 0)
    assert late.errors() == [ErrorCode.RESUME_REFUSED] and counters.resumes_refused == 1
    assert late.welcome is not None and set(admission.game.players) == {"guest-2"}  # a new one


def test_a_player_who_left_is_not_held() -> None:
    admission, _ = make_admission()
    first = arrive(admission, 0.0, Join(Role.PLAYER, "ada"))
    admission.admit(0.0, 0)
    assert first.welcome is not None
    lose(admission, first, 1.0, code=1000)
    assert admission.player_count == 0 and admission.is_empty
    assert admission.resumable(first.welcome.resume) is None


def test_a_resume_by_another_subject_is_refused_and_the_player_stays_held() -> None:
    admission, counters = make_admission()
    owner = arrive(admission, 0.0, Join(Role.PLAYER, "x"), claims=claims_of("ada"))
    admission.admit(0.0, 0)
    assert owner.welcome is not None
    entity, token = owner.welcome.entity_id, owner.welcome.resume
    lose(admission, owner, 1.0)
    assert admission.resumable(token) == ("ada", "Ada")
    thief = arrive(admission, 2.0, Join(Role.PLAYER, "x", token), claims=claims_of("eve"))
    admission.admit(2.0, 0)
    assert thief.errors() == [ErrorCode.RESUME_REFUSED] and counters.resumes_refused == 1
    assert thief.welcome is not None and thief.welcome.entity_id != entity  # a new player
    back = arrive(admission, 3.0, Join(Role.PLAYER, "x"), claims=claims_of("ada", resume=token))
    admission.admit(3.0, 0)
    assert back.welcome is not None and back.welcome.entity_id == entity
    assert counters.resumes == 1


def test_a_resume_takes_over_a_stale_connection() -> None:
    admission, counters = make_admission()
    old = arrive(admission, 0.0, Join(Role.PLAYER, "ada"))
    admission.admit(0.0, 0)
    assert old.welcome is not None
    assert admission.resumable(old.welcome.resume) == ("", "ada")  # connected, not yet held
    new = arrive(admission, 4.0, Join(Role.PLAYER, "ada", old.welcome.resume))
    admission.admit(4.0, 0)
    assert old.close_code == CloseCode.NORMAL and old.close_reason.startswith("replaced")
    assert new.welcome is not None and new.welcome.entity_id == old.welcome.entity_id
    assert counters.resumes == 1 and admission.player_count == 1
    assert list(admission.sessions) == [new]
    admission.detach(old, 5.0)  # its handler ends later: nothing more happens
    assert admission.player_count == 1 and admission.roster()[0][2] is True


def test_a_token_decides_the_role_and_the_name() -> None:
    admission, counters = make_admission()
    watcher = claims_of("ada", Role.SPECTATOR)
    wrong = arrive(admission, 0.0, Join(Role.PLAYER, "x"), claims=watcher)
    right = arrive(admission, 0.0, Join(Role.PLAYER, "x"), claims=claims_of("bob"))
    admission.admit(0.0, 0)
    assert wrong.close_code == CloseCode.POLICY_VIOLATION
    assert counters.protocol_errors[CloseCode.POLICY_VIOLATION] == 1
    assert [name for _, name, *_ in admission.roster()] == ["Bob"]  # the token's name
    assert admission.game.players.keys() == {"bob"}  # the subject is the player id
    assert right.welcome is not None


def test_find_match_hands_the_connection_over_and_back_with_its_deadline() -> None:
    admission, _ = make_admission()
    asked: list[tuple[object, FindMatch]] = []
    admission.on_find_match = lambda connection, request: asked.append((connection, request))
    seeker = arrive(admission, 0.0, FindMatch("duel", "ada"))
    admission.admit(1.0, 0)
    assert asked == [(seeker, FindMatch("duel", "ada"))] and admission.pending_count == 1
    admission.attach(seeker, 8.0)  # no match: back here, with the deadline it had
    admission.admit(JOIN_TIMEOUT_S + 0.01, 0)
    assert seeker.close_code == CloseCode.POLICY_VIOLATION


def test_find_match_without_matchmaking_is_an_unexpected_message() -> None:
    admission, _ = make_admission()
    seeker = arrive(admission, 0.0, FindMatch("duel", "ada"))
    admission.admit(0.0, 0)
    assert seeker.close_code == CloseCode.UNEXPECTED_MESSAGE


def test_a_join_made_by_matchmaking_is_admitted_at_once() -> None:
    admission, _ = make_admission()
    moved = FakeConnection()
    admission.attach(moved, 0.0, join=Join(Role.PLAYER, "ada"))
    assert admission.admit(0.0, 0) == []
    assert moved.welcome is not None and admission.player_count == 1


def test_messages_right_behind_the_join_are_handed_on() -> None:
    admission, _ = make_admission()
    quick = arrive(admission, 0.0, Join(Role.PLAYER, "ada"), Ping(1), Input(1, (1,), 0))
    ((session, rest),) = admission.admit(0.0, 0)
    assert session is admission.sessions[quick] and len(rest) == 2  # for the intake
    assert quick.received[1:] == []  # not answered here


def test_a_version_1_client_gets_no_game_description() -> None:
    admission, _ = make_admission()
    modern = arrive(admission, 0.0, Join(Role.PLAYER, "a"))
    old = arrive(admission, 0.0, Join(Role.PLAYER, "b"), version=1)
    admission.admit(0.0, 0)
    assert modern.welcome is not None and modern.welcome.schema is not None
    assert old.welcome is not None and old.welcome.schema is None
    assert old.welcome.protocol_version == 1


def seated_arrival(admission: Admission, now: float, *messages: object) -> FakeConnection:
    connection = FakeConnection()
    admission.attach(connection, now, seated=True)
    connection.inbox += [encode(m) for m in messages]  # type: ignore[arg-type]
    return connection


def test_a_matchmaking_seat_is_given_back_when_its_player_leaves_for_good() -> None:
    admission, _ = make_admission(max_players_per_room=2)
    freed: list[float] = []
    now = 0.0
    admission.on_seat_freed = lambda: freed.append(now)
    ann = seated_arrival(admission, now, Join(Role.PLAYER, "ann"))
    admission.admit(now, 0)
    token = ann.welcome.resume if ann.welcome is not None else ""
    lose(admission, ann, now)  # dropped: held for a resume, its seat still taken
    assert freed == [] and admission.player_count == 1
    now = 5.0
    back = arrive(admission, now, Join(Role.PLAYER, "ann", token))
    admission.admit(now, 0)
    assert back.welcome is not None and freed == []  # resumed: still the same seat
    lose(admission, back, now, code=1006)
    now = 5.0 + GRACE_S + 1
    admission.expire(now)  # never came back: gone for good
    assert freed == [now] and admission.player_count == 0


def test_a_seat_is_given_back_at_once_when_no_player_takes_it_or_its_player_leaves() -> None:
    admission, _ = make_admission(max_players_per_room=1)
    freed: list[str] = []
    admission.on_seat_freed = lambda: freed.append("seat")
    ann = seated_arrival(admission, 0.0, Join(Role.PLAYER, "ann"))
    admission.admit(0.0, 0)
    refused = seated_arrival(admission, 0.0, Join(Role.PLAYER, "bob"))  # the room is full
    admission.admit(0.0, 0)
    assert refused.close_code == CloseCode.ROOM_FULL and freed == ["seat"]
    silent = seated_arrival(admission, 0.0)  # never joins
    lose(admission, silent, 1.0, code=1000)
    assert freed == ["seat", "seat"]
    lose(admission, ann, 2.0, code=1000)  # left on purpose: its seat at once
    assert freed == ["seat", "seat", "seat"] and admission.player_count == 0
