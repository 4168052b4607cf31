"""Lean bots placed through matchmaking: each asks ``POST /api/match`` then joins its seat.

    python -m benchmarks.matchbots --entry http://127.0.0.1:PORT/ --mode cap --bots 100 \\
        --game arena --duration 120

``gameserver swarm --match`` places bots the same way but runs the full client (every bot
decodes every snapshot), which on a small machine measures the bots rather than the
server. Here each lean bot first asks the entry node's matchmaking for a seat in
``--mode`` (a handful of requests in flight at a time), then opens the WebSocket URL of
the answer, on whichever node owns the room, and plays there with the lean swarm's loop.
``--game bench`` drives the benchmark game's own bot (``benchmarks.peerbots``), ``arena``
the lean swarm's ``bench`` workload. Prints the lean swarm's JSON summary, with the rooms
and nodes the bots were placed in.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence

import trio

from gameserver.clients.lean import FAILED, LeanBot, LeanSwarm
from gameserver.clients.matchmaking import MatchFailed, find_match
from gameserver.clients.rawws import Target
from gameserver.clients.swarm import SwarmOptions, exit_status, stop_on_sigterm, summary_json

MATCHES_IN_FLIGHT = 8  # concurrent POST /api/match from this process
MATCH_TIMEOUT_S = 10.0


class MatchedSwarm(LeanSwarm):
    """A lean swarm whose bots each take the seat matchmaking gives them."""

    def __init__(self, options: SwarmOptions, entry: str, mode: str) -> None:
        super().__init__(options)
        self.entry = entry
        self.mode = mode
        self.seats: dict[int, Target] = {}  # bot index -> the URL of its seat
        self.rooms: Counter[str] = Counter()
        self.nodes: Counter[str] = Counter()
        self._limiter = trio.CapacityLimiter(MATCHES_IN_FLIGHT)

    def _target_of(self, bot: LeanBot) -> Target:
        return self.seats.get(bot.index, self.target)

    async def _connect(
        self, bot: LeanBot, start_at: float, family: int, address: tuple[object, ...]
    ) -> None:
        await trio.sleep_until(start_at)
        try:
            async with self._limiter:
                match = await find_match(
                    self.entry, mode=self.mode, name=bot.name, timeout_s=MATCH_TIMEOUT_S
                )
        except (MatchFailed, OSError, trio.TooSlowError) as exc:
            status = getattr(exc, "status", None)
            self.unstarted -= 1
            bot.end(FAILED, f"match_http_{status}" if status else "match_error")
            return
        seat = Target.from_url(match.url)
        self.seats[bot.index] = seat
        self.rooms[match.room] += 1
        self.nodes[match.node] += 1
        # The lean swarm resolved the entry's address once; a seat may be on another node.
        await super()._connect(bot, trio.current_time(), family, (seat.host, seat.port))


def make_swarm(options: SwarmOptions, entry: str, mode: str, game: str) -> MatchedSwarm:
    return MatchedSwarm(options, entry, mode)


async def run(options: SwarmOptions, entry: str, mode: str, game: str) -> int:
    swarm = make_swarm(options, entry, mode, game)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(stop_on_sigterm, swarm.stop)
        totals = await swarm.run()
        nursery.cancel_scope.cancel()
    summary = json.loads(summary_json(totals, swarm.elapsed_s()))
    summary["placed"] = {"rooms": len(swarm.rooms), "nodes": dict(swarm.nodes)}
    print(json.dumps(summary), flush=True)
    return exit_status(totals)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.matchbots", description=__doc__)
    parser.add_argument("--entry", required=True, help="http:// URL of a node's matchmaking")
    parser.add_argument("--mode", required=True)
    parser.add_argument("--game", choices=("arena", "bench"), default="arena")
    parser.add_argument("--bots", type=int, default=100)
    parser.add_argument("--first-index", type=int, default=0, help="bot numbering offset")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--ramp", type=float, default=2.0, help="seconds to spread starts over")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--decode-sample", type=float, default=0.01)
    parser.add_argument("--connect-timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    host = args.entry.split("//", 1)[-1].split(":", 1)[0]
    if host not in ("127.0.0.1", "localhost"):
        print("matchbots: loopback entry URLs only", file=sys.stderr)
        return 2
    ws_entry = "ws://" + args.entry.split("//", 1)[-1].rstrip("/") + "/ws"
    options = SwarmOptions(
        url=ws_entry,
        bots=args.bots,
        duration_s=args.duration,
        behaviour="bench" if args.game == "arena" else "peer",
        seed=args.seed,
        lean=True,
        decode_sample=args.decode_sample,
        connect_timeout_s=args.connect_timeout,
        ramp_s=args.ramp,
        first_index=args.first_index,
    )
    return trio.run(run, options, args.entry, args.mode, args.game)


if __name__ == "__main__":
    raise SystemExit(main())
