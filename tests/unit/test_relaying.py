"""The relay's core with plain calls: a live room core's stream in, spectators served."""

from __future__ import annotations

import cbor2

from gameserver.core import GameHost, RelayCore, RoomCore
from gameserver.protocol import (
    CloseCode,
    Command,
    Error,
    ErrorCode,
    Input,
    Join,
    Ping,
    Pong,
    Role,
    Say,
    Welcome,
    encode,
)
from gameserver.tokens import KIND_IDENTITY, KIND_JOIN, JoinClaims

from .fakes import Counters, FakeConnection, counting_tokens, room_config
from .test_rules_api import Climb, Move, Settings

REFUSAL = "room r is on another node: join it through matchmaking"
DT = 0.1


class Owner:
    """A live room core with one climbing player, publishing its spectator stream."""

    def __init__(self) -> None:
        config = room_config(tick_rate=10)
        game = GameHost(Climb(Settings(goal=10_000), seed=3), tick_rate=10)
        self.core = RoomCore("r", game, config, Counters(), new_resume_token=counting_tokens())
        self.player = FakeConnection()
        self.core.attach(self.player, 0.0)
        self.player.inbox.append(encode(Join(Role.PLAYER, "ada")))
        self.seq = 0

    def tick(self, now: float) -> bytes:
        """One tick; the stream message published for it."""
        self.seq += 1
        up = (int(Move.UP),)
        self.player.inbox.append(encode(Input(self.seq, up, 0)))
        self.core.collect(now, round(now * 1000))
        self.core.step()
        published = self.core.deliver(round(now * 1000), publish=True)
        assert published is not None
        snapshot, welcome = published
        return cbor2.dumps([snapshot, welcome or b""])


def make_relay(**overrides: object) -> tuple[RelayCore, Counters]:
    counters = Counters()
    config = room_config(tick_rate=10, **overrides)
    return RelayCore("r", config, counters, player_refusal=REFUSAL, backlog=64), counters


def run(relay: RelayCore, owner: Owner, ticks: range, lost: frozenset[int] = frozenset()) -> None:
    for n in ticks:
        now = n * DT
        payload = owner.tick(now)
        if n not in lost:
            relay.receive(payload)
        relay.collect(now)
        relay.deliver(now)


def test_a_spectator_waits_for_the_stream_then_gets_the_owners_bytes() -> None:
    owner, (relay, _) = Owner(), make_relay()
    watcher, old = FakeConnection(), FakeConnection(protocol_version=1)
    relay.attach(watcher, 0.0)
    relay.attach(old, 0.0)
    watcher.inbox.append(encode(Join(Role.SPECTATOR, "w")))
    old.inbox.append(encode(Join(Role.SPECTATOR, "o")))
    relay.collect(0.0)
    assert watcher.received == [] and not watcher.closing  # no stream yet: the Join waits
    published: list[bytes] = []
    for n in range(1, 6):
        payload = owner.tick(n * DT)
        published.append(cbor2.loads(payload)[0])
        relay.receive(payload)
        relay.collect(n * DT)
        relay.deliver(n * DT)
    assert isinstance(watcher.welcome, Welcome) and watcher.welcome.schema is not None
    assert watcher.welcome.tick == 1 and watcher.welcome.entity_id == 0
    assert old.welcome is not None and old.welcome.schema is None  # protocol 1: no schema
    assert old.welcome.protocol_version == 1
    # Greeted at tick 2, a full snapshot of the mirror first, then the owner's own bytes.
    assert watcher.snapshots()[0].baseline_tick == 0
    assert watcher.sent[1:] == published[2:]
    assert old.sent == watcher.sent  # one encoding for every spectator
    owner_view = owner.core.game.view_state(None, owner.core.game.wire_state())
    assert watcher.mirror == owner_view and watcher.mirror_tick == 5


def test_a_skipped_spectator_and_a_lost_message_start_again_from_a_full_snapshot() -> None:
    owner, (relay, counters) = Owner(), make_relay()
    watcher = FakeConnection()
    relay.attach(watcher, 0.0)
    watcher.inbox.append(encode(Join(Role.SPECTATOR, "w")))
    run(relay, owner, range(1, 5))
    watcher.busy = True
    run(relay, owner, range(5, 7))
    assert counters.snapshots_skipped == 2
    watcher.busy = False
    run(relay, owner, range(7, 9))
    assert [s.baseline_tick for s in watcher.snapshots()[-2:]] == [0, 7]
    # A message lost between nodes: nothing until the next keyframe (every 10th message:
    # at ticks 1, 11, 21).
    run(relay, owner, range(9, 12))
    before = len(watcher.sent)
    run(relay, owner, range(12, 21), lost=frozenset({12}))
    assert len(watcher.sent) == before and relay.mirror.tick == 0
    run(relay, owner, range(21, 23))
    assert [s.baseline_tick for s in watcher.snapshots()[-2:]] == [0, 21]
    assert watcher.mirror == owner.core.game.view_state(None, owner.core.game.wire_state())


def test_players_and_late_joins_are_refused_as_the_relay_says() -> None:
    relay, counters = make_relay(join_timeout_s=0.5)
    player, silent, twice = FakeConnection(), FakeConnection(), FakeConnection()
    for connection in (player, silent, twice):
        relay.attach(connection, 0.0)
    player.inbox.append(encode(Join(Role.PLAYER, "p")))
    twice.inbox += [encode(Join(Role.SPECTATOR, "t")), encode(Join(Role.SPECTATOR, "t"))]
    relay.collect(0.0)
    assert (player.close_code, player.close_reason) == (CloseCode.POLICY_VIOLATION, REFUSAL)
    assert twice.close_code == CloseCode.UNEXPECTED_MESSAGE
    assert counters.protocol_errors[CloseCode.POLICY_VIOLATION] == 1  # counted, as in a live room
    relay.collect(0.6)  # no stream came in time
    assert (silent.close_code, silent.close_reason) == (
        CloseCode.POLICY_VIOLATION,
        "no stream from the room in time",
    )
    assert counters.join_timeouts == 1 and relay.admission.spectator_count == 0


def test_a_join_token_is_held_to_its_role_as_a_live_room_holds_it() -> None:
    """A token for a player alone may not watch through a relay either; a spectator's
    token and an identity allowed to play may."""
    owner, (relay, counters) = Owner(), make_relay()
    live = owner.core
    tokens = {
        "player": JoinClaims("p", "P", Role.PLAYER, None, 0.0, kind=KIND_JOIN),
        "spectator": JoinClaims("s", "S", Role.SPECTATOR, None, 0.0, kind=KIND_JOIN),
        "identity": JoinClaims("i", "I", Role.PLAYER, None, 0.0, kind=KIND_IDENTITY),
    }
    on_relay = {name: FakeConnection() for name in tokens}
    in_room = {name: FakeConnection() for name in tokens}
    for name, claims in tokens.items():
        relay.attach(on_relay[name], 0.0, claims)
        live.attach(in_room[name], 0.0, claims)
        for connection in (on_relay[name], in_room[name]):
            connection.inbox.append(encode(Join(Role.SPECTATOR, name)))
    run(relay, owner, range(1, 4))
    reason = "join as spectator: the token is for a player"
    for where in (on_relay, in_room):
        assert (where["player"].close_code, where["player"].close_reason) == (
            CloseCode.POLICY_VIOLATION,
            reason,
        )
        assert isinstance(where["spectator"].welcome, Welcome)
        assert isinstance(where["identity"].welcome, Welcome)
    assert counters.protocol_errors[CloseCode.POLICY_VIOLATION] == 1


def test_spectators_are_answered_as_a_live_rooms_are() -> None:
    owner, (relay, counters) = Owner(), make_relay(chat_burst=1)
    watcher = FakeConnection()
    relay.attach(watcher, 0.0)
    watcher.inbox.append(encode(Join(Role.SPECTATOR, "w")))
    said: list[str] = []
    relay.intake.on_say = lambda name, text: said.append(f"{name}: {text}")
    run(relay, owner, range(1, 4))
    watcher.inbox += [
        encode(Ping(7)),
        encode(Input(1, (1, 0), 0)),
        encode(Command((0, 3))),
        encode(Say("hi")),
        encode(Say("again")),
    ]
    relay.collect(0.35)
    pong = next(m for m in watcher.received if isinstance(m, Pong))
    assert pong.nonce == 7 and pong.server_time_ms == 350  # the owner's clock (300 ms) + 50
    errors = [m for m in watcher.received if isinstance(m, Error)]
    assert [e.code for e in errors] == [
        ErrorCode.SPECTATOR_INPUT,
        ErrorCode.SPECTATOR_INPUT,
        ErrorCode.CHAT_RATE_LIMITED,
    ]
    assert errors[1].reason == "spectators cannot send commands"
    assert errors[2].reason == "chat: too many messages"
    assert said == ["w: hi"] and counters.spectator_inputs == 2
    assert not watcher.closing


def test_spectators_beyond_the_limit_are_refused_with_4009() -> None:
    owner, (relay, counters) = Owner(), make_relay(max_spectators_per_room=1)
    first, second = FakeConnection(), FakeConnection()
    for connection in (first, second):
        relay.attach(connection, 0.0)
        connection.inbox.append(encode(Join(Role.SPECTATOR, "s")))
    run(relay, owner, range(1, 3))
    assert first.welcome is not None and second.close_code == CloseCode.ROOM_FULL
    assert counters.room_full == 1
