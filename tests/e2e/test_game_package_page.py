"""A game made with ``gameserver new-game`` is played in Chromium from the page it ships.

The scaffold's project is written into a temporary folder and served by ``gameserver
serve --game PACKAGE.rules:Class`` in a process of its own, with the project on its
``PYTHONPATH`` (as an installed game would be importable) and the bundled browser
client as its ``web_root``, which has no page for the game: the page comes from the
package's ``web/`` folder. A person opens the start page, follows the game's "play"
link, gives a name, moves the runner with a key and paints it with a button.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import gameserver
from gameserver.scaffold import write_project

GAME = "pagetest_coins"
RULES = f"{GAME}.rules:PagetestCoins"
REPO_ROOT = Path(gameserver.__file__).resolve().parent.parent


class ServerProcess:
    """``gameserver serve`` in a subprocess; its log is read by a thread until it ends."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        self.lines: list[str] = []
        self.page_url = ""
        self._listening = threading.Event()
        threading.Thread(target=self._read, name="serve-log", daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            match = re.search(r"pages at (http://\S+)", line)
            if match:
                self.page_url = match.group(1).rstrip("/") + "/"
                self._listening.set()
        self._listening.set()  # exited: wait_listening reports the log

    def wait_listening(self, timeout_s: float) -> str:
        if not self._listening.wait(timeout_s) or not self.page_url:
            raise AssertionError("the server did not start:\n" + "".join(self.lines))
        return self.page_url

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def package_server(tmp_path: Path) -> Iterator[str]:
    """The scaffold's game served with ``serve --game``; the server's page URL."""
    project = tmp_path / "project"
    write_project(GAME, project)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONHOME"}}
    env["PYTHONPATH"] = os.pathsep.join([str(project), str(REPO_ROOT)])
    env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, "-m", "gameserver", "serve", "--game", RULES]
    command += ["--host", "127.0.0.1", "--port", "0", "--seed", "3"]
    server = ServerProcess(command, env)
    try:
        yield server.wait_listening(30)
    finally:
        server.stop()


def me(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("() => window.game.me()"))


def test_the_scaffolds_game_is_played_from_the_page_its_package_ships(
    package_server: str, new_page: Callable[[str], Any]
) -> None:
    start = new_page(package_server)
    play = start.locator(f'tr[data-mode="default"][data-game="{GAME}"] a[data-action="play"]')
    assert play.get_attribute("href") == f"/games/{GAME}/"  # its own page, not /any/
    play.click()
    page = start
    page.fill("#name-input", "ann")
    page.click('#join-form button[type="submit"]')
    page.wait_for_function("() => window.game.state === 'playing' && window.game.me() !== null")
    runner = me(page)
    assert runner["type"] == "Runner" and runner["name"] == "ann"
    assert "name=ann" in page.inner_text("#world li.me")  # listed with its decoded fields

    # Toward the middle of the field, so an edge cannot hold the runner still.
    width = page.evaluate("() => window.game.world().width")
    key, sign = ("ArrowRight", 1) if runner["x"] < width / 2 else ("ArrowLeft", -1)
    page.keyboard.down(key)
    page.wait_for_function(
        "([x, sign]) => (window.game.me().x - x) * sign > 5", arg=[runner["x"], sign]
    )
    page.keyboard.up(key)
    moved = me(page)
    assert moved["y"] == runner["y"]  # only along the key's axis

    colour = next(c for c in ("RED", "GREEN", "BLUE", "YELLOW") if c != runner["color"])
    page.click(f'#colors button[data-color="{colour}"]')
    page.wait_for_function("(colour) => window.game.me().color === colour", arg=colour)
    assert page.evaluate("() => window.game.error") is None
