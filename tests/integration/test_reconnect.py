"""The client library reconnects after a drop, and gives up clearly when it cannot."""

from __future__ import annotations

import pytest
import trio

from clients import ReconnectFailed, ReconnectPolicy, connect
from clients.relay import LatencyRelay
from gameserver.server import GameServer

FAST_RETRY = ReconnectPolicy(max_attempts=3, base_delay_s=0.05, max_delay_s=0.2)


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
        assert client.entity_id != first_entity  # a fresh join: no resume token yet
        assert client.me is not None and client.failure is None
        assert relay.connections == 2


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
