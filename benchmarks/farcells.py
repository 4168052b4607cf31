"""What the interest snapshot budget trades: bytes and CPU against how stale far cells get.

    python -m benchmarks.farcells [--players 500] [--ticks 300] [--budgets 1200,900,600]

In one process, without sockets: the benchmark game with ``--players`` players, each
moved by the game's own bot, in a room core with interest management as ``serve``
configures it (100-unit cells, view ring 2, inner ring 1), once per snapshot budget.
Per budget it prints one JSON line: bytes per snapshot, the delivery's CPU per
player-tick (wall time of ``RoomCore.deliver`` in this process; compare budgets with each
other, not with a server's figures), and how many ticks a far cell's change waited
before the cell was refreshed (``refresh_wait_ticks``: 0 means in the snapshot of the
tick it happened; the longest waits, at centres nobody stood in for a while, say nothing
of what a viewer saw and are left out of the figures). The first 60 ticks are not
counted.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from gameserver.config import Config
from gameserver.core import GameHost, RoomCore
from gameserver.games.bench import Bench, Bot
from gameserver.protocol import Input, Join, Role, encode
from gameserver.rules import BotView
from gameserver.server import Metrics
from gameserver.server.rooms.interest import Interest, InterestTick

WARMUP_TICKS = 60
TICK_RATE = 30


class _Sink:
    """A connection that takes every snapshot at once and keeps only its size."""

    remote = "sink"
    closing = False
    close_code: int | None = None
    protocol_version = 2

    def __init__(self) -> None:
        self.inbox: list[bytes | str] = []
        self.bytes = 0
        self.snapshots = 0

    def collect(self) -> list[bytes | str]:
        messages, self.inbox = self.inbox, []
        return messages

    def deliver(self, snapshot: bytes) -> bool:
        self.bytes += len(snapshot)
        self.snapshots += 1
        return True

    def send_control(self, message: bytes) -> None:
        pass

    def close(self, code: int, reason: str) -> None:
        self.closing, self.close_code = True, code


def measure(players: int, ticks: int, budget: int) -> dict[str, Any]:
    config = Config.of(tick_rate=TICK_RATE, max_players_per_room=players)
    rules = Bench(Bench.settings_type(), seed=1, tick_rate=TICK_RATE)
    game = GameHost(rules, tick_rate=TICK_RATE)
    layout = game.schema.common_position_layout()
    assert layout is not None
    interest = Interest(
        game.world_width,
        game.world_height,
        cell_size=config.interest.interest_cell_size,
        view_ring=config.interest.view_ring,
        inner_ring=config.interest.inner_ring,
        budget_bytes=budget,
        layout=layout,
    )
    core = RoomCore("r", game, config, Metrics(), new_resume_token=str, interest=interest)
    sinks = [_Sink() for _ in range(players)]
    bots = [Bot(i) for i in range(players)]
    for sink in sinks:
        core.attach(sink, 0.0)
        sink.inbox.append(encode(Join(Role.PLAYER, "p")))
    assert game.schema.input is not None
    to_wire = game.schema.input.to_wire

    waits: list[int] = []
    choose = InterestTick.far_choice

    def far_choice(shared: InterestTick, centre: int) -> frozenset[int]:
        if centre in shared._far_choice:
            return shared._far_choice[centre]
        pending = dict(shared.interest.pending[centre])
        chosen = choose(shared, centre)
        waits.extend(shared.tick - pending[c] for c in chosen)
        return chosen

    deliver_s = 0.0
    bytes_before = snapshots_before = 0
    InterestTick.far_choice = far_choice  # type: ignore[method-assign,assignment]
    try:
        for n in range(1, WARMUP_TICKS + ticks + 1):
            if n == WARMUP_TICKS + 1:
                waits.clear()
                deliver_s = 0.0
                bytes_before = sum(s.bytes for s in sinks)
                snapshots_before = sum(s.snapshots for s in sinks)
            now = n / TICK_RATE
            for sink, bot in zip(sinks, bots, strict=True):
                act = bot.act(BotView(n, 0, {}, ()))
                fields = tuple(to_wire(act.input)) if act.input is not None else (0,)
                sink.inbox.append(encode(Input(n, fields, 0)))
            core.collect(now, round(now * 1000))
            core.step()
            start = time.perf_counter()
            core.deliver(round(now * 1000), publish=False)
            deliver_s += time.perf_counter() - start
    finally:
        InterestTick.far_choice = choose  # type: ignore[method-assign]
    waits.sort()
    count = len(waits)
    snapshots = sum(s.snapshots for s in sinks) - snapshots_before
    return {
        "budget_bytes": budget,
        "players": players,
        "ticks": ticks,
        "bytes_per_snapshot": round((sum(s.bytes for s in sinks) - bytes_before) / snapshots),
        "deliver_us_per_player_tick": round(deliver_s * 1e6 / (players * ticks), 2),
        "refresh_wait_ticks": {
            "mean": round(sum(waits) / count, 2),
            "p50": waits[count // 2],
            "p99": waits[int(count * 0.99)],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--players", type=int, default=500)
    parser.add_argument("--ticks", type=int, default=300)
    parser.add_argument("--budgets", default="1200,1000,900,800,700,600")
    args = parser.parse_args()
    for budget in (int(b) for b in args.budgets.split(",")):
        print(json.dumps(measure(args.players, args.ticks, budget)), flush=True)


if __name__ == "__main__":
    main()
