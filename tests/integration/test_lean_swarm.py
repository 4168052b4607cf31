"""The lean swarm against a real server: it joins, plays and reports what the server counted."""

from __future__ import annotations

import json

import trio

from gameserver.server import GameServer

from .helpers import run_swarm


async def run_lean(*args: str) -> tuple[int, str, str]:
    return await run_swarm("--lean", *args)


async def test_forty_lean_bots_report_what_the_server_counted(server: GameServer) -> None:
    with trio.fail_after(60):
        code, out, err = await run_lean(
            "--url",
            server.url,
            "--bots",
            "40",
            "--duration",
            "3",
            "--behaviour",
            "bench",
            "--decode-sample",
            "0.1",
            "--json",
        )
    assert code == 0, err
    summary = json.loads(out)
    metrics = server.metrics
    assert summary["bots"] == summary["connected"] == 40
    assert summary["failed"] == summary["dropped"] == 0
    assert summary["errors"] == {}
    assert summary["decoders"] == 4  # 10% of the bots verified every snapshot, without error
    assert metrics.connections_opened == 40 and not metrics.protocol_errors
    # Bots read until the server's close frame, so at most what was in flight
    # when each bot left can be missing: a snapshot or two per bot.
    assert 0 <= metrics.snapshots_sent - summary["snapshots_received"] <= 80
    assert 0 <= metrics.bytes_out - summary["bytes_received"] <= 0.02 * metrics.bytes_out
    assert metrics.bytes_in == summary["bytes_sent"]
    assert summary["snapshots_per_bot_s"] > 25
    assert 0 < summary["rtt_ms_p50"] <= summary["rtt_ms_p99"] < 500
    assert summary["snapshot_gap_ms_p99"] < 200
    assert summary["bot_ticks"] > 0 and summary["client_cpu_us_per_bot_tick"] > 0


async def test_lean_workers_and_spectators_merge_into_one_report(server: GameServer) -> None:
    with trio.fail_after(60):
        code, out, err = await run_lean(
            "--url",
            server.url,
            "--bots",
            "9",
            "--spectators",
            "4",
            "--procs",
            "2",
            "--behaviour",
            "mixed",  # non-decoding chase bots wander
            "--decode-sample",
            "0.5",
            "--duration",
            "3",
            "--json",
        )
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["bots"], summary["spectators"], summary["connected"]) == (9, 4, 13)
    assert summary["errors"] == {}
    # Each worker samples its own share: round(5 / 2) + round(2 / 2) + round(4 / 2) + round(2 / 2).
    assert summary["decoders"] == 6
    assert server.metrics.connections_opened == 13 and not server.metrics.protocol_errors
    assert 0 <= server.metrics.snapshots_sent - summary["snapshots_received"] <= 26
    assert server.metrics.bytes_in == summary["bytes_sent"]


async def test_unreachable_server_fails_the_lean_swarm() -> None:
    with trio.fail_after(60):
        code, out, _ = await run_lean(
            "--url", "ws://127.0.0.1:9/ws", "--bots", "3", "--duration", "1", "--json"
        )
    summary = json.loads(out)
    assert code == 1
    assert summary["failed"] == 3 and summary["errors"] == {"connect_error": 3}
