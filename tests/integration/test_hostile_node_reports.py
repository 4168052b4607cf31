"""False reports that a healthy node is unreachable: checked, and they change nothing.

Two nodes share a real Redis: the healthy one (``n0``) a process of its own. An attacker
floods the other with match requests that name the healthy node (or the flooded node
itself, or a node nobody registered) as unreachable. Matchmaking probes the named node, finds it
answering, and keeps offering it: its room stays in the directory and new players are
still placed there; the players alongside on the flooded node notice nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import trio

from gameserver.clients import connect
from gameserver.clients.matchmaking import find_match
from gameserver.server import GameServer
from tests.conftest import make_config

from .alongside import innocent_requests, players_alongside
from .httpclient import http_client
from .test_cluster import cluster

ATTACKER = "127.0.0.2"
FLOOD_S = 3.0  # longer than the probe interval: a healthy node is probed again, not more
FLOOD_CONNECTIONS = 1
MAX_REQUESTS = 5000  # per connection, a bound on the loop


@asynccontextmanager
async def two_nodes(redis_url: str, tmp_path: Path) -> AsyncIterator[GameServer]:
    """The flooded node (in this process, so its players and metrics can be watched) and,
    as a process of its own, the healthy node the attacker names."""
    # The flooded node takes no matchmade rooms (capacity 1, below its crowd), so every
    # room goes to the healthy node. No per-address limits: the attack meets the probe's
    # own bound, not the match request limits it would ride on.
    flooded = GameServer(
        make_config(
            redis_url=redis_url,
            node_id="flooded",
            node_capacity=1,
            match_rate_per_s=0,
            max_unconfirmed_seats_per_address=0,
        )
    )
    async with (
        cluster(redis_url, tmp_path, size=1, extra={0: ["--node-ttl", "10"]}),
        trio.open_nursery() as nursery,
    ):
        await nursery.start(flooded.run)
        yield flooded
        nursery.cancel_scope.cancel()


async def test_false_reports_about_a_healthy_node_change_nothing(
    redis_url: str, tmp_path: Path
) -> None:
    async with two_nodes(redis_url, tmp_path) as flooded:
        assert flooded.matchmaker is not None
        entry = flooded.http_url
        seat = await find_match(entry, mode="squad", name="placed")
        assert seat.node == "n0"
        statuses: list[int] = []

        async def flood(until: float) -> None:
            async with http_client(flooded.port, local_address=ATTACKER) as client:
                for i in range(MAX_REQUESTS):
                    if trio.current_time() >= until:
                        return
                    victim = ["n0", "flooded", "nobody"][i % 3]
                    body = json.dumps({"mode": "nope", "unreachable": victim}).encode()
                    await client.send_request_body("POST", "/api/match", body)
                    statuses.append((await client.read_result()).status)

        async with connect(seat.url, name="placed") as placed:
            await placed.next_snapshot()
            async with players_alongside(flooded) as crowd, crowd.attack():
                started = trio.current_time()
                with trio.fail_after(FLOOD_S + 10):
                    async with trio.open_nursery() as attackers:
                        for _ in range(FLOOD_CONNECTIONS):
                            attackers.start_soon(flood, started + FLOOD_S)
                flood_s = trio.current_time() - started
                innocent = await innocent_requests(flooded)
            assert placed.failure is None  # the player on the healthy node plays on
        assert innocent.joined and innocent.healthz_status == 200 and innocent.match_status == 200
        assert statuses == [404] * len(statuses)  # an unknown mode, once the report is checked
        metrics = flooded.metrics
        probes = metrics.node_reports_refuted
        print(f"{len(statuses)} false reports in {flood_s:.2f} s: {probes} probes, none evicted")
        assert metrics.node_reports == len(statuses) > 100
        assert metrics.nodes_evicted == 0
        # One probe per probe interval at most, whatever the flood.
        interval = flooded.config.cluster.node_probe_interval_s
        assert 1 <= metrics.node_reports_refuted <= flood_s / interval + 1
        # The healthy node and its room are still offered: the next player joins that room.
        directory = flooded.matchmaker.directory
        assert [n.node_id for n in await directory.nodes()] == ["flooded", "n0"]
        assert await directory.room(seat.room, now_s=time.time()) is not None
        again = await find_match(entry, mode="squad", name="next")
        assert (again.node, again.room) == ("n0", seat.room)
