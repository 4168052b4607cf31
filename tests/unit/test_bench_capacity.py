"""The capacity benchmark's rules: a node's figures from its rooms, when a step holds."""

from __future__ import annotations

from typing import Any

from benchmarks.capacity import (
    Plan,
    capacity,
    holds,
    node_figures,
    players_per_busy_core,
    summarise,
)


def room(players: int, p50: float, p99: float, late: float, skipped: int) -> dict[str, Any]:
    ticker = {
        "duration_ms_p50": p50,
        "duration_ms_p99": p99,
        "duration_ms_max": p99 + 1,
        "lateness_ms_p99": late,
        "skipped_ticks": skipped,
    }
    return {"players": players, "ticker": ticker}


def test_a_node_is_as_good_as_its_worst_room_and_skips_count_only_in_the_window() -> None:
    first = {"rooms": {"a": room(100, 3.0, 5.0, 1.0, 2), "default": room(0, 0, 0, 0, 0)}}
    last = {
        "rooms": {
            "a": room(100, 3.0, 6.0, 2.0, 3),
            "b": room(100, 4.0, 12.0, 9.0, 1),  # made during the window
            "c": room(50, 9.0, 7.0, 1.0, 0),
            "default": room(0, 50.0, 90.0, 90.0, 0),  # empty: not counted
        }
    }
    figures = node_figures(first, last)
    assert figures["players"] == 250 and figures["rooms"] == 3
    assert figures["tick_ms_p99"] == 12.0 and figures["lateness_ms_p99"] == 9.0
    assert figures["tick_ms_p50"] == 4.0  # the players-weighted median of the rooms' p50
    assert figures["skipped_ticks"] == 1 + 1 + 0


def test_a_step_holds_with_every_player_in_and_every_node_within_the_limit() -> None:
    plan = Plan("arena", 2, start=100, step=100, max_per_node=350)
    assert plan.totals() == [200, 400, 600]
    assert round(plan.limit_ms, 2) == 16.67
    ok = {"players": 100, "tick_ms_p99": 10.0, "lateness_ms_p99": 16.0}
    late = {**ok, "lateness_ms_p99": 20.0}
    assert holds([ok, ok], 200, plan.limit_ms)
    assert not holds([ok, late], 200, plan.limit_ms)
    assert not holds([ok, ok], 210, plan.limit_ms)  # a player missing


def test_capacity_is_the_last_step_before_the_first_that_failed() -> None:
    steps = [
        {"players": 100, "held": True},
        {"players": 200, "held": True},
        {"players": 300, "held": False},
        {"players": 400, "held": True},  # never reached in a run; not counted if it were
    ]
    assert (best := capacity(steps)) is not None and best["players"] == 200
    assert capacity([{"players": 100, "held": False}]) is None


def test_the_two_node_ratio_pairs_runs_by_repeat_and_takes_the_median() -> None:
    runs = {
        1: [{"capacity": 400}, {"capacity": 500}, {"capacity": 0}],
        2: [{"capacity": 800}, {"capacity": 800}, {"capacity": 600}],
    }
    summary = summarise("bench", runs, 30)
    assert summary["two_over_one_runs"] == [2.0, 1.6]
    assert summary["two_over_one"] == 1.8
    assert summary["one_node_players"] == 400 and summary["two_nodes_players"] == 800
    assert summary["players_per_core_two_nodes"] == 400


def test_players_per_busy_core_divides_by_the_cores_the_nodes_burnt() -> None:
    steps = [
        {"players": 200, "nodes": [{"cpu_cores": 0.2}, {"cpu_cores": 0.2}]},
        {"players": 400, "nodes": [{"cpu_cores": 0.5}, {"cpu_cores": 0.3}]},
        {"players": 600, "held": False, "error": "timed out"},  # never measured
    ]
    assert players_per_busy_core(steps) == 500
    assert players_per_busy_core([]) is None
