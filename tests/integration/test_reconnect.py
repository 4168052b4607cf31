"""The client library reconnects after a drop, and gives up clearly when it cannot."""

from __future__ import annotations

import pytest
import trio

from gameserver.clients import ReconnectFailed, ReconnectPolicy, connect
from gameserver.clients.latency import LatencyRelay
from gameserver.protocol import ErrorCode, Role
from gameserver.server import GameServer
from tests.conftest import make_config

FAST_RETRY = ReconnectPolicy(max_attempts=3, base_delay_s=0.05, max_delay_s=0.2)
SLOW_RETRY = ReconnectPolicy(max_attempts=3, base_delay_s=1.0, max_delay_s=1.0, jitter=0.0)


async def test_client_reconnects_after_the_connection_is_cut(
    server: GameServer, nursery: trio.Nursery
) -> None:
    relay = LatencyRelay("127.0.0.1", server.port)
    await nursery.start(relay.run)
    async with connect(relay.url(), name="phoenix", reconnect=FAST_RETRY) as client:
        await client.next_snapshot()
        first_entity = client.entity_id
        relay.drop_all()
        with trio.fail_after(5):
            await client.wait_for(lambda c: c.stats.reconnects == 1 and c.connected)
            before = client.stats.snapshots_received
            await client.wait_for(lambda c: c.stats.snapshots_received >= before + 10)
        assert client.entity_id == first_entity  # resumed: the same entity
        assert client.me is not None and client.failure is None
        assert relay.connections == 2
        assert server.metrics.resumes == 1 and not client.errors


async def test_client_gives_up_after_bounded_attempts_with_a_clear_error() -> None:
    started = trio.current_time()
    with pytest.raises(ReconnectFailed) as info:
        async with connect("ws://127.0.0.1:9/ws", reconnect=FAST_RETRY):
            pass
    assert info.value.attempts == 3
    assert "gave up after 3 attempts" in str(info.value)
    assert "OSError" in str(info.value)
    assert trio.current_time() - started < 2


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    import random

    policy = ReconnectPolicy(base_delay_s=0.1, max_delay_s=1.0, jitter=0.5)
    rng = random.Random(1)
    delays = [[policy.delay_s(attempt, rng) for attempt in range(1, 7)] for _ in range(50)]
    for attempt, nominal in enumerate([0.1, 0.2, 0.4, 0.8, 1.0, 1.0]):
        column = [row[attempt] for row in delays]
        assert all(nominal * 0.5 <= d <= nominal for d in column)
        assert len(set(column)) > 1  # jittered, so clients do not retry in lockstep


async def test_a_resumed_player_keeps_its_score_and_an_expired_token_is_refused(
    nursery: trio.Nursery,
) -> None:
    server = GameServer(make_config(resume_grace_s=0.5))
    await nursery.start(server.run)
    game = server.rooms["default"].game.rules
    relay = LatencyRelay("127.0.0.1", server.port)
    await nursery.start(relay.run)
    async with connect(relay.url(), name="scorer", reconnect=FAST_RETRY) as client:
        await client.next_snapshot()
        entity = client.entity_id
        game._players[entity].score = 7  # type: ignore[attr-defined]  # as if it had scored
        relay.drop_all()
        with trio.fail_after(5):
            await client.wait_for(lambda c: c.stats.reconnects == 1 and c.connected and c.me)
        assert client.entity_id == entity
        assert game._players[entity].score == 7  # type: ignore[attr-defined]  # state intact
    # Gone for longer than the grace period: the entity is removed, the token refused.
    async with connect(relay.url(), name="late", reconnect=SLOW_RETRY) as client:
        await client.next_snapshot()
        entity = client.entity_id
        relay.drop_all()
        with trio.fail_after(10):
            await client.wait_for(lambda c: c.stats.reconnects == 1 and c.connected and c.me)
        assert client.entity_id != entity
        assert [e.code for e in client.errors] == [ErrorCode.RESUME_REFUSED]
        assert entity not in client.world  # the old entity was removed
    assert server.metrics.resumes == 1 and server.metrics.resumes_refused == 1


async def test_a_player_who_leaves_is_removed_at_once(server: GameServer) -> None:
    spectator = {"role": Role.SPECTATOR}  # sees the whole world
    with trio.fail_after(5):
        async with connect(server.url, name="leaver") as leaver:
            async with connect(server.url, **spectator) as other:  # type: ignore[arg-type]
                await other.wait_for(lambda c: leaver.entity_id in c.world)
            entity = leaver.entity_id
        async with connect(server.url, **spectator) as watcher:  # type: ignore[arg-type]
            await watcher.next_snapshot()
            assert entity not in watcher.world
    assert server.metrics.resumes == 0
