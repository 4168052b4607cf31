"""A long run at full load: does anything degrade or grow?

    python -m benchmarks.run --scenario soak                     # 10 minutes, 500 players
    python -m benchmarks.run --scenario soak --soak-minutes 2    # shorter

One server and its bots for a warm-up (``--soak-warmup``, default 60 s: joins, the
collector's first full passes, every cache filled), then one window of the soak's
length. Pass means: no skipped tick, no error anywhere (protocol errors counted by the
server, bots failed, dropped or erroring, slow-consumer closes) and the server's RSS at
the end within 5 % of its RSS when the window opened. RSS is sampled every 5 s, so the
result also shows the largest value and the least-squares growth per minute.
"""

from __future__ import annotations

from typing import Any

import attrs

from . import figures
from .measure import Scenario, Settings, measure_game

RSS_GROWTH_LIMIT = 0.05  # the target: under 5 % after warm-up
GAMES = {
    "bench": Scenario("soak-bench", 500, server_args=("--game", "bench"), bots="peer"),
    "arena": Scenario("soak-arena", 500),
}


def run_soak(
    game: str, players: int, minutes: float, warmup_s: float, settings: Settings
) -> dict[str, Any]:
    scenario = attrs.evolve(GAMES[game], name=f"soak-{game}-{players}", players=players)
    settings = attrs.evolve(settings, window_s=minutes * 60, settle_s=warmup_s)
    result = measure_game(scenario, settings)
    samples = result["server_rss_samples_mb"]
    start_mb, end_mb = samples[0][1], samples[-1][1]
    growth = (end_mb - start_mb) / start_mb if start_mb else 0.0
    swarm = result.get("swarm") or {}
    errors = {
        "protocol_errors": sum(result.get("protocol_errors", {}).values()),
        "slow_consumer_closes": result.get("slow_consumer_closes", 0),
        "bots_failed": swarm.get("failed") or 0,
        "bots_dropped": swarm.get("dropped") or 0,
        "bot_errors": sum((swarm.get("errors") or {}).values()),
    }
    points = [(at / 60, mb) for at, mb in samples]
    result["soak"] = {
        "game": game,
        "minutes": minutes,
        "warmup_s": warmup_s,
        "skipped_ticks": result["skipped_ticks"],
        "errors": errors,
        "rss_mb_at_window_start": start_mb,
        "rss_mb_at_end": end_mb,
        "rss_mb_max": max(mb for _, mb in samples),
        "rss_growth_pct": round(growth * 100, 2),
        "rss_growth_mb_per_min": round(figures.slope(points), 3) if len(points) >= 2 else None,
        "passed": result["skipped_ticks"] == 0
        and not any(errors.values())
        and growth < RSS_GROWTH_LIMIT,
    }
    return result
