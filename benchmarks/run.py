"""Run benchmark scenarios; print one JSON object on stdout (progress goes to stderr).

    python -m benchmarks.run                                    # the standard set, once
    python -m benchmarks.run --scenario players-500 --window 60 # tick stability over a minute
    python -m benchmarks.run --repeat 3 --server-ref 2e347b8    # an older server, same swarm

Each scenario starts its own server (``gameserver serve --port 0``) and lean
swarm (``--behaviour bench``), waits until every bot has joined, lets it
settle, measures one window, then runs the floor (``benchmarks.floor``) with
the same connection count and message sizes. Machines are shared and noisy:
compare ratios measured side by side in one run (server/floor, spectators
against players-100 of the same repeat) and quote medians over ``--repeat``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs

from . import figures
from .measure import Scenario, Settings, measure_floor, measure_game
from .processes import REPO, BenchmarkError, progress, server_tree
from .sidebyside import run_side_by_side
from .soak import GAMES as SOAK_GAMES
from .soak import run_soak

SINGLE_ROOM = "one room: the server has no multi-room support yet"
SCENARIOS = {
    "players-100": Scenario("players-100", 100),
    "players-500": Scenario("players-500", 500),
    "players-1000": Scenario("players-1000", 1000, procs=2, note=SINGLE_ROOM),
    "spectators-1000": Scenario("spectators-1000", 100, 1000),
}
STANDARD = tuple(SCENARIOS)
# Colyseus and this server on the benchmark game in one run (benchmarks/sidebyside.py).
SIDE_BY_SIDE = {"colyseus-100": 100, "colyseus-500": 500, "colyseus-1000": 1000}
SOAK = "soak"  # a long run at full load (benchmarks/soak.py)
RESULTS = REPO / "benchmarks" / "results"
CLIENT_FRAME_OVERHEAD = 6  # a masked client frame under 126 bytes: 2 head + 4 mask key


def measure_one(scenario: Scenario, settings: Settings, floor: bool) -> dict[str, Any]:
    result = measure_game(scenario, settings)
    if not floor:
        return result
    out_payload = round(result["out_message_bytes_mean"])
    out_bytes = out_payload + figures.ws_header_bytes(out_payload)
    in_bytes = round(result["in_message_bytes_mean"]) + CLIENT_FRAME_OVERHEAD
    detail = measure_floor(scenario.connections, scenario.players, out_bytes, in_bytes, settings)
    result["floor"] = detail
    result["floor_server_cpu_us_per_conn_tick"] = detail["server_cpu_us_per_conn_tick"]
    result["floor_client_cpu_us_per_conn_tick"] = detail["client_cpu_us_per_conn_tick"]
    result["floor_skipped_ticks"] = detail["skipped_ticks"]
    if detail["server_cpu_us_per_conn_tick"]:
        result["server_over_floor"] = round(
            result["server_cpu_us_per_conn_tick"] / detail["server_cpu_us_per_conn_tick"], 2
        )
    return result


def derive(scenarios: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Figures that compare scenarios measured in the same run."""
    derived: dict[str, Any] = {}
    points = [
        (data["median"]["players"], data["median"]["server_rss_mb"] * 1024)
        for data in scenarios.values()
        if data["median"] and not data["median"].get("spectators")
    ]
    if len({x for x, _ in points}) >= 2:
        derived["server_rss_kb_per_player_slope"] = round(figures.slope(points), 2)
        derived["rss_slope_points"] = [(x, round(y / 1024, 2)) for x, y in sorted(points)]
    players, spectators = scenarios.get("players-100"), scenarios.get("spectators-1000")
    if players and spectators:

        def extra_us(spec: dict[str, Any], base: dict[str, Any]) -> float:
            extra_cores = spec["server_cpu_cores"] - base["server_cpu_cores"]
            snapshots_per_s = spec["spectators"] * spec["snapshots_per_conn_s"]
            return extra_cores * 1e6 / snapshots_per_s if snapshots_per_s else 0.0

        pairs = [
            (s, p)
            for s, p in zip(spectators["runs"], players["runs"], strict=False)
            if "error" not in s and "error" not in p
        ]
        if pairs:
            values = [extra_us(s, p) for s, p in pairs]
            derived["spectator_extra_server_cpu_us_per_snapshot"] = round(
                sorted(values)[len(values) // 2], 3
            )
            derived["spectator_extra_runs"] = [round(v, 3) for v in values]
    return derived


def machine() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "work_tree_commit": commit,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument(
        "--scenario",
        action="append",
        choices=[*SCENARIOS, "standard", *SIDE_BY_SIDE, SOAK],
        help="scenario to run (repeatable; default: the standard set)",
    )
    parser.add_argument("--window", type=float, default=20.0, help="measured seconds (default 20)")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after the last join")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each scenario; medians")
    parser.add_argument("--tick-rate", type=int, default=30)
    parser.add_argument(
        "--decode-sample",
        type=float,
        default=0.01,
        help="fraction of swarm bots that fully decode (default 0.01: a few verify the "
        "stream; decoding a large world costs more than everything else the swarm does)",
    )
    parser.add_argument(
        "--server-ref", help="git ref of the server to run (exported, not checked out)"
    )
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="extra argument for `gameserver serve` (repeatable, e.g. --server-arg=--flag=value)",
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the floor measurements")
    parser.add_argument(
        "--soak-minutes", type=float, default=10.0, help="soak: measured minutes (default 10)"
    )
    parser.add_argument(
        "--soak-warmup", type=float, default=60.0, help="soak: seconds before the window opens"
    )
    parser.add_argument(
        "--compare-ref",
        help="colyseus-N: also run our server from this git ref in the same rotation",
    )
    parser.add_argument("--soak-game", choices=sorted(SOAK_GAMES), default="bench")
    parser.add_argument("--soak-players", type=int, default=500)
    parser.add_argument("--out", type=Path, help="also write the JSON result to this file")
    return parser.parse_args(argv)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: children get stopped


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse_args(argv)
    names = [
        n for n in (args.scenario or ["standard"]) for n in (STANDARD if n == "standard" else [n])
    ]
    names = list(dict.fromkeys(names))
    workdir = Path(tempfile.mkdtemp(prefix="gameserver-bench-"))
    settings = Settings(
        window_s=args.window,
        settle_s=args.settle,
        tick_rate=args.tick_rate,
        decode_sample=args.decode_sample,
        server_tree=server_tree(args.server_ref, workdir),
        server_args=tuple(args.server_arg),
        workdir=workdir,
    )
    result: dict[str, Any] = {
        "command": " ".join(
            ["python -m benchmarks.run", *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine": machine(),
        "server": args.server_ref or "work tree",
        "settings": {
            key: str(value) if isinstance(value, Path) else value
            for key, value in attrs.asdict(settings).items()
            if key not in ("workdir",)
        }
        | {"repeat": args.repeat},
    }
    special = [n for n in names if n in SIDE_BY_SIDE or n == SOAK]
    names = [n for n in names if n not in special]
    scenarios: dict[str, dict[str, Any]] = {}
    failed = False
    for name in special:
        if name == SOAK:
            progress(f"soak: {args.soak_game}, {args.soak_players} players, "
                     f"{args.soak_minutes:g} min after {args.soak_warmup:g} s")  # fmt: skip
            try:
                data = run_soak(
                    args.soak_game, args.soak_players, args.soak_minutes, args.soak_warmup, settings
                )
                failed |= not data["soak"]["passed"]
            except BenchmarkError as exc:
                progress(f"soak failed: {exc}")
                data, failed = {"error": str(exc)}, True
        else:
            data = run_side_by_side(
                SIDE_BY_SIDE[name], settings, args.repeat, not args.no_floor, args.compare_ref
            )
            failed |= any("error" in run for rs in data.get("runs", {}).values() for run in rs)
        scenarios[name] = data
    if special and args.out is None:
        stamp = time.strftime("%Y-%m-%d-%H%M", time.gmtime())
        commit = result["machine"]["work_tree_commit"] or "unknown"
        args.out = RESULTS / f"{stamp}-{'-'.join(special)}-{commit}.json"
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for repeat in range(args.repeat):
        for name in names:
            progress(f"repeat {repeat + 1}/{args.repeat}: {name}")
            try:
                runs[name].append(measure_one(SCENARIOS[name], settings, not args.no_floor))
            except BenchmarkError as exc:
                progress(f"{name} failed: {exc}")
                runs[name].append({"error": str(exc)})
    for name in names:
        ok = [run for run in runs[name] if "error" not in run]
        scenarios[name] = {
            "scenario": attrs.asdict(SCENARIOS[name]),
            "median": figures.median_figures(ok),
            "runs": runs[name],
        }
    result["scenarios"] = scenarios
    result["derived"] = derive({n: scenarios[n] for n in names})
    result["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
        progress(f"results written to {args.out}")
    print(text)
    if not failed and all("error" not in run for rs in runs.values() for run in rs):
        shutil.rmtree(workdir, ignore_errors=True)
        return 0
    progress(f"process logs kept in {workdir}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
