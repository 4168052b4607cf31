"""End-to-end fixtures: a real server (in a thread of its own) and real headless Chromium.

Playwright's sync API drives Debian's Chromium (``/usr/bin/chromium``, or
``$CHROMIUM``); no browser is downloaded. Without Chromium or playwright the
tests are skipped, unless ``CI`` is set: then they fail, so a CI run cannot
pass without the browser tests. Screenshots go to ``artifacts/e2e/``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import trio

from gameserver.cli.common import bundled_web_root
from gameserver.clients.latency import LatencyRelay
from gameserver.config import Config
from gameserver.server import GameServer

T = TypeVar("T")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


class ServerThread:
    """A GameServer (and a relay in front of it) on a trio loop in a background thread."""

    def __init__(self, config: Config, **options: Any) -> None:
        self.server = GameServer(config, **options)
        self.relay: LatencyRelay | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._started = threading.Event()
        self._stop: trio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="gameserver", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._started.wait(10) or self._error is not None:
            raise RuntimeError(f"server did not start: {self._error!r}")

    def _main(self) -> None:
        try:
            trio.run(self._serve)
        except BaseException as error:  # reported by start() or stop()
            self._error = error
            self._started.set()

    async def _serve(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        self._stop = trio.Event()
        async with trio.open_nursery() as nursery:
            await nursery.start(self.server.run)
            self.relay = LatencyRelay("127.0.0.1", self.server.port)
            await nursery.start(self.relay.run)
            self._started.set()
            await self._stop.wait()
            await self.server.shutdown()
            nursery.cancel_scope.cancel()

    def call(self, function: Callable[[], T]) -> T:
        """Run ``function`` on the server's loop (between ticks) and return its result."""
        assert self._token is not None
        return trio.from_thread.run_sync(function, trio_token=self._token)

    def stop(self) -> None:
        if self._token is not None and self._stop is not None:
            trio.from_thread.run_sync(self._stop.set, trio_token=self._token)
        self._thread.join(10)
        if self._error is not None:
            raise self._error

    @property
    def page_url(self) -> str:
        return self.server.http_url

    @property
    def relayed_page_url(self) -> str:
        assert self.relay is not None
        return f"http://127.0.0.1:{self.relay.port}/"


ADMIN_TOKEN = "e2e-operator-token"


@pytest.fixture
def game_server() -> Iterator[ServerThread]:
    # A small world without interest limits, so every player sees every other one; the
    # operator routes behind an admin token, as in production.
    config = Config.of(
        host="127.0.0.1",
        port=0,
        seed=11,
        web_root=bundled_web_root(),
        game_settings={"width": 480.0, "height": 360.0, "obstacle_count": 2},
        monitor_interval_s=0.25,
        admin_token=ADMIN_TOKEN,
        shutdown_timeout_s=0.5,
    )
    thread = ServerThread(config)
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        _unavailable(f"no Chromium at {executable} (Debian: apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


class PageErrors:
    """JavaScript errors and console errors seen by the pages of a test."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Any) -> Any:
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"console.{message.type}: {message.text}")
                if message.type == "error"
                else None
            ),
        )
        return page


@pytest.fixture
def new_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[[str], Any]]:
    """Opens pages in fresh browser contexts; screenshots of each land in artifacts/e2e."""
    contexts = []
    pages: list[Any] = []
    errors = PageErrors()

    def open_page(url: str) -> Any:
        context = browser.new_context(viewport={"width": 960, "height": 640})
        contexts.append(context)
        page = errors.watch(context.new_page())
        page.set_default_timeout(15_000)
        page.goto(url)
        pages.append(page)
        return page

    yield open_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for index, page in enumerate(pages):
        name = f"{request.node.name}-{index}.png".replace("/", "_")
        with contextlib.suppress(Exception):  # a crashed page still lets the others be kept
            page.screenshot(path=str(ARTIFACTS / name))
    for context in contexts:
        context.close()
    unexpected = [e for e in errors.errors if "WebSocket" not in e and "ERR_CONNECTION" not in e]
    assert not unexpected, unexpected
