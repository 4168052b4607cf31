"""Where the server's time goes under a scenario: py-spy samples, summarised as JSON.

    python -m benchmarks.profile --scenario players-500 --seconds 20 [--server-ref REF]

Starts the scenario's server and lean swarm like ``benchmarks.run``, waits for
every join, then records the server with ``py-spy record --nonblocking`` (no
pauses of the sampled process; needs ``pip install py-spy`` and, in most
containers, root) in collapsed-stack form. Reported: the functions with the
most samples at the top of the stack (self), the most samples anywhere in the
stack (inclusive), and self samples per package. Percentages are of the
samples in which the server was not idle.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .measure import Scenario, Settings
from .processes import (
    BenchmarkError,
    Managed,
    progress,
    read_json,
    server_tree,
    start_game_server,
    start_lean_swarm,
    start_peer_bots,
    wait_until,
)
from .run import SCENARIOS
from .sidebyside import OURS

# The benchmark game as the side-by-side scenario runs it, with and without interest.
PROFILED = SCENARIOS | {
    f"{name}-500": Scenario(f"{name}-500", 500, server_args=args, bots="peer")
    for name, args in OURS.items()
}

_LINE_NUMBER = re.compile(r":\d+\)$")


def function_name(frame: str) -> str:
    """Without its line number: ``"tick (.../room.py:107)"`` -> ``"tick (.../room.py)"``."""
    return _LINE_NUMBER.sub(")", frame)


def package_of(frame: str) -> str:
    """The package a frame's file belongs to: ``trio``, ``gameserver/server``, ``cbor2``..."""
    match = re.search(r"\(([^():]+)(?::\d+)?\)$", frame)
    if not match:
        return "?"
    parts = match.group(1).split("/")
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
    if parts[0] == "gameserver" and len(parts) > 2:
        return "/".join(parts[:2])
    return parts[0] if len(parts) > 1 else "(stdlib) " + parts[0]


def summarize(lines: Iterable[str], top: int = 15) -> dict[str, Any]:
    """Self, inclusive and per-package percentages of py-spy's collapsed stacks."""
    self_counts: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    packages: collections.Counter[str] = collections.Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [function_name(f) for f in stack.split(";")]
        total += n
        self_counts[frames[-1]] += n
        packages[package_of(stack.split(";")[-1])] += n
        for frame in set(frames):
            inclusive[frame] += n

    def table(counter: collections.Counter[str]) -> list[dict[str, Any]]:
        return [
            {"function": name, "percent": round(100 * n / total, 1)}
            for name, n in counter.most_common(top)
        ]

    return {
        "samples": total,
        "top_self": table(self_counts),
        "top_inclusive": table(inclusive),
        "self_by_package": table(packages),
    }


def record(pid: int, seconds: float, rate: int, output: Path) -> None:
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        raise BenchmarkError("py-spy is not installed (pip install py-spy)")
    subprocess.run(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(output),
        ],
        check=True,
        capture_output=True,
        timeout=seconds + 60,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    parser.add_argument("--scenario", choices=list(PROFILED), default="players-500")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=int, default=200, help="samples per second")
    parser.add_argument("--server-ref", help="git ref of the server to run (exported)")
    parser.add_argument("--decode-sample", type=float, default=0.01)
    parser.add_argument("--raw", type=Path, help="keep py-spy's collapsed stacks here")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    scenario = PROFILED[args.scenario]
    workdir = Path(tempfile.mkdtemp(prefix="gameserver-profile-"))
    settings = Settings(server_tree=server_tree(args.server_ref, workdir), workdir=workdir)
    server, url, stats = start_game_server(
        settings.server_tree,
        workdir,
        tick_rate=settings.tick_rate,
        max_players=max(scenario.players + 10, 512),
        stats_window_s=args.seconds,
        extra_args=scenario.server_args,
    )
    swarm: Managed | None = None
    try:
        if scenario.bots == "peer":
            swarm = start_peer_bots(
                url,
                workdir,
                players=scenario.players,
                decode_sample=args.decode_sample,
                duration_s=args.seconds + 180,
            )
        else:
            swarm = start_lean_swarm(
                url,
                workdir,
                players=scenario.players,
                spectators=scenario.spectators,
                procs=scenario.procs,
                decode_sample=args.decode_sample,
                duration_s=args.seconds + 180,
            )

        def joined() -> bool:
            document = read_json(stats)
            room = document["rooms"]["default"] if document else {}
            return room.get("players") == scenario.players

        wait_until(joined, 90, "every bot to join", [server, swarm])
        time.sleep(3)
        raw = args.raw or workdir / "server.raw"
        progress(f"{scenario.name}: recording the server for {args.seconds:.0f}s")
        record(server.pid, args.seconds, args.rate, raw)
        summary = summarize(raw.read_text().splitlines(), args.top)
    finally:
        if swarm is not None:
            swarm.stop()
        server.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    result = {
        "command": " ".join(["python -m benchmarks.profile", *(argv or sys.argv[1:])]),
        "scenario": scenario.name,
        "server": args.server_ref or "work tree",
        "seconds": args.seconds,
        "rate": args.rate,
    } | summary
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
