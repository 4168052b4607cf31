"""The spectator stream for other nodes, with plain calls: keyframes and deltas."""

from __future__ import annotations

from gameserver.core import EventHistory, GameHost
from gameserver.core.publishing import Publisher
from gameserver.protocol import Snapshot, Welcome, apply, decode_server_message
from gameserver.rules import Player

from .fakes import room_config
from .test_delivery import OpenClimb
from .test_rules_api import Move, Settings


def test_keyframes_with_the_welcome_then_deltas_against_the_previous_message() -> None:
    config = room_config(tick_rate=4)
    game = GameHost(OpenClimb(Settings(goal=1000), seed=3), tick_rate=config.rooms.tick_rate)
    events = EventHistory(config.rooms.event_history_ticks)
    publisher = Publisher(game, config, events)
    game.join(Player("ada", "ada", {}))
    game.set_input("ada", game.decode_input([int(Move.UP)]))
    mirror: dict[int, tuple[object, ...]] = {}
    published: list[tuple[Snapshot, Welcome | None]] = []
    for _ in range(6):
        events.add(game.tick + 1, [([0, 1, 1], None)] if game.tick == 2 else [])
        game.step()
        message, greeting = publisher.publish(game.tick, 50 * game.tick, game.wire_state())
        snapshot = decode_server_message(message)
        assert isinstance(snapshot, Snapshot)
        welcome = decode_server_message(greeting) if greeting is not None else None
        assert welcome is None or isinstance(welcome, Welcome)
        published.append((snapshot, welcome))
        mirror = apply(mirror if snapshot.baseline_tick else {}, snapshot.changes, snapshot.removed)
        assert mirror == game.wire_state()  # a relay following the stream has the world
    assert [s.baseline_tick for s, _ in published] == [0, 1, 2, 3, 0, 5]  # keyframe: 4 a second
    assert [w is not None for _, w in published] == [True, False, False, False, True, False]
    first = published[0][1]
    assert first is not None and (first.entity_id, first.resume) == (0, "")
    assert [s.events for s, _ in published][2] == ((3, 0, 1, 1),)  # the events since the last
    assert [s.server_time_ms for s, _ in published] == [50, 100, 150, 200, 250, 300]
