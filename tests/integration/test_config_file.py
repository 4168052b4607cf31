"""``gameserver serve --config FILE``: the file's settings reach the rooms players join.

A real server process started from a config file: the default room runs at the file's
tick rate, a mode the file declares runs its own game at its own tick rate, and an
environment variable still beats the file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import trio

from gameserver.clients import connect

from .test_shutdown import read_until

SERVER_TOML = """\
[network]
host = "127.0.0.1"
port = 0

[rooms]
tick_rate = 20
max_rooms = 4

[modes.cards]
game = "crazyeights"
tick_rate = 10
max_players = 4
"""


async def test_serve_runs_the_rooms_a_config_file_describes(tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text(SERVER_TOML)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GAMESERVER_SNAPSHOT_DIVISOR": "2"}
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "gameserver", "serve", "--config", str(config)],
        stderr=subprocess.PIPE,
        env=env,
    )
    lines: list[str] = []
    try:
        assert process.stderr is not None
        with trio.fail_after(20):
            match = await read_until(process.stderr, r"listening on (ws://\S+)", lines)
        url = match.group(1)
        async with connect(url, name="default") as player:
            assert player.welcome is not None
            assert (player.welcome.game, player.welcome.tick_rate) == ("arena", 20)
            assert player.welcome.snapshot_rate == 10  # GAMESERVER_SNAPSHOT_DIVISOR=2
        async with connect(f"{url}?mode=cards", name="cards") as player:
            assert player.welcome is not None
            assert (player.welcome.game, player.welcome.tick_rate) == ("crazyeights", 10)
        process.send_signal(signal.SIGINT)
        with trio.fail_after(5):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
