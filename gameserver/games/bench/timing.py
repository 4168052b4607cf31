"""What the benchmark game's rules cost per tick, without a server.

    python -m gameserver.games.bench.timing [--players 500] [--seconds 30] [--repeat 7]

Joins N players driven by N bots (their inputs precomputed for the whole run, so only
the rules are timed), then plays the run R times and prints one JSON object with the best
pass's microseconds per tick: ``step``, ``wire_state`` (the game's override),
``generic_wire_state`` (``schema.wire_state(entities())``: what a game without the
override costs) and ``generic_encode_only`` (the schema's encoder over entities already
built), and ``per_player_tick`` (step + wire_state, divided by N).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from timeit import default_timer
from typing import Any

from gameserver.rules import BotView, NoSettings, Player, TickInput

from ._bot import Bot
from ._game import Bench, BenchInput


def bot_inputs(players: int, ticks: int, seed: int) -> list[list[TickInput[BenchInput]]]:
    """Each tick's inputs of ``players`` bots, as a room would hand them to ``step``."""
    bots = [Bot(seed + i) for i in range(players)]
    entity_ids = range(1, players + 1)
    members = [Player(f"p{i}", f"p{i}") for i in entity_ids]
    inputs = []
    for tick in range(ticks):
        this_tick = []
        for bot, player, entity_id in zip(bots, members, entity_ids, strict=True):
            value = bot.act(BotView(tick=tick, me=entity_id, entities={})).input
            this_tick.append(TickInput(player, entity_id, value))
        inputs.append(this_tick)
    return inputs


def measure(players: int, seconds: float, repeat: int, seed: int = 1) -> dict[str, float]:
    ticks = round(seconds * Bench.tick_rate)
    inputs = bot_inputs(players, ticks, seed)
    best: dict[str, float] = {}

    def timed(total: dict[str, float], name: str, call: Callable[..., object], *args: Any) -> None:
        start = default_timer()
        call(*args)
        total[name] = total.get(name, 0.0) + default_timer() - start

    for _ in range(repeat):
        game = Bench(NoSettings(), seed)
        for given in inputs[0]:
            game.join(given.player)
        total: dict[str, float] = {}
        generic = game.schema.wire_state
        for tick_inputs in inputs:
            timed(total, "step", game.step, tick_inputs, ())
            timed(total, "wire_state", game.wire_state)
            timed(total, "generic_wire_state", lambda: generic(game.entities()))  # noqa: B023
            timed(total, "generic_encode_only", generic, game.entities())
            game.tick += 1
        for name, spent in total.items():
            best[name] = min(best.get(name, float("inf")), spent / ticks * 1e6)
    result = {name: round(us, 1) for name, us in best.items()}
    result["per_player_tick"] = round((best["step"] + best["wire_state"]) / players, 3)
    return {"players": players, "ticks": ticks, "repeat": repeat, **result}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.players, args.seconds, args.repeat)))


if __name__ == "__main__":
    main()
