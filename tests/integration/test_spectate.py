"""The terminal spectator command against a live server."""

from __future__ import annotations

import json
import sys

import trio

from gameserver.clients import connect
from gameserver.games.arena import Buttons
from gameserver.server import GameServer


async def spectate(*args: str) -> trio.CompletedProcess[bytes]:
    with trio.fail_after(30):
        return await trio.run_process(
            [sys.executable, "-m", "gameserver", "spectate", *args],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )


async def test_once_json_prints_the_decoded_world(server: GameServer) -> None:
    async with connect(server.url, name="a") as a, connect(server.url, name="b") as b:
        for _ in range(5):
            await a.send_input(Buttons.RIGHT)
            await a.next_snapshot()
        result = await spectate("--url", server.url, "--once", "--json")
        assert result.returncode == 0, result.stderr
        state = json.loads(result.stdout)
        players = {e["id"]: e for e in state["entities"] if e["type"] == "Player"}
        assert set(players) == {a.entity_id, b.entity_id}
        me = a.me
        assert me is not None
        # Every field by its described name, in world units; flag sets as names.
        assert players[a.entity_id]["hp"] == 100 and players[a.entity_id]["flags"] == ["ALIVE"]
        assert 0 < players[a.entity_id]["x"] < state["world"]["width"]
        assert state["game"] == "arena" and state["tick"] > 0 and state["tick_rate"] == 30


async def test_live_view_runs_for_a_while_and_draws_the_scoreboard(server: GameServer) -> None:
    async with connect(server.url, name="a"):
        result = await spectate("--url", server.url, "--duration", "1")
    assert result.returncode == 0, result.stderr
    assert b"scoreboard" in result.stdout


async def test_unreachable_server_is_a_clear_error() -> None:
    result = await spectate("--url", "ws://127.0.0.1:9/ws", "--once")
    assert result.returncode == 1
    assert b"cannot watch ws://127.0.0.1:9/ws" in result.stderr


async def test_demo_runs_a_server_with_bots_and_shows_them() -> None:
    with trio.fail_after(30):
        result = await trio.run_process(
            [sys.executable, "-m", "gameserver", "demo", "--port", "0", "--bots", "4",
             "--duration", "2"],
            capture_stdout=True, capture_stderr=True, check=False,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "play in a browser: http://127.0.0.1:" in out and "scoreboard" in out
    assert "game WebSocket: ws://127.0.0.1:" in out
    assert out.count("#") > 10  # obstacles and player ids drawn
