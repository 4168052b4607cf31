"""The benchmark figures: per player-tick, per second, slopes, medians, framing estimates."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import figures
from benchmarks.run import derive


def test_cpu_per_item_tick_in_microseconds() -> None:
    # 3 CPU seconds over 600 ticks of 500 players: 10 us per player-tick.
    assert figures.per_item_tick_us(3.0, 500, 600) == pytest.approx(10.0)
    assert figures.per_item_tick_us(3.0, 0, 600) == 0.0


def test_per_item_second() -> None:
    assert figures.per_item_second(1_000_000, 100, 20.0) == pytest.approx(500.0)
    assert figures.per_item_second(5, 10, 0) == 0.0


def test_slope_of_two_and_more_points() -> None:
    assert figures.slope([(100, 40.0), (500, 80.0)]) == pytest.approx(0.1)
    assert figures.slope([(0, 1.0), (1, 3.0), (2, 5.0)]) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        figures.slope([(1, 1.0)])
    with pytest.raises(ValueError):
        figures.slope([(1, 1.0), (1, 2.0)])


def test_websocket_framing_estimate() -> None:
    assert [figures.ws_header_bytes(n) for n in (10, 125, 126, 65535, 65536)] == [2, 2, 4, 4, 10]
    # 100 server messages of 1000 bytes: 4 header bytes each.
    assert figures.estimated_wire_bytes(100_000, 100, masked=False) == 100_400
    # Client frames carry a 4-byte mask key too.
    assert figures.estimated_wire_bytes(1000, 100, masked=True) == 1000 + 600
    assert figures.estimated_wire_bytes(0, 0, masked=True) == 0


def test_median_figures_keep_non_numbers_from_the_first_run() -> None:
    runs = [
        {"cpu": 3.0, "ok": True, "name": "a"},
        {"cpu": 1.0, "ok": True, "name": "b"},
        {"cpu": 2.0, "ok": False, "name": "c"},
    ]
    assert figures.median_figures(runs) == {"cpu": 2.0, "ok": True, "name": "a"}
    assert figures.median_figures([]) == {}


def test_paired_median_skips_zero_denominators() -> None:
    assert figures.paired_median([10, 20, 30], [5, 0, 10]) == pytest.approx(2.5)
    assert figures.paired_median([1], [0]) is None


def _scenario(
    players: int, spectators: int, rss_mb: float, cores: float, rate: float
) -> dict[str, Any]:
    run = {
        "players": players,
        "spectators": spectators,
        "server_rss_mb": rss_mb,
        "server_cpu_cores": cores,
        "snapshots_per_conn_s": rate,
    }
    return {"median": run, "runs": [run]}


def test_derived_figures_compare_scenarios_of_the_same_run() -> None:
    derived = derive(
        {
            "players-100": _scenario(100, 0, 40.0, 0.30, 30.0),
            "players-500": _scenario(500, 0, 80.0, 0.90, 30.0),
            "spectators-1000": _scenario(100, 1000, 120.0, 0.60, 30.0),
        }
    )
    assert derived["server_rss_kb_per_player_slope"] == pytest.approx(40 * 1024 / 400, rel=1e-3)
    # 0.3 extra cores for 1000 spectators x 30 snapshots per second: 10 us per snapshot.
    assert derived["spectator_extra_server_cpu_us_per_snapshot"] == pytest.approx(10.0)


def test_cpu_per_snapshot_from_recorded_figures() -> None:
    run = {
        "players": 400,
        "spectators": 100,
        "snapshots_per_conn_s": 10.0,
        "window_s": 20.0,
        "server_cpu_s": 20.0,
    }
    # 100,000 snapshots for 20 CPU seconds: 200 us each.
    assert figures.cpu_per_snapshot_us(run) == pytest.approx(200.0)
    assert figures.cpu_per_snapshot_us({"players": 1}) is None
