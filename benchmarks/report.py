"""Render a results file as the Markdown section RESULTS.md keeps per run.

python -m benchmarks.report results.json --title "baseline" >> section.md
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from . import figures

# (column title, key in a scenario's medians, format)
COLUMNS = (
    ("players", "players", "{:.0f}"),
    ("spectators", "spectators", "{:.0f}"),
    ("server CPU µs / player-tick", "server_cpu_us_per_player_tick", "{:.1f}"),
    ("server CPU µs / conn-tick", "server_cpu_us_per_conn_tick", "{:.1f}"),
    ("server CPU µs / snapshot sent", "server_cpu_us_per_snapshot", "{:.1f}"),
    ("floor µs / conn-tick", "floor_server_cpu_us_per_conn_tick", "{:.2f}"),
    ("server / floor", "server_over_floor", "{:.1f}"),
    ("server cores", "server_cpu_cores", "{:.2f}"),
    ("tick p50 / p99 ms", ("tick_ms_p50", "tick_ms_p99"), "{:.2f} / {:.2f}"),
    ("lateness p50 / p99 ms", ("lateness_ms_p50", "lateness_ms_p99"), "{:.1f} / {:.1f}"),
    ("skipped ticks", "skipped_ticks", "{:.0f}"),
    ("snapshots / conn / s", "snapshots_per_conn_s", "{:.1f}"),
    ("wire B / conn / s out", "wire_bytes_out_per_conn_s", "{:,.0f}"),
    ("wire B / conn / s in", "wire_bytes_in_per_conn_s", "{:,.0f}"),
    ("RSS MB", "server_rss_mb", "{:.1f}"),
    ("RSS KB / conn", "server_rss_per_conn_kb", "{:.1f}"),
    ("join all s", "join_s_all", "{:.2f}"),
    ("swarm µs / bot-tick", "swarm_cpu_us_per_bot_tick", "{:.1f}"),
)


# Figures older result files lack, computed from what each run recorded.
COMPUTED = {"server_cpu_us_per_snapshot": figures.cpu_per_snapshot_us}


def figure(data: dict[str, Any], key: str) -> Any:
    """A scenario's median of ``key``, computing it from the runs when not recorded."""
    if key in data["median"] or key not in COMPUTED:
        return data["median"].get(key)
    values = [COMPUTED[key](run) for run in data["runs"] if "error" not in run]
    numbers = [v for v in values if v is not None]
    return statistics.median(numbers) if numbers else None


def cell(data: dict[str, Any], key: str | tuple[str, ...], fmt: str) -> str:
    keys = key if isinstance(key, tuple) else (key,)
    values = [figure(data, k) for k in keys]
    if any(not isinstance(v, int | float) for v in values):
        return "n/a"
    return fmt.format(*values)


def table(result: dict[str, Any]) -> str:
    """Scenarios as columns (they are few), figures as rows."""
    names = list(result["scenarios"])
    lines = ["| figure | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for title, key, fmt in COLUMNS:
        cells = [cell(result["scenarios"][n], key, fmt) for n in names]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def section(result: dict[str, Any], title: str) -> str:
    machine = result["machine"]
    errors = {
        name: [run["error"] for run in data["runs"] if "error" in run]
        for name, data in result["scenarios"].items()
    }
    parts = [
        f"## {machine['date_utc'][:10]} — {title}",
        "",
        f"- server: `{result['server']}`; swarm and runner: work tree at "
        f"`{machine['work_tree_commit']}`",
        f"- machine: {machine['cores']} cores, Python {machine['python']}, load average "
        f"{machine['loadavg_start']} at the start, {machine.get('loadavg_end')} at the end",
        f"- command: `{result['command']}`",
        f"- medians of {result['settings']['repeat']} runs, "
        f"{result['settings']['window_s']:.0f} s windows",
        "",
        table(result),
        "",
        "Derived: " + json.dumps(result.get("derived", {})),
    ]
    if any(errors.values()):
        parts += ["", "Failed runs: " + json.dumps({k: v for k, v in errors.items() if v})]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__)
    parser.add_argument("results", type=Path)
    parser.add_argument("--title", default="benchmark run")
    args = parser.parse_args(argv)
    print(section(json.loads(args.results.read_text()), args.title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
