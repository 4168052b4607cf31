"""Draw a results file: server CPU per player-tick and bytes per player per second vs players.

    python -m benchmarks.chart RESULTS.json benchmarks/baseline.png

Player-only scenarios become points (medians over repeats); the floor
measured in the same run is drawn beside the server's CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on benchmark machines

import matplotlib.pyplot as plt  # after choosing the backend

from .report import figure


def series(result: dict[str, Any]) -> dict[str, list[float]]:
    """Columns of the player-only scenarios, sorted by player count."""
    rows = sorted(
        (data["median"] for data in result["scenarios"].values()),
        key=lambda median: median.get("players", 0),
    )
    rows = [row for row in rows if row and not row.get("spectators")]

    def column(key: str) -> list[float]:
        return [float(row.get(key) or 0.0) for row in rows]

    per_snapshot = [
        figure(data, "server_cpu_us_per_snapshot")
        for data in sorted(
            result["scenarios"].values(), key=lambda d: d["median"].get("players", 0)
        )
        if data["median"] and not data["median"].get("spectators")
    ]
    return {
        "players": column("players"),
        "server_cpu": column("server_cpu_us_per_player_tick"),
        "server_cpu_per_snapshot": [float(v or 0.0) for v in per_snapshot],
        "snapshot_rate": column("snapshots_per_conn_s"),
        "floor_cpu": column("floor_server_cpu_us_per_conn_tick"),
        "bytes_out": column("wire_bytes_out_per_conn_s"),
        "bytes_in": column("wire_bytes_in_per_conn_s"),
    }


def draw(result: dict[str, Any], path: Path, compare: dict[str, Any] | None = None) -> None:
    data = series(result)
    if not data["players"]:
        raise SystemExit("no player-only scenario in the results")
    fig, (cpu, wire) = plt.subplots(1, 2, figsize=(11, 4.2))
    cpu.set_title("server CPU per player-tick")
    wire.set_title("bytes per player per second")
    x = data["players"]
    cpu.plot(x, data["server_cpu"], "o-", label="game server, per player-tick")
    if any(data["server_cpu_per_snapshot"]):
        cpu.plot(x, data["server_cpu_per_snapshot"], "o:", label="game server, per snapshot sent")
    if any(data["floor_cpu"]):
        cpu.plot(x, data["floor_cpu"], "s--", label="floor (plain sockets), per player-tick")
    for px, py, rate in zip(x, data["server_cpu"], data["snapshot_rate"], strict=True):
        # Below the tick rate the server conflated: it was saturated.
        cpu.annotate(f"{rate:.0f} snapshots/s", (px, py), textcoords="offset points",
                     xytext=(0, -14), ha="center", fontsize=8)  # fmt: skip
    if compare is not None:
        # An earlier run beside this one: the same figures, drawn faint.
        old = series(compare)
        label = f"server {compare.get('server', '?')}"
        cpu.plot(
            old["players"], old["server_cpu"], "o-", alpha=0.4, label=f"{label}, per player-tick"
        )
        wire.plot(
            old["players"], [b / 1000 for b in old["bytes_out"]], "o-", alpha=0.4,
            label=f"{label}, server → client",
        )  # fmt: skip
    cpu.set_xlabel("players")
    cpu.set_ylabel("server CPU (µs)")
    cpu.set_ylim(bottom=0)
    cpu.grid(alpha=0.3)
    cpu.legend()
    wire.plot(x, [b / 1000 for b in data["bytes_out"]], "o-", label="server → client")
    wire.plot(x, [b / 1000 for b in data["bytes_in"]], "^-", label="client → server")
    wire.set_xlabel("players")
    wire.set_ylabel("wire kB per player per second")
    wire.set_yscale("log")
    wire.grid(alpha=0.3, which="both")
    wire.legend()
    machine = result.get("machine", {})
    fig.suptitle(
        f"server {result.get('server', '?')} - {machine.get('date_utc', '')} UTC, "
        f"{machine.get('cores', '?')} cores, medians of {result['settings'].get('repeat', 1)}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chart", description=__doc__)
    parser.add_argument("results", type=Path, help="JSON written by benchmarks.run --out")
    parser.add_argument("png", type=Path, help="image to write")
    parser.add_argument("--compare", type=Path, help="an earlier results file, drawn faint")
    args = parser.parse_args(argv)
    compare = json.loads(args.compare.read_text()) if args.compare else None
    draw(json.loads(args.results.read_text()), args.png, compare)
    print(args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
