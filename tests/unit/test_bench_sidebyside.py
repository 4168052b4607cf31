"""The side-by-side benchmark's pure parts: finding the peer, ratios, the bots' inputs."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from benchmarks import colyseus, sidebyside
from benchmarks.measure import Settings
from gameserver.clients.botdriver import behaviour_bot
from gameserver.games.bench import Bot
from gameserver.rules import BotView


def test_without_the_peer_the_scenario_says_why_and_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(colyseus, "REPO", tmp_path / "a" / "checkout")
    monkeypatch.setenv("GAMESERVER_COLYSEUS_PEER", str(tmp_path / "nowhere"))
    with pytest.raises(colyseus.PeerUnavailable, match="no Colyseus peer"):
        colyseus.prepare()
    result = sidebyside.run_side_by_side(500, Settings(workdir=tmp_path), 1, False)
    assert "no Colyseus peer" in result["skipped"]
    assert sidebyside.table(result).startswith("skipped:")


def test_without_node_the_scenario_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "server.mjs").write_text("")
    monkeypatch.setenv("GAMESERVER_COLYSEUS_PEER", str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda tool: None)
    with pytest.raises(colyseus.PeerUnavailable, match="`node` is not on PATH"):
        colyseus.prepare()


def test_ratios_pair_each_repeat_with_the_peer_of_the_same_repeat() -> None:
    runs: dict[str, list[dict[str, Any]]] = {
        "colyseus": [
            {"server_cpu_us_per_player_tick": 20.0, "out_message_bytes_mean": 7000},
            {"error": "died"},
            {"server_cpu_us_per_player_tick": 10.0, "out_message_bytes_mean": 7000},
        ],
        "bench-interest": [
            {"server_cpu_us_per_player_tick": 30.0, "out_message_bytes_mean": 1050},
            {"server_cpu_us_per_player_tick": 99.0, "out_message_bytes_mean": 1050},
            {"server_cpu_us_per_player_tick": 20.0, "out_message_bytes_mean": 700},
        ],
    }
    found = sidebyside.ratios(runs)["bench-interest"]
    assert found["server_cpu_us_per_player_tick"] == {"median": 1.75, "runs": [1.5, 2.0]}
    assert found["out_message_bytes_mean"]["runs"] == [0.15, 0.1]


def test_the_swarm_runs_the_bench_games_own_bot_as_its_peer_load_pattern() -> None:
    assert behaviour_bot("bench", "peer") is Bot  # the peer's bots.mjs, draw for draw
    blind = Bot(7)  # run without decoding: it must not need the world
    inputs = {blind.act(BotView(tick=tick, me=3, entities={})).input for tick in range(1, 200)}
    assert len(inputs) > 1  # it re-draws its direction about once a second
