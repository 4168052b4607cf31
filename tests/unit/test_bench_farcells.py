"""The snapshot-budget benchmark measures what the budget trades, in one process."""

from __future__ import annotations

from benchmarks.farcells import measure


def test_a_smaller_budget_sends_fewer_bytes_and_refreshes_far_cells_later() -> None:
    roomy, tight = (measure(players=80, ticks=30, budget=budget) for budget in (1200, 300))
    assert tight["bytes_per_snapshot"] < roomy["bytes_per_snapshot"]
    assert tight["refresh_wait_ticks"]["mean"] > roomy["refresh_wait_ticks"]["mean"] >= 0
    assert roomy["deliver_us_per_player_tick"] > 0
