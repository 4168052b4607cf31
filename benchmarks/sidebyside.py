"""Colyseus and this server on the same game, the same bots and the same N, in one run.

    python -m benchmarks.run --scenario colyseus-500 --repeat 3 --window 12

Three servers take turns within each repeat, each repeat starting with the next one (so
none is always first on a machine that warms up or gets busier):

- ``colyseus``: the Colyseus peer (``benchmarks.colyseus``), its own server and bots;
- ``bench-interest``: ``gameserver serve --game bench``, interest management on (the
  default), driven by the benchmark game's own bot (``benchmarks.peerbots``: the peer's
  bots.mjs, draw for draw);
- ``bench-no-interest``: the same with ``--no-interest``: everyone sees everyone, as in
  the peer.

With ``--compare-ref REF`` the same two run once more from that git revision
(``bench-interest@REF``...), in the same rotation: an optimisation's before and after,
measured side by side with the peer.

After each server's window the floor (``benchmarks.floor``) moves that server's message
sizes over plain sockets to the same number of connections; server / floor is the
figure to compare across runs. Ratios to Colyseus are taken within each repeat (the
servers measured minutes apart on the same machine), then their median is reported.
"""

from __future__ import annotations

import statistics
import sys
from typing import Any

import attrs

from . import colyseus, figures
from .measure import Scenario, Settings, measure_floor, measure_game
from .processes import BenchmarkError, progress, server_tree

PEER = "colyseus"
OURS = {
    "bench-interest": ("--game", "bench"),
    "bench-no-interest": ("--game", "bench", "--no-interest"),
}
CLIENT_FRAME_OVERHEAD = 6  # a masked client frame under 126 bytes: 2 head + 4 mask key
# Figures whose ratio to the peer's is reported (ours / Colyseus, same repeat).
# CPU per snapshot sent and bytes per snapshot stay fair when a busy machine makes a
# server skip ticks or conflate (per-tick and per-second figures then flatter it).
RATIO_KEYS = (
    "server_cpu_us_per_player_tick",
    "server_cpu_us_per_snapshot",
    "wire_bytes_out_per_conn_s",
    "out_message_bytes_mean",
    "server_rss_per_conn_kb",
    "server_over_floor",
)


def with_floor(result: dict[str, Any], players: int, settings: Settings) -> dict[str, Any]:
    out_payload = round(result["out_message_bytes_mean"])
    out_bytes = out_payload + figures.ws_header_bytes(out_payload)
    in_bytes = round(result["in_message_bytes_mean"]) + CLIENT_FRAME_OVERHEAD
    detail = measure_floor(players, players, out_bytes, in_bytes, settings)
    result["floor"] = detail
    result["floor_server_cpu_us_per_conn_tick"] = detail["server_cpu_us_per_conn_tick"]
    if detail["server_cpu_us_per_conn_tick"]:
        result["server_over_floor"] = round(
            result["server_cpu_us_per_player_tick"] / detail["server_cpu_us_per_conn_tick"], 2
        )
    return result


def measure_ours(name: str, players: int, settings: Settings) -> dict[str, Any]:
    """``name``: a key of OURS, with ``@REF`` for the server of another revision."""
    config, _, ref = name.partition("@")
    if ref:
        settings = attrs.evolve(settings, server_tree=server_tree(ref, settings.workdir))
    scenario = Scenario(f"{name}-{players}", players, server_args=OURS[config], bots="peer")
    result = measure_game(scenario, settings)
    result["server"] = name
    return result


def ratios(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Ours / Colyseus per figure, within each repeat; their medians."""
    out: dict[str, Any] = {}
    peer_runs = runs.get(PEER, [])
    for name in runs:
        if name == PEER:
            continue
        per_key: dict[str, Any] = {}
        for key in RATIO_KEYS:
            values = [
                round(ours[key] / peer[key], 3)
                for ours, peer in zip(runs.get(name, []), peer_runs, strict=False)
                if "error" not in ours and "error" not in peer and ours.get(key) and peer.get(key)
            ]
            if values:
                per_key[key] = {"median": round(statistics.median(values), 3), "runs": values}
        out[name] = per_key
    return out


def run_side_by_side(
    players: int, settings: Settings, repeat: int, floor: bool, compare_ref: str | None = None
) -> dict[str, Any]:
    try:
        work = colyseus.prepare()
    except colyseus.PeerUnavailable as exc:
        progress(f"colyseus-{players}: skipped: {exc}")
        return {"skipped": str(exc)}
    names = [PEER, *OURS, *(f"{name}@{compare_ref}" for name in OURS if compare_ref)]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for r in range(repeat):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            progress(f"repeat {r + 1}/{repeat}: {name} ({players} players)")
            try:
                if name == PEER:
                    result = colyseus.measure_colyseus(
                        work,
                        players,
                        window_s=settings.window_s,
                        settle_s=settings.settle_s,
                        logdir=settings.workdir,
                    )
                else:
                    result = measure_ours(name, players, settings)
                result["repeat"] = r + 1
                if floor:
                    result = with_floor(result, players, settings)
            except BenchmarkError as exc:
                progress(f"{name} failed: {exc}")
                result = {"error": str(exc), "repeat": r + 1}
            runs[name].append(result)
    medians = {
        name: figures.median_figures([run for run in runs[name] if "error" not in run])
        for name in names
    }
    result = {
        "players": players,
        "peer_folder": str(colyseus.find_peer()),
        "median": medians,
        "ratios_to_colyseus": ratios(runs),
        "runs": runs,
    }
    print(table(result), file=sys.stderr)
    return result


# (row title, key, format) for the Markdown table of medians.
ROWS = (
    ("server CPU µs / player-tick", "server_cpu_us_per_player_tick", "{:.2f}"),
    ("server CPU µs / snapshot sent", "server_cpu_us_per_snapshot", "{:.2f}"),
    ("server cores", "server_cpu_cores", "{:.2f}"),
    ("wire B / player / s out", "wire_bytes_out_per_conn_s", "{:,.0f}"),
    ("snapshots / player / s", "snapshots_per_conn_s", "{:.1f}"),
    ("message bytes mean", "out_message_bytes_mean", "{:,.0f}"),
    ("tick p50 / p99 / max ms", ("tick_ms_p50", "tick_ms_p99", "tick_ms_max"), "{:.1f}"),
    ("sim + patch ms, mean", ("sim_ms_per_tick_mean", "patch_ms_per_patch_mean"), "{:.2f}"),
    ("lateness p99 ms", "lateness_ms_p99", "{:.1f}"),
    ("skipped ticks", "skipped_ticks", "{:.0f}"),
    ("ticks run / expected", ("ticks", "ticks_expected"), "{:.0f}"),
    ("RSS MB", "server_rss_mb", "{:.1f}"),
    ("RSS KB / player", "server_rss_per_conn_kb", "{:.1f}"),
    ("floor µs / conn-tick", "floor_server_cpu_us_per_conn_tick", "{:.2f}"),
    ("server / floor", "server_over_floor", "{:.2f}"),
    ("load generator cores", "swarm_cpu_cores", "{:.2f}"),
)


def _cell(median: dict[str, Any], key: str | tuple[str, ...], fmt: str) -> str:
    keys = (key,) if isinstance(key, str) else key
    values = [median.get(k) for k in keys]
    if any(v is None for v in values):
        return "-"
    return " / ".join(fmt.format(v) for v in values)


def table(result: dict[str, Any]) -> str:
    """The medians and the ratios as Markdown."""
    if "skipped" in result:
        return f"skipped: {result['skipped']}"
    names = list(result["median"])
    lines = [
        "| figure (median) | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for title, key, fmt in ROWS:
        cells = [_cell(result["median"][name], key, fmt) for name in names]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    ours = [name for name in names if name != PEER]
    lines += ["", "| ours / Colyseus (median of per-repeat ratios) | " + " | ".join(ours) + " |"]
    lines.append("|---|" + "---:|" * len(ours))
    for key in RATIO_KEYS:
        cells = []
        for name in ours:
            entry = result["ratios_to_colyseus"].get(name, {}).get(key)
            cells.append(
                "-"
                if entry is None
                else f"**{entry['median']:.2f}** ({', '.join(f'{v:.2f}' for v in entry['runs'])})"
            )
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
