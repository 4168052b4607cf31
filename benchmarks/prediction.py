"""Prediction corrections per 100 inputs, through a relay that adds 80 ms +- 20 ms each way.

    python -m benchmarks.prediction [--seeds N] [--obstacles K ...]

For each obstacle count and relay seed: a server (the arena, seed 7) and one player
behind ``gameserver.clients.relay.LatencyRelay``, sending one input per tick on absolute deadlines
(40 RIGHT, 30 DOWN+RIGHT, 30 DOWN, 3 idle: what ``tests/integration/test_prediction.py``
sends), until the server has consumed the last one. A correction is a reconciliation
that moved the prediction by more than one grid step (``ClientStats.corrections``).
Without obstacles the player starts at (200, 200); with them, where the arena spawned
it, so it walks into obstacles that come into view on the way. Prints one JSON object:
per obstacle count, the corrections of each seed and their total per 100 inputs.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import trio

from gameserver.clients import connect
from gameserver.clients.latency import LatencyRelay
from gameserver.config import Config
from gameserver.server import GameServer

TICK_S = 1 / 30
RIGHT, DOWN = 8, 2
FRAMES = [RIGHT] * 40 + [DOWN | RIGHT] * 30 + [DOWN] * 30 + [0, 0, 0]


async def corrections(seed: int, obstacles: int) -> int:
    config = Config.of(
        host="127.0.0.1", port=0, seed=7, game_settings={"obstacle_count": obstacles}
    )
    async with trio.open_nursery() as nursery:
        server = GameServer(config)
        await nursery.start(server.run)
        relay = LatencyRelay("127.0.0.1", server.port, latency_s=0.08, jitter_s=0.02, seed=seed)
        await nursery.start(relay.run)
        async with connect(relay.url(), name="predictor") as client:
            with trio.fail_after(10):
                await client.wait_for(lambda c: c.me is not None)
            if not obstacles:
                rules: Any = server.rooms["default"].game.rules
                rules.place(client.entity_id, 200.0, 200.0)
            due = trio.current_time()
            for buttons in FRAMES:
                await client.send_input(buttons)
                due += TICK_S
                await trio.sleep_until(due)
            with trio.fail_after(10):
                await client.wait_for(lambda c: c.ack_seq == len(FRAMES))
                await client.next_snapshot()
            found = client.stats.corrections
        nursery.cancel_scope.cancel()
    return found


async def main(seeds: int, obstacle_counts: list[int]) -> dict[str, Any]:
    report: dict[str, Any] = {"inputs_per_run": len(FRAMES)}
    for count in obstacle_counts:
        runs = [await corrections(seed, count) for seed in range(1, seeds + 1)]
        report[f"obstacles_{count}"] = {
            "corrections": runs,
            "per_100_inputs": round(100 * sum(runs) / (len(runs) * len(FRAMES)), 2),
        }
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--obstacles", type=int, nargs="+", default=[0, 8])
    args = parser.parse_args()
    print(json.dumps(trio.run(main, args.seeds, args.obstacles)))
