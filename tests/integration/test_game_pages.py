"""A game package's own page, served at ``/games/<id>/`` from its ``web/`` folder.

The game is the scaffold's (``gameserver new-game``), written into a temporary folder and
put on ``sys.path``, as an installed game would be importable; its page folder gets a few
hostile neighbours (a dot file, a symlink out, a file beside the folder). A second game
with a page is importable too but not served by any mode: its page must not answer, and
nothing may import it because a URL named it.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import trio

from gameserver.config import Mode
from gameserver.recording import header, tick_record
from gameserver.rules.loading import load_rules
from gameserver.scaffold import write_project
from gameserver.server import GameServer
from tests.conftest import make_config

from .httpclient import get

SERVED = "paged_coins"  # a mode of the server plays it
UNSERVED = "unserved_coins"  # importable, with a page, but no mode plays it


@pytest.fixture(scope="module")
def game_packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Both games' projects on sys.path (the folder holding their packages)."""
    projects = tmp_path_factory.mktemp("games")
    for name in (SERVED, UNSERVED):
        write_project(name, projects / name)
    package = projects / SERVED / SERVED
    web = package / "web"
    (web / "app.js").write_text("export const page = 'PACKAGE-PAGE';\n")
    (web / ".hidden.js").write_text("HIDDEN-CONTENT")
    (package / "beside.txt").write_text("BESIDE-CONTENT")  # in the package, not its page
    (projects / "outside.js").write_text("OUTSIDE-CONTENT")
    (web / "link.js").symlink_to(projects / "outside.js")
    paths = [str(projects / SERVED), str(projects / UNSERVED)]
    sys.path[:0] = paths
    yield projects
    del sys.path[: len(paths)]
    for name in list(sys.modules):
        if name.split(".")[0] in (SERVED, UNSERVED):
            del sys.modules[name]


@pytest.fixture
def web_root(tmp_path: Path) -> Path:
    root = tmp_path / "web"
    (root / "sdk").mkdir(parents=True)
    (root / "sdk" / "index.js").write_text("export const sdk = 1;\n")
    return root


async def page_server(nursery: trio.Nursery, web_root: Path) -> GameServer:
    """The arena by default, and a mode that plays the served game."""
    coins = Mode.of("coins", game=f"{SERVED}.rules:PagedCoins", settings={})
    server = GameServer(make_config(web_root=str(web_root), modes=(coins,)))
    await nursery.start(server.run)
    return server


@pytest.fixture
async def web_server(
    nursery: trio.Nursery, web_root: Path, game_packages: Path
) -> AsyncIterator[GameServer]:
    yield await page_server(nursery, web_root)


async def test_a_served_games_package_page_is_served_with_the_pages_headers(
    web_server: GameServer,
) -> None:
    page = await get(web_server.port, f"/games/{SERVED}/")
    assert page.status == 200, page
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '"/sdk/index.js"' in (await get(web_server.port, f"/games/{SERVED}/main.js")).text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    script = await get(web_server.port, f"/games/{SERVED}/app.js")
    assert script.status == 200 and "PACKAGE-PAGE" in script.text
    assert script.headers["content-type"].startswith("text/javascript")
    head = await get(web_server.port, f"/games/{SERVED}/", method="HEAD")
    assert head.status == 200  # what the start page asks before sending players here
    sdk = await get(web_server.port, "/sdk/index.js")  # the page's SDK: web_root's
    assert sdk.status == 200


async def test_a_replay_of_a_package_game_serves_that_games_page(
    nursery: trio.Nursery, web_root: Path, game_packages: Path, tmp_path: Path
) -> None:
    """``gameserver replay FILE --serve`` of a match of a game no mode plays: its page is
    where the banner sends spectators, and it answers."""
    recording = tmp_path / "match.rec"
    rules = load_rules(f"{SERVED}.rules:PagedCoins")
    start = header(rules=rules.id, rules_version=rules.version, seed=3, tick_rate=10,
                   settings=rules.settings_type(), room="r", mode="m",
                   game=f"{SERVED}.rules:PagedCoins")  # fmt: skip
    ticks = [tick_record(tick, [], None, None) for tick in range(1, 4)]
    recording.write_bytes(start + b"".join(ticks))
    server = GameServer(make_config(web_root=str(web_root)), replay=recording)
    await nursery.start(server.run)
    script = await get(server.port, f"/games/{SERVED}/app.js")
    assert script.status == 200 and "PACKAGE-PAGE" in script.text
    assert (await get(server.port, f"/games/{UNSERVED}/")).status == 404


@pytest.mark.parametrize(
    "path",
    [
        f"/games/{SERVED}/nope.js",
        f"/games/{SERVED}/.hidden.js",
        f"/games/{SERVED}/link.js",
        f"/games/{SERVED}/../{SERVED}/beside.txt",
        f"/games/{SERVED}/%2e%2e/beside.txt",
        f"/games/{SERVED}/%2e%2e%2fbeside.txt",
        f"/games/{SERVED}/%2e%2e/%2e%2e/outside.js",
        f"/games/{SERVED}/rules.py",
        f"/games/{SERVED}",
        f"/games/{UNSERVED}/",
        f"/games/{UNSERVED}/index.html",
        "/games/nosuch/",
        "/games/os/",
        "/games/gameserver.games.bench:Bench/",
        f"/games/{UNSERVED}.rules:UnservedCoins/",
        "/games/arena/",  # a served game without a page (in neither place)
        "/games/%2e%2e/sdk/index.js",
    ],
)
async def test_nothing_but_a_served_games_page_folder_is_served(
    web_server: GameServer, path: str
) -> None:
    result = await get(web_server.port, path)
    assert result.status == 404, result
    for secret in (b"OUTSIDE-CONTENT", b"HIDDEN-CONTENT", b"BESIDE-CONTENT"):
        assert secret not in result.body
    assert not [name for name in sys.modules if name.startswith(UNSERVED)]  # never imported


async def test_web_roots_own_folder_for_the_game_wins(
    nursery: trio.Nursery, web_root: Path, game_packages: Path
) -> None:
    (web_root / "games" / SERVED).mkdir(parents=True)
    (web_root / "games" / SERVED / "index.html").write_text("<title>OPERATOR-PAGE</title>")
    server = await page_server(nursery, web_root)
    page = await get(server.port, f"/games/{SERVED}/")
    assert page.status == 200 and "OPERATOR-PAGE" in page.text
    # The whole folder comes from web_root: the package's files are not mixed in.
    assert (await get(server.port, f"/games/{SERVED}/app.js")).status == 404
