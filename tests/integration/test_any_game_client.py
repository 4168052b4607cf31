"""The Python client plays a game it has never seen: the one ``gameserver new-game`` writes.

The game is generated into a temporary folder and served in-process (``serve_game``);
the client is the library as shipped, which learns everything from the Welcome's
description: it moves the runner with the game's input, paints it with a command, reads
the world by field name, and the spectator view and the blocking facade show the same.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator

import pytest
import trio
from trio_websocket import HandshakeError

from gameserver.cli import main
from gameserver.clients import connect, connect_sync
from gameserver.clients.spectate import snapshot_json, summary
from gameserver.protocol import Role
from gameserver.testing import serve_game

GAME = "crab_walk"  # a name no other test imports


@pytest.fixture(scope="module")
def generated_game(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The scaffold's game, importable as ``crab_walk``; its rules class's dotted path."""
    folder = tmp_path_factory.mktemp("newgame") / "project"
    assert main(["new-game", GAME, "--dir", str(folder)]) == 0
    sys.path.insert(0, str(folder))
    try:
        importlib.import_module(f"{GAME}.rules")
        yield f"{GAME}.rules:CrabWalk"
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == GAME or m.startswith(f"{GAME}.")]:
            del sys.modules[name]


async def test_the_client_moves_paints_and_reads_a_new_game(generated_game: str) -> None:
    async with (
        serve_game(generated_game) as server,
        connect(server.url, name="ada") as ada,
        connect(server.url, role=Role.SPECTATOR, name="eve") as eve,
    ):
        assert ada.welcome is not None and ada.welcome.game == GAME
        with trio.fail_after(5):
            await ada.wait_for(lambda c: c.me is not None)
        start = ada.me
        assert type(start).__name__ == "Runner" and start.name == "ada"
        dx = 1 if start.x < 500 else -1  # toward the middle: the wall stops nobody
        blue = type(start.color)["BLUE"]  # the enum as described, rebuilt by the client
        with trio.fail_after(5):
            for _ in range(10):
                await ada.send(dx=dx)  # the input's other field (dy) is neutral: 0
                await ada.next_snapshot()
            await ada.send_command(ada.make_command("PickColor", color=blue))
            await ada.send(dx=0)
            await ada.wait_for(lambda c: c.me.color == blue)
            moved = lambda c: (c.entities[ada.entity_id].x - start.x) * dx > 5  # noqa: E731
            await ada.wait_for(moved)
            await eve.wait_for(moved)  # the spectator sees the same runner go
        assert ada.me.y == start.y
        assert not ada.errors and ada.stats.inputs_sent == 11
        coins = eve.entities.of_type("Coin")
        assert len(coins) == 1 and all(0 <= c.x <= 4000 for c in coins.values())
        assert ada.entity_id in eve.remote_view()  # runners are interpolated, as described

        state = await snapshot_json(server.url)
        assert state["game"] == GAME
        runner = next(e for e in state["entities"] if e["id"] == ada.entity_id)
        assert runner["type"] == "Runner" and runner["color"] == "BLUE"
        assert "1 Coin" in summary(state) and "Runner" in summary(state)


async def test_the_blocking_facade_plays_it_from_plain_code(generated_game: str) -> None:
    async with serve_game(generated_game) as server:

        def script() -> tuple[float, float, str]:
            with connect_sync(server.url, name="bo") as bo:
                bo.wait_for(lambda c: c.me is not None)
                before = bo.me.x
                dx = 1 if before < 500 else -1
                for _ in range(10):
                    bo.send(dx=dx)
                    bo.next_snapshot()
                bo.send(dx=0)
                bo.wait_for(lambda c: (c.me.x - before) * dx > 5)
                world = bo.world()
                return before, world[bo.entity_id].x, bo.game

        with trio.fail_after(20):
            before, after, game = await trio.to_thread.run_sync(script)
        assert game == GAME and after != before


def test_the_facade_raises_a_refusal_in_the_caller_s_thread() -> None:
    with pytest.raises((OSError, HandshakeError)):  # as connect() raises it
        connect_sync("ws://127.0.0.1:9/ws", timeout_s=5)
