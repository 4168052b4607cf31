"""The swarm command against a real server: its report agrees with the server's own counts."""

from __future__ import annotations

import json
import subprocess
import sys

import trio

from gameserver.server import GameServer

from .helpers import run_swarm


async def test_fifty_bots_report_what_the_server_counted(server: GameServer) -> None:
    with trio.fail_after(60):
        code, out, err = await run_swarm(
            "--url", server.url, "--bots", "50", "--duration", "3", "--behaviour", "mixed", "--json"
        )
    assert code == 0, err
    summary = json.loads(out)
    metrics = server.metrics
    assert summary["bots"] == summary["connected"] == 50
    assert summary["failed"] == summary["dropped"] == 0
    assert summary["errors"] == {}
    assert metrics.connections_opened == 50 and not metrics.protocol_errors
    # What the server sent and what the bots read differ at most by what was in
    # flight when each bot left: a snapshot or two per bot.
    assert 0 <= metrics.snapshots_sent - summary["snapshots_received"] <= 100
    assert 0 <= metrics.bytes_out - summary["bytes_received"] <= 0.02 * metrics.bytes_out
    assert metrics.bytes_in == summary["bytes_sent"]
    # 30 Hz less the join time on a quiet machine; a loaded one (the server shares the
    # test's process) loses a few ticks, never half of them.
    assert summary["snapshots_per_bot_s"] > 15
    assert 0 < summary["rtt_ms_p50"] <= summary["rtt_ms_p99"] < 500
    assert summary["snapshot_gap_ms_p99"] < 200


async def test_worker_processes_merge_into_one_report(server: GameServer) -> None:
    with trio.fail_after(60):
        code, out, err = await run_swarm(
            "--url",
            server.url,
            "--bots",
            "9",
            "--spectators",
            "4",
            "--procs",
            "2",
            "--duration",
            "3",
            "--json",
        )
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["bots"], summary["spectators"], summary["connected"]) == (9, 4, 13)
    assert server.metrics.connections_opened == 13
    assert 0 <= server.metrics.snapshots_sent - summary["snapshots_received"] <= 26
    assert "connected" in err  # progress lines went to stderr


async def test_unreachable_server_fails_with_non_zero_status() -> None:
    with trio.fail_after(60):
        code, out, _ = await run_swarm(
            "--url", "ws://127.0.0.1:9/ws", "--bots", "3", "--duration", "1", "--json"
        )
    summary = json.loads(out)
    assert code == 1
    assert summary["failed"] == 3 and summary["errors"] == {"connect_error": 3}


def test_bad_arguments_are_refused_with_a_message() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gameserver", "swarm", "--url", "ws://x", "--bots", "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "at least one bot" in result.stderr
