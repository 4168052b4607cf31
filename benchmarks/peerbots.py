"""The lean swarm playing the benchmark game with that game's own bot (the peer's bots.mjs).

    python -m benchmarks.peerbots --url ws://127.0.0.1:PORT/ws --bots 500 --duration 90

The lean swarm's own behaviours press the arena's buttons and aim; the benchmark game
takes ``[dx, dy]`` instead. Its bot (``gameserver.games.bench.Bot``) is the Colyseus
peer's bot, draw for draw, with the loop tick as its clock. The lean loop calls a
behaviour once per tick boundary and writes the two numbers it returns as the input
frame's two fields, so a behaviour that answers ``(dx, dy)`` from that bot makes the
frame ``[type, seq, dx, dy, ack]``: exactly the bench game's input. Prints the lean
swarm's JSON summary, like ``gameserver swarm --lean --json``.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

import trio

from clients.lean import LeanSwarm
from clients.swarm import SwarmOptions, exit_status, stop_on_sigterm, summary_json
from gameserver.games.bench import BenchInput, Bot
from gameserver.rules import BotView

SEED_STRIDE = 1_000_003  # bot i of seed s draws from Bot(s * stride + i), as make_behaviour does


class PeerBehaviour:
    """A lean-swarm behaviour answering the bench bot's ``(dx, dy)`` once per loop tick."""

    def __init__(self, seed: int) -> None:
        self._bot = Bot(seed)
        self._tick = 0
        self._input = BenchInput()

    def next_input(
        self, world: Mapping[int, tuple[int, ...]], me: int, tick_rate: int
    ) -> tuple[int, int]:
        self._tick += 1
        act = self._bot.act(BotView(tick=self._tick, me=me, entities={}))
        if act.input is not None:
            self._input = act.input
        return self._input.dx, self._input.dy


def make_swarm(options: SwarmOptions) -> LeanSwarm:
    swarm = LeanSwarm(options)
    for bot in swarm.bots:
        bot.behaviour = PeerBehaviour(options.seed * SEED_STRIDE + bot.index)
    return swarm


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
        behaviour="idle",  # replaced per bot by PeerBehaviour
        seed=args.seed,
        lean=True,
        decode_sample=args.decode_sample,
        connect_timeout_s=args.connect_timeout,
    )
    return trio.run(run, options)


if __name__ == "__main__":
    raise SystemExit(main())
