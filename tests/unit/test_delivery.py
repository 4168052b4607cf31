"""The three delivery strategies with plain calls: shared bodies, interest, per viewer."""

from __future__ import annotations

import attrs

from gameserver.core import EventHistory, GameHost, Session
from gameserver.core.delivery import Delivery
from gameserver.core.inputs import InputQueue
from gameserver.protocol import Role, WireState, encode_uint, snapshot_prefix
from gameserver.rules import Player, Rules

from .fakes import Counters, FakeConnection, room_config
from .test_rules_api import Climb, Guess, Move, Settings

TIME_MS = 1000


class OpenClimb(Climb):
    """Climb without views: every viewer may see every secret."""

    view = Rules.view  # type: ignore[assignment]


@attrs.define
class Table:
    """A game, its event history, a delivery and the sessions it delivers to."""

    game: GameHost
    events: EventHistory
    delivery: Delivery
    counters: Counters
    sessions: dict[FakeConnection, Session] = attrs.Factory(dict)

    def seat(self, name: str, role: Role = Role.PLAYER) -> FakeConnection:
        player = role is Role.PLAYER
        entity_id = self.game.join(Player(name, name, {})) if player else 0
        connection = FakeConnection(decoding=self.delivery.interest is None)
        self.sessions[connection] = Session(
            connection=connection,
            role=role,
            name=name,
            entity_id=entity_id,
            input_queue=InputQueue(4),
            joined_tick=self.game.tick,
            player_id=name if player else "",
        )
        return connection

    def tick(self) -> None:
        events = self.game.step()
        self.events.add(self.game.tick, events)
        self.delivery.deliver(self.sessions, self.game.tick, TIME_MS, len(self.game.players))  # type: ignore[arg-type]


def make_table(
    rules: type[Climb] = OpenClimb, interest: object = None, **overrides: object
) -> Table:
    config = room_config(**overrides)
    game = GameHost(rules(Settings(goal=1000), seed=3), tick_rate=config.rooms.tick_rate)
    events = EventHistory(config.rooms.event_history_ticks)
    counters = Counters()
    delivery = Delivery(game, events, config, counters, interest)  # type: ignore[arg-type]
    return Table(game, events, delivery, counters)


def climb(table: Table, name: str) -> None:
    table.game.set_input(name, table.game.decode_input([int(Move.UP)]))


def baselines(connection: FakeConnection) -> list[int]:
    return [s.baseline_tick for s in connection.snapshots()]


def test_conflation_skips_a_busy_connection_and_keeps_its_baseline() -> None:
    table = make_table()
    mover, slow = table.seat("mover"), table.seat("slow")
    climb(table, "mover")
    for tick in range(1, 11):
        slow.busy = 3 <= tick < 8
        table.tick()
        assert mover.mirror == table.game.wire_state()
    assert slow.mirror == table.game.wire_state()
    assert table.counters.snapshots_skipped == 5
    assert baselines(slow) == [0, 1, 2, 8, 9]  # tick 8, the first after the gap, is against 2
    assert baselines(mover) == [0, *range(1, 10)]


def test_spectators_share_one_message_and_players_one_body() -> None:
    table = make_table()
    players = [table.seat(f"p{i}") for i in range(3)]
    watchers = [table.seat(f"s{i}", Role.SPECTATOR) for i in range(3)]
    climb(table, "p0")
    table.tick()
    table.tick()
    assert all(w.sent[-1] is watchers[0].sent[-1] for w in watchers)  # encoded once
    head = len(snapshot_prefix(2, 1, TIME_MS) + encode_uint(0))
    assert len({p.sent[-1][head:] for p in players}) == 1  # one body, per-player ack before it
    assert all(w.mirror == table.game.wire_state() for w in watchers)


def test_a_quiet_viewer_is_sent_nothing_until_the_idle_interval() -> None:
    table = make_table(Climb, tick_rate=30, idle_snapshot_interval_s=0.5)  # 15 ticks
    ada, bob = table.seat("ada"), table.seat("bob")
    table.tick()
    assert len(ada.sent) == len(bob.sent) == 1  # the first: the whole view
    for _ in range(14):
        table.tick()
    assert len(ada.sent) == len(bob.sent) == 1  # nothing new: nothing sent
    table.tick()
    assert len(ada.sent) == len(bob.sent) == 2  # 15 ticks on: one to say it is alive
    assert not ada.snapshots()[-1].changes and not ada.snapshots()[-1].events
    climb(table, "ada")
    table.tick()
    assert len(ada.sent) == len(bob.sent) == 3  # a change both may see goes to both
    table.game.set_input("ada", table.game.decode_input([int(Move.STAY)]))
    table.tick()  # nothing changes for anyone
    assert len(ada.sent) == len(bob.sent) == 3


def test_each_viewer_gets_its_own_view_and_only_its_private_events() -> None:
    table = make_table(Climb)
    ada, bob = table.seat("ada"), table.seat("bob")
    watcher = table.seat("w", Role.SPECTATOR)
    table.tick()
    tokens = table.game.rules.tokens  # type: ignore[attr-defined]
    mine, theirs = (table.sessions[c].entity_id for c in (ada, bob))
    assert ada.mirror[mine][3] == tokens[mine].secret and ada.mirror[theirs][3] == 0
    assert all(entity[3] == 0 for entity in watcher.mirror.values())
    table.game.command("ada", Guess(number=tokens[theirs].secret))
    table.tick()
    kinds = {c: [e[1] for s in c.snapshots() for e in s.events] for c in (ada, bob, watcher)}
    assert kinds == {ada: [0, 1], bob: [0], watcher: [0]}  # Told (1) reaches ada alone


def test_private_events_choose_per_viewer_delivery_for_a_game_without_views() -> None:
    table = make_table()
    ada, bob = table.seat("ada"), table.seat("bob")
    table.tick()
    table.game.command("ada", Guess(number=0))
    table.tick()
    assert [e[1] for s in ada.snapshots() for e in s.events] == [0, 1]
    assert [e[1] for s in bob.snapshots() for e in s.events] == [0]


@attrs.define
class FakeTick:
    tick: int
    cell_of: dict[int, int]

    def body(self, centre: int, prev_centre: int) -> bytes:
        return f"delta {centre} {prev_centre}".encode()

    def full_body(self, centre: int, events: bytes) -> bytes:
        return f"full {centre} ".encode() + events


@attrs.define
class FakeInterest:
    """Every entity in cell 5; bodies name what was asked for."""

    prev_tick: int = 0
    ticks_built: list[int] = attrs.Factory(list)

    def for_tick(self, tick: int, state: WireState, events: bytes) -> FakeTick:
        self.ticks_built.append(tick)
        self.prev_tick = tick
        return FakeTick(tick, {entity_id: 5 for entity_id in state})


def test_with_interest_a_steady_player_gets_deltas_and_a_skipped_one_a_full_view() -> None:
    interest = FakeInterest()
    table = make_table(interest=interest)
    steady, skipped = table.seat("steady"), table.seat("skipped")
    for tick in range(1, 5):
        skipped.busy = tick == 3
        table.tick()
    # Deltas for the cell it was in and is in, against the previous snapshot; a full view
    # of its cell (baseline 0) for a new joiner and after a skipped snapshot.
    delta = encode_uint(0) + b"delta 5 5"
    assert steady.sent[0].startswith(snapshot_prefix(1, 0, TIME_MS) + encode_uint(0) + b"full 5")
    assert steady.sent[1:] == [snapshot_prefix(t, t - 1, TIME_MS) + delta for t in (2, 3, 4)]
    assert skipped.sent[:2] == steady.sent[:2]
    assert skipped.sent[2].startswith(snapshot_prefix(4, 0, TIME_MS) + encode_uint(0) + b"full 5")
    assert interest.ticks_built == [1, 2, 3, 4] and table.counters.snapshots_skipped == 1
    assert table.sessions[skipped].interest_centre == 5


def test_with_interest_and_no_player_no_interest_tick_is_built() -> None:
    interest = FakeInterest()
    table = make_table(interest=interest)
    watcher = table.seat("w", Role.SPECTATOR)
    table.tick()
    assert interest.ticks_built == [] and len(watcher.sent) == 1  # the whole world, as ever
