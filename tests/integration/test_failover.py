"""A node dies under a swarm placed by matchmaking: its bots are placed again, at once.

Two server processes share one real Redis with the default node TTL (10 s). The swarm
asks the first node for seats; when the second is killed, its bots tell matchmaking the
node is unreachable, matchmaking checks that and stops offering it, and the bots play
on the first node again within a few seconds: long before the TTL would have run out.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import pytest
import trio

from .httpclient import get
from .test_cluster import Node, cluster

BOTS = 16
SWARM_S = 60.0  # a bound: the run is ended (SIGTERM) once the bots play on again
PLACED_WITHIN_S = 20.0  # the swarm starts and every bot plays
DEFAULT_NODE_TTL = ["--node-ttl", "10"]  # after the cluster's own short one: the default
REPLACED_WITHIN_S = 4.0  # "within a few seconds", far under the 10 s TTL


async def players_on(node: Node) -> int:
    rooms = (await get(node.port, "/api/rooms")).json()
    return sum(int(room["players"]) for room in rooms if room["name"].startswith("squad-"))


@pytest.mark.parametrize("killed", ["other", "entry"])
async def test_swarm_bots_of_a_killed_node_play_again_on_the_other_within_seconds(
    redis_url: str, tmp_path: Path, killed: str
) -> None:
    # "entry": the node the swarm asks for seats dies too; its bots ask the other node.
    extra = {0: DEFAULT_NODE_TTL, 1: DEFAULT_NODE_TTL}
    async with cluster(redis_url, tmp_path, size=2, extra=extra) as (entry, other):
        victim, survivor = (other, entry) if killed == "other" else (entry, other)
        swarm = await trio.lowlevel.open_process(
            [sys.executable, "-m", "gameserver", "swarm", "--url",
             f"http://127.0.0.1:{entry.port}/", "--match", "squad", "--bots", str(BOTS),
             "--duration", str(SWARM_S), "--json"],
            stdout=-1, stderr=-1,
        )  # fmt: skip
        try:
            with trio.fail_after(PLACED_WITHIN_S):
                while (await players_on(entry), await players_on(other)) != (8, 8):
                    await trio.sleep(0.1)
            victim.process.kill()
            killed_at = trio.current_time()
            with trio.fail_after(REPLACED_WITHIN_S):
                while await players_on(survivor) < BOTS:
                    await trio.sleep(0.05)
            back_s = trio.current_time() - killed_at
            metrics = (await get(survivor.port, "/metrics")).text
            assert "gameserver_nodes_evicted_total 1.0" in metrics  # checked, then evicted
            print(f"all {BOTS} bots play on the surviving node {back_s:.2f} s after the kill")
            await trio.sleep(1.0)  # and keep playing there
            swarm.send_signal(signal.SIGTERM)  # the run ends normally, with its summary
            with trio.fail_after(10):
                assert swarm.stdout is not None
                out = b""
                while chunk := await swarm.stdout.receive_some():
                    out += chunk
                await swarm.wait()
        finally:
            if swarm.returncode is None:
                swarm.kill()
                await swarm.wait()
    summary = json.loads(out)
    print("re-placed:", summary["replaced"], "p50", summary["replace_s_p50"],
          "max", summary["replace_s_max"])  # fmt: skip
    assert summary["connected"] == BOTS and summary["failed"] == 0
    assert summary["replaced"] == BOTS // 2 and summary["dropped"] == 0, summary["errors"]
    assert summary["replace_s_max"] < REPLACED_WITHIN_S
    assert swarm.returncode == 0
