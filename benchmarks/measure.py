"""One measurement: start the processes, wait for steady state, sample a window, stop.

The window opens and closes on fresh stats documents of the measured server
(written every second), and the CPU readings from /proc are taken right
after each, so counters and CPU cover the same interval. Figures:

- CPU per player-tick = server CPU seconds * 1e6 / (players * ticks run in the window);
- tick duration and lateness percentiles: the server's own, over the last
  ``--stats-window`` seconds, which the runner sets to the window length;
- bytes per player per second: deltas of the server's payload counters;
  wire bytes (with WebSocket framing) where the server counts them, estimated
  from message counts otherwise.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import attrs

from . import figures, procfs
from .processes import (
    REPO,
    BenchmarkError,
    Managed,
    next_document,
    progress,
    read_json,
    start_game_server,
    start_lean_swarm,
    start_peer_bots,
    swarm_summary,
    wait_until,
)

PROGRESS_EVERY_S = 5.0


@attrs.frozen
class Scenario:
    name: str
    players: int
    spectators: int = 0
    procs: int = 1  # swarm processes
    note: str = ""
    # Extra `gameserver serve` arguments (a game, --no-interest) and the load: "lean" is
    # the lean swarm's arena workload, "peer" the benchmark game's bot (benchmarks.peerbots).
    server_args: tuple[str, ...] = ()
    bots: str = "lean"

    @property
    def connections(self) -> int:
        return self.players + self.spectators


@attrs.frozen
class Settings:
    window_s: float = 20.0
    settle_s: float = 3.0
    tick_rate: int = 30
    decode_sample: float = 0.01
    join_timeout_s: float = 90.0
    server_tree: Path = REPO
    server_args: tuple[str, ...] = ()
    workdir: Path = Path("/tmp")


@attrs.frozen
class Window:
    first: dict[str, Any]  # stats document at the start
    last: dict[str, Any]  # stats document at the end
    wall_s: float
    server_cpu_s: float
    client_cpu_s: float
    server_rss: int
    rss_samples: tuple[tuple[float, int], ...] = ()  # (seconds into the window, RSS bytes)


def sample_window(
    server: Managed, client_pids: list[int], stats: Path, window_s: float, watch: list[Managed]
) -> Window:
    """CPU of the server and of the client processes over one window of stats documents."""
    first = next_document(stats, newer_than=read_json_time(stats), timeout_s=10, watch=watch)
    wall0, cpu0 = time.monotonic(), procfs.cpu_seconds(server.pid)
    client0 = procfs.tree_cpu_seconds(client_pids)
    target = first["time_s"] + window_s - 0.5  # the document written ~window_s later
    next_note = wall0 + PROGRESS_EVERY_S
    rss_samples = [(0.0, procfs.rss_bytes(server.pid))]
    while time.monotonic() < wall0 + window_s - 1.5:
        for process in watch:
            process.check_alive()
        if time.monotonic() >= next_note:
            next_note += PROGRESS_EVERY_S
            rss_samples.append((time.monotonic() - wall0, procfs.rss_bytes(server.pid)))
            progress(f"  window {time.monotonic() - wall0:.0f}/{window_s:.0f}s")
        time.sleep(0.1)
    last = next_document(stats, newer_than=target, timeout_s=10, watch=watch)
    wall1, cpu1 = time.monotonic(), procfs.cpu_seconds(server.pid)
    client1 = procfs.tree_cpu_seconds(client_pids)
    rss = procfs.rss_bytes(server.pid)
    rss_samples.append((wall1 - wall0, rss))
    return Window(
        first, last, wall1 - wall0, cpu1 - cpu0, client1 - client0, rss, tuple(rss_samples)
    )


def read_json_time(stats: Path) -> float:
    document = read_json(stats)
    return document["time_s"] if document else float("-inf")


def game_figures(scenario: Scenario, window: Window, tick_rate: int) -> dict[str, Any]:
    """The reported figures of one game-server window."""
    a, b = window.first, window.last
    ma, mb = a["metrics"], b["metrics"]
    ra, rb = a["rooms"]["default"], b["rooms"]["default"]

    def delta(key: str) -> int:
        return int(mb.get(key, 0) - ma.get(key, 0))

    seconds = b["time_s"] - a["time_s"]
    ticks = rb["tick"] - ra["tick"]
    players, connections = scenario.players, scenario.connections
    out_messages, in_messages = delta("messages_out"), delta("messages_in")
    if "wire_bytes_out" in mb:
        wire_out, wire_in, wire_measured = delta("wire_bytes_out"), delta("wire_bytes_in"), True
    else:
        wire_out = figures.estimated_wire_bytes(delta("bytes_out"), out_messages, masked=False)
        wire_in = figures.estimated_wire_bytes(delta("bytes_in"), in_messages, masked=True)
        wire_measured = False
    ticker = rb["ticker"]
    return {
        "players": rb["players"],
        "spectators": rb["spectators"],
        "window_s": round(seconds, 3),
        "ticks": ticks,
        "skipped_ticks": ticker["skipped_ticks"] - ra["ticker"]["skipped_ticks"],
        "server_cpu_s": round(window.server_cpu_s, 3),
        "server_cpu_cores": round(window.server_cpu_s / window.wall_s, 3),
        "server_cpu_us_per_player_tick": round(
            figures.per_item_tick_us(window.server_cpu_s, players, ticks), 3
        ),
        "server_cpu_us_per_conn_tick": round(
            figures.per_item_tick_us(window.server_cpu_s, connections, ticks), 3
        ),
        "server_cpu_us_per_snapshot": round(
            window.server_cpu_s * 1e6 / max(1, delta("snapshots_sent")), 3
        ),
        "tick_ms_p50": round(ticker["duration_ms_p50"], 3),
        "tick_ms_p99": round(ticker["duration_ms_p99"], 3),
        "tick_ms_max": round(ticker["duration_ms_max"], 3),
        "lateness_ms_p50": round(ticker["lateness_ms_p50"], 3),
        "lateness_ms_p99": round(ticker["lateness_ms_p99"], 3),
        "snapshots_per_conn_s": round(
            figures.per_item_second(delta("snapshots_sent"), connections, seconds), 2
        ),
        "snapshots_skipped_per_conn_s": round(
            figures.per_item_second(delta("snapshots_skipped"), connections, seconds), 2
        ),
        "out_message_bytes_mean": round(delta("bytes_out") / out_messages, 1)
        if out_messages
        else 0,
        "in_message_bytes_mean": round(delta("bytes_in") / in_messages, 1) if in_messages else 0,
        "payload_bytes_out_per_player_s": round(
            figures.per_item_second(delta("bytes_out"), players, seconds), 1
        ),
        "payload_bytes_in_per_player_s": round(
            figures.per_item_second(delta("bytes_in"), players, seconds), 1
        ),
        "wire_bytes_out_per_conn_s": round(
            figures.per_item_second(wire_out, connections, seconds), 1
        ),
        "wire_bytes_in_per_conn_s": round(
            figures.per_item_second(wire_in, connections, seconds), 1
        ),
        "wire_bytes_measured": wire_measured,
        "server_rss_mb": round(window.server_rss / 2**20, 2),
        "swarm_cpu_cores": round(window.client_cpu_s / window.wall_s, 3),
        "swarm_cpu_us_per_bot_tick": round(
            figures.per_item_tick_us(window.client_cpu_s, connections, window.wall_s * tick_rate),
            3,
        ),
        "protocol_errors": mb.get("protocol_errors", {}),
        "slow_consumer_closes": delta("slow_consumer_closes"),
    }


def measure_game(scenario: Scenario, settings: Settings) -> dict[str, Any]:
    """Server + lean swarm for one scenario; the figures of one window."""
    progress(f"{scenario.name}: starting the server ({settings.server_tree.name})")
    server, url, stats = start_game_server(
        settings.server_tree,
        settings.workdir,
        tick_rate=settings.tick_rate,
        max_players=max(scenario.players + 10, 512),
        stats_window_s=settings.window_s,
        extra_args=(*settings.server_args, *scenario.server_args),
    )
    swarm: Managed | None = None
    try:
        time.sleep(1.0)
        rss_idle = procfs.rss_bytes(server.pid)
        # Long enough for any join and window; SIGTERM ends it when the window is over.
        duration = settings.join_timeout_s + settings.settle_s + settings.window_s + 60
        # A saturated server answers handshakes late; a bot giving up would
        # measure the give-up (and has crashed servers), not the server.
        if scenario.bots == "peer":
            swarm = start_peer_bots(
                url,
                settings.workdir,
                players=scenario.players,
                decode_sample=settings.decode_sample,
                duration_s=duration,
                connect_timeout_s=settings.join_timeout_s,
            )
        else:
            swarm = start_lean_swarm(
                url,
                settings.workdir,
                players=scenario.players,
                spectators=scenario.spectators,
                procs=scenario.procs,
                decode_sample=settings.decode_sample,
                duration_s=duration,
                connect_timeout_s=settings.join_timeout_s,
            )

        def joined() -> bool:
            document = read_json(stats)
            room = document["rooms"]["default"] if document else {}
            return (room.get("players"), room.get("spectators")) == (
                scenario.players,
                scenario.spectators,
            )

        progress(f"{scenario.name}: {scenario.connections} connections joining")
        join_s = wait_until(joined, settings.join_timeout_s, "every bot to join", [server, swarm])
        progress(f"{scenario.name}: joined in {join_s:.1f}s; settling {settings.settle_s:.0f}s")
        time.sleep(settings.settle_s)
        client_pids = procfs.descendants(swarm.pid)
        progress(f"{scenario.name}: measuring {settings.window_s:.0f}s")
        window = sample_window(server, client_pids, stats, settings.window_s, [server, swarm])
        result = game_figures(scenario, window, settings.tick_rate)
        result["server_rss_idle_mb"] = round(rss_idle / 2**20, 2)
        result["server_rss_per_conn_kb"] = round(
            (window.server_rss - rss_idle) / 1024 / scenario.connections, 2
        )
        result["join_observed_s"] = round(join_s, 2)  # stats file resolution: about 1 s
        result["server_rss_samples_mb"] = [
            [round(at, 1), round(rss / 2**20, 2)] for at, rss in window.rss_samples
        ]
        summary = swarm_summary(swarm.stop())
        swarm = None
        result["swarm"] = {
            key: summary.get(key)
            for key in (
                "connected",
                "failed",
                "dropped",
                "errors",
                "decoders",
                "join_s_max",
                "snapshots_per_bot_s",
                "rtt_ms_p50",
                "rtt_ms_p99",
                "snapshot_gap_ms_p50",
                "snapshot_gap_ms_p99",
                "client_cpu_us_per_bot_tick",
                "loop_ticks_skipped",
            )
        }
        result["join_s_all"] = summary.get("join_s_max")
        if scenario.note:
            result["note"] = scenario.note
        return result
    finally:
        if swarm is not None:
            swarm.stop()
        server.stop()


def measure_floor(
    connections: int, senders: int, out_bytes: int, in_bytes: int, settings: Settings
) -> dict[str, Any]:
    """The floor program at the same connection count and message sizes."""
    stats = settings.workdir / f"floor-{time.monotonic_ns()}.json"
    tag = f"floor-{connections}"
    progress(f"{tag}: {out_bytes} B out / {in_bytes} B in per connection-tick")
    server = Managed(
        "floor server",
        [
            sys.executable,
            "-m",
            "benchmarks.floor",
            "server",
            "--connections",
            str(connections),
            "--size",
            str(out_bytes),
            "--tick-rate",
            str(settings.tick_rate),
            "--stats-file",
            str(stats),
        ],
        settings.workdir / f"{stats.stem}-server.log",
        cwd=REPO,
        stdout=True,
    )
    client: Managed | None = None
    try:
        assert server.process.stdout is not None
        line = server.process.stdout.readline()
        if not line:
            raise BenchmarkError(f"floor server did not start: {server.tail()}")
        port = json.loads(line)["port"]
        client = Managed(
            "floor client",
            [
                sys.executable,
                "-m",
                "benchmarks.floor",
                "client",
                "--port",
                str(port),
                "--connections",
                str(connections),
                "--senders",
                str(senders),
                "--size",
                str(in_bytes),
                "--tick-rate",
                str(settings.tick_rate),
            ],
            settings.workdir / f"{stats.stem}-client.log",
            cwd=REPO,
        )
        wait_until(
            lambda: read_json(stats) is not None, 60, "the floor to connect", [server, client]
        )
        time.sleep(settings.settle_s)
        window = sample_window(server, [client.pid], stats, settings.window_s, [server, client])
        a, b = window.first, window.last
        ticks = b["tick"] - a["tick"]
        seconds = b["time_s"] - a["time_s"]
        return {
            "connections": connections,
            "window_s": round(seconds, 3),
            "ticks": ticks,
            "skipped_ticks": b["skipped_ticks"] - a["skipped_ticks"],
            "out_message_bytes": out_bytes,
            "in_message_bytes": in_bytes,
            "server_cpu_cores": round(window.server_cpu_s / window.wall_s, 3),
            "server_cpu_us_per_conn_tick": round(
                figures.per_item_tick_us(window.server_cpu_s, connections, ticks), 3
            ),
            "messages_out_per_conn_s": round(
                figures.per_item_second(
                    b["messages_out"] - a["messages_out"], connections, seconds
                ),
                2,
            ),
            "client_cpu_us_per_conn_tick": round(
                figures.per_item_tick_us(
                    window.client_cpu_s, connections, window.wall_s * settings.tick_rate
                ),
                3,
            ),
        }
    finally:
        if client is not None:
            client.stop()
        server.stop()
