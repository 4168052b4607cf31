"""The lean swarm playing the benchmark game with that game's own bot (the peer's bots.mjs).

    python -m benchmarks.peerbots --url ws://127.0.0.1:PORT/ws --bots 500 --duration 90

The bench game ships its own bot (``gameserver.games.bench.Bot``), the Colyseus peer's
``bots.mjs`` pattern draw for draw, as the load pattern ``peer``
(``gameserver/games/bench/behaviours.py``): it never reads the world, so the lean bots run
it without decoding their snapshots, as the peer's bots do. Prints the lean
swarm's JSON summary, like ``gameserver swarm --lean --json``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import trio

from gameserver.clients.lean import LeanSwarm
from gameserver.clients.swarm import SwarmOptions, exit_status, stop_on_sigterm, summary_json


def make_swarm(options: SwarmOptions) -> LeanSwarm:
    return LeanSwarm(options)


async def run(options: SwarmOptions) -> int:
    swarm = make_swarm(options)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(stop_on_sigterm, swarm.stop)
        totals = await swarm.run()
        nursery.cancel_scope.cancel()
    print(summary_json(totals, swarm.elapsed_s()), flush=True)
    return exit_status(totals)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peerbots", description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--bots", type=int, default=500)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--decode-sample", type=float, default=0.01)
    parser.add_argument("--connect-timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    options = SwarmOptions(
        url=args.url,
        bots=args.bots,
        duration_s=args.duration,
        behaviour="peer",  # the bench game's own bot, run without decoding (behaviours.py)
        seed=args.seed,
        lean=True,
        decode_sample=args.decode_sample,
        connect_timeout_s=args.connect_timeout,
    )
    return trio.run(run, options)


if __name__ == "__main__":
    raise SystemExit(main())
