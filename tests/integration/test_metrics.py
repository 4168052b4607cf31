"""/metrics, read with prometheus_client's own parser, agrees with what clients did."""

from __future__ import annotations

import json

import cbor2
import trio
from prometheus_client.parser import text_string_to_metric_families

from gameserver.clients import ClientClosed, connect
from gameserver.protocol import CloseCode, Ping, encode
from gameserver.server import GameServer

from .helpers import run_swarm
from .httpclient import get


async def scrape(server: GameServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Sample name and sorted labels -> value, as a Prometheus server would read them."""
    result = await get(server.port, "/metrics")
    assert result.status == 200
    assert result.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(result.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def test_counters_agree_with_a_swarm_run(server: GameServer) -> None:
    with trio.fail_after(60):
        code, out, err = await run_swarm(
            "--url", server.url, "--bots", "20", "--duration", "2", "--json"
        )
    assert code == 0, err
    summary = json.loads(out)
    with trio.fail_after(5):
        while server.connections:  # the last bots' departures reach the server
            await trio.sleep(0.01)
    samples = await scrape(server)
    assert value(samples, "gameserver_connections_opened_total") == 20
    assert value(samples, "gameserver_connections_closed_total") == 20
    assert value(samples, "gameserver_connections") == 0
    assert value(samples, "gameserver_bytes_in_total") == summary["bytes_sent"]
    # The server sent at least what the bots read, and at most a snapshot or two per bot more.
    bytes_out = value(samples, "gameserver_bytes_out_total")
    assert summary["bytes_received"] <= bytes_out <= summary["bytes_received"] * 1.02
    snapshots = value(samples, "gameserver_snapshots_sent_total")
    assert 0 <= snapshots - summary["snapshots_received"] <= 40
    # Per room: players gone, ticks counted once in the counter and once in each histogram.
    assert value(samples, "gameserver_room_players", room="default", game="arena") == 0
    ticks = value(samples, "gameserver_room_ticks_total", room="default", game="arena")
    assert ticks >= 2 * 30
    duration_count = value(
        samples, "gameserver_room_tick_duration_seconds_count", room="default", game="arena"
    )
    lateness_count = value(
        samples, "gameserver_room_tick_lateness_seconds_count", room="default", game="arena"
    )
    assert duration_count == lateness_count and abs(duration_count - ticks) <= 1
    inf = value(
        samples,
        "gameserver_room_tick_duration_seconds_bucket",
        room="default",
        game="arena",
        le="+Inf",
    )
    assert inf == duration_count
    assert (
        value(samples, "gameserver_room_tick_duration_seconds_sum", room="default", game="arena")
        > 0
    )


async def test_protocol_errors_and_limit_hits_are_labelled(server: GameServer) -> None:
    async with connect(server.url, name="steady") as steady:
        await steady.next_snapshot()
        for bad in (cbor2.dumps([42, 1]), cbor2.dumps([42, 1]), b"\xff\xfe"):
            try:
                async with connect(server.url, name="bad") as client:
                    await client.next_snapshot()
                    await client.send_raw(bad)
                    with trio.fail_after(5):
                        await client.wait_for(lambda c: c.close_code is not None)
            except ClientClosed:
                pass
        async with connect(server.url, name="flood") as flood:
            await flood.next_snapshot()
            for nonce in range(300):  # far beyond message_burst (120)
                await flood.send_raw(encode(Ping(nonce)))
            with trio.fail_after(5):
                await flood.wait_for(lambda c: c.close_code is not None)
            assert flood.close_code == CloseCode.RATE_LIMITED
        samples = await scrape(server)
        assert value(samples, "gameserver_room_players", room="default", game="arena") == 1
    unknown_type, invalid = CloseCode.UNKNOWN_MESSAGE_TYPE, CloseCode.INVALID_PAYLOAD
    assert value(samples, "gameserver_protocol_errors_total", code=str(unknown_type)) == 2
    assert value(samples, "gameserver_protocol_errors_total", code=str(invalid)) == 1
    assert value(samples, "gameserver_limit_hits_total", limit="message_rate") == 1
    assert value(samples, "gameserver_limit_hits_total", limit="room_full") == 0
    assert value(samples, "gameserver_input_drops_total", reason="stale") == 0
