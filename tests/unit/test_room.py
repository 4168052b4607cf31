"""The room's tick through the connection seam, without sockets.

``FakeConnection`` (``fakes.py``) implements the four-method seam a transport offers,
so these tests drive collect/step/deliver directly, tick by tick.
"""

from __future__ import annotations

from gameserver.core import GameHost
from gameserver.games.arena import POSITION_SCALE, ArenaRules, ArenaSettings, Buttons
from gameserver.protocol import (
    Input,
    Join,
    Role,
    Snapshot,
    decode_server_message,
    encode,
)
from gameserver.server.metrics import Metrics
from gameserver.server.rooms.modes import default_mode, resolved, room_config
from gameserver.server.rooms.room import Room
from tests.conftest import make_config

from .fakes import FakeConnection


def make_room(**overrides: object) -> Room:
    config = make_config(**overrides)
    config = room_config(config, resolved(default_mode(config), ArenaRules))  # as a server does
    rules = ArenaRules(ArenaSettings(**config.game.game_settings), seed=1)
    return Room("test", GameHost(rules, tick_rate=config.rooms.tick_rate), config, Metrics())


def join(room: Room, role: Role = Role.PLAYER, name: str = "p") -> FakeConnection:
    connection = FakeConnection()
    room.attach(connection)
    connection.inbox.append(encode(Join(role, name)))
    return connection


def x_of(room: Room, connection: FakeConnection) -> float:
    assert connection.welcome is not None
    return room.game.wire_state()[connection.welcome.entity_id][1] / POSITION_SCALE


async def test_a_flooding_client_moves_no_faster_than_a_steady_one() -> None:
    room = make_room()
    steady, flooder = join(room, name="steady"), join(room, name="flooder")
    room.tick()
    for y, connection in ((300.0, steady), (700.0, flooder)):
        assert connection.welcome is not None
        room.game.rules.place(connection.welcome.entity_id, 200.0, y)  # type: ignore[attr-defined]
    start = x_of(room, steady), x_of(room, flooder)
    seq = {steady: 0, flooder: 0}
    for _ in range(20):
        for connection, per_tick in ((steady, 1), (flooder, 10)):
            for _ in range(per_tick):
                seq[connection] += 1
                connection.inbox.append(encode(Input(seq[connection], (Buttons.RIGHT, 0), 0)))
        room.tick()
    moved = x_of(room, steady) - start[0], x_of(room, flooder) - start[1]
    assert moved[0] > 100  # 20 ticks at 200 units/s
    assert moved[1] == moved[0]
    assert room.metrics.inputs_dropped_queue_full > 0


async def test_duplicate_and_stale_inputs_are_dropped_and_counted() -> None:
    room = make_room()
    player = join(room)
    room.tick()
    for seq in (5, 5, 3, 6):
        player.inbox.append(encode(Input(seq, (Buttons.RIGHT, 0), 0)))
    room.tick()
    assert room.metrics.inputs_dropped_stale == 2
    room.tick()
    room.tick()  # queue drained: the last frame (6) is repeated, ack stays 6
    session = room.sessions[player]
    assert session.ack_seq == 6


async def test_a_skipped_connection_catches_up_with_a_delta_against_its_own_baseline() -> None:
    room = make_room(interest_management=False)
    mover, slow = join(room, name="mover"), join(room, name="slow")
    for seq in range(1, 11):
        mover.inbox.append(encode(Input(seq, (Buttons.DOWN | Buttons.RIGHT, 0), 0)))
        if seq == 3:
            slow.busy = True
        if seq == 8:
            slow.busy = False
        room.tick()
        assert mover.mirror == room.game.wire_state()
    assert slow.mirror == room.game.wire_state()
    assert room.metrics.snapshots_skipped == 5
    baselines = [decode_server_message(s).baseline_tick for s in slow.sent]  # type: ignore[union-attr]
    assert baselines == [0, 1, 2, 8, 9]  # tick 8, the first after the gap, is against tick 2


async def test_spectators_share_one_encoded_message() -> None:
    room = make_room()
    join(room)
    spectators = [join(room, Role.SPECTATOR, f"s{i}") for i in range(5)]
    room.tick()
    room.tick()
    latest = [s.sent[-1] for s in spectators]
    assert all(message is latest[0] for message in latest)
    assert all(s.welcome is not None and s.welcome.entity_id == 0 for s in spectators)


async def test_room_full_refuses_the_extra_player() -> None:
    room = make_room(max_players_per_room=2)
    first, second, third = join(room), join(room), join(room)
    room.tick()
    assert first.welcome and second.welcome and third.welcome is None
    assert third.close_code == 4009
    assert room.player_count == 2


async def test_with_interest_a_skipped_connection_restarts_from_a_full_view() -> None:
    room = make_room()
    mover, slow = join(room, name="mover"), join(room, name="slow")
    room.tick()
    for connection, y in ((mover, 300.0), (slow, 320.0)):
        assert connection.welcome is not None
        room.game.rules.place(connection.welcome.entity_id, 300.0, y)  # type: ignore[attr-defined]
    for seq in range(1, 11):
        mover.inbox.append(encode(Input(seq, (Buttons.RIGHT, 0), 0)))
        slow.busy = 3 <= seq < 8
        room.tick()
    baselines = [decode_server_message(s).baseline_tick for s in slow.sent]  # type: ignore[union-attr]
    assert baselines == [0, 1, 2, 0, 9, 10]  # after the gap: a full view, then deltas again
    assert slow.welcome is not None and mover.welcome is not None
    me, other = slow.welcome.entity_id, mover.welcome.entity_id
    assert slow.mirror[me] == room.game.wire_state()[me]
    assert slow.mirror[other] == room.game.wire_state()[other]  # near, so exact


async def test_messages_right_behind_the_join_are_not_lost() -> None:
    room = make_room()
    player = FakeConnection()
    room.attach(player)
    player.inbox += [
        encode(Join(Role.PLAYER, "quick")),
        encode(Input(1, (Buttons.RIGHT, 0), 0)),
    ]
    room.tick()
    assert room.sessions[player].ack_seq == 1
    again = FakeConnection()
    room.attach(again)
    again.inbox += [encode(Join(Role.PLAYER, "a")), encode(Join(Role.PLAYER, "b"))]
    room.tick()
    assert again.close_code == 4003


async def test_a_skipped_player_still_gets_the_events_it_missed() -> None:
    room = make_room()
    shooter, target = join(room, name="shooter"), join(room, name="target")
    room.tick()
    assert shooter.welcome is not None and target.welcome is not None
    room.game.rules.place(shooter.welcome.entity_id, 300.0, 300.0)  # type: ignore[attr-defined]
    room.game.rules.place(target.welcome.entity_id, 400.0, 300.0)  # type: ignore[attr-defined]
    target.busy = True  # its snapshots are skipped while it is hit
    hits: list[tuple[int, ...]] = []
    for seq in range(1, 30):
        shooter.inbox.append(encode(Input(seq, (Buttons.FIRE, 0), 0)))  # aim 0: along +x
        room.tick()
    target.busy = False
    room.tick()
    last = decode_server_message(target.sent[-1])
    assert isinstance(last, Snapshot) and last.baseline_tick == 0  # a full view after the gap
    hits = [e for e in last.events if e[1] == 0 and e[3] == target.welcome.entity_id]
    assert len(hits) >= 2  # every hit taken while skipped is in it


async def test_input_frames_beyond_the_per_tick_cap_are_dropped_and_counted() -> None:
    room = make_room(max_inputs_per_tick=4)
    player = join(room)
    room.tick()
    player.inbox += [encode(Input(seq, (Buttons.RIGHT, 0), 0)) for seq in range(1, 11)]
    room.tick()
    assert room.metrics.inputs_dropped_per_tick == 6
    assert len(room.sessions[player].input_queue) == 3  # 4 accepted, 1 consumed this tick
