"""The wheel is the product: built, installed into a fresh virtual environment, it serves.

The wheel is built as ``python -m build`` builds it for a release: an sdist first, then
the wheel from the unpacked sdist, so a file that either leaves out fails here. It is
installed with pip into a new virtual environment that shares only the test
environment's third-party packages (a ``.pth`` file, as ``test_new_game.py`` does, so
nothing is downloaded), and every command runs from a folder outside the source tree:
what the server serves, plays and loads comes from the installed files alone.

Building needs setuptools in the test environment (else ``build`` fetches it from the
package index, as CI can) and the ``build`` package (the ``test`` extra has it).
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import attrs
import pytest
import trio
from trio_websocket import open_websocket_url

import gameserver
from gameserver.protocol import SUBPROTOCOL, Join, Role, Snapshot, Welcome, decode_server_message
from gameserver.protocol import encode as encode_message

from .httpclient import HttpResult, http_client
from .test_new_game import clean_env, make_venv, read_until, run

REPO_ROOT = Path(gameserver.__file__).resolve().parent.parent
DISTRIBUTION = "trio-gameserver"
BUILD_TIMEOUT_S = 120
SERVER_START_TIMEOUT_S = 30
SETUPTOOLS_MAJOR = 77  # pyproject.toml's build requirement (license as PEP 639 writes it)


@attrs.frozen
class Installed:
    """The built distributions and the fresh environment the wheel went into."""

    wheel: Path
    sdist: Path
    python: Path  # the venv's interpreter; its ``gameserver`` command is beside it
    outside: Path  # a folder outside the source tree, where commands run
    env: dict[str, str]

    @property
    def command(self) -> str:
        return str(self.python.parent / "gameserver")


# What a fresh checkout does not have. A stale ``*.egg-info`` in particular would add
# its old file list to the sdist and hide a file the package data no longer names.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".nox", ".venv", "*.egg-info", "build", "dist", "site", "artifacts",
    "__pycache__", ".*_cache", ".hypothesis", "node_modules",
)  # fmt: skip


def build_command(source: Path, outdir: Path) -> list[str]:
    """``python -m build``: an sdist, then the wheel from it."""
    # Without setuptools as pyproject.toml requires it here, build isolates the build and
    # fetches setuptools from the index.
    isolation = ["--no-isolation"] if has_setuptools(SETUPTOOLS_MAJOR) else []
    return [sys.executable, "-m", "build", *isolation, "--outdir", str(outdir), str(source)]


def has_setuptools(major: int) -> bool:
    try:
        return int(importlib.metadata.version("setuptools").split(".")[0]) >= major
    except importlib.metadata.PackageNotFoundError:
        return False


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    pytest.importorskip("build", reason="the test extra's `build` builds the wheel")
    root = tmp_path_factory.mktemp("wheel")
    env = clean_env()

    async def prepare() -> Installed:
        source = root / "source"
        shutil.copytree(REPO_ROOT, source, ignore=NOT_SOURCE)
        await run(build_command(source, root / "dist"), root, env, BUILD_TIMEOUT_S)
        (wheel,) = (root / "dist").glob("*.whl")
        (sdist,) = (root / "dist").glob("*.tar.gz")
        python = await make_venv(root / "venv", env)
        pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
        await run([*pip, "--no-deps", str(wheel)], root, env, BUILD_TIMEOUT_S)
        outside = root / "elsewhere"
        outside.mkdir()
        return Installed(wheel, sdist, python, outside, env)

    return trio.run(prepare)


def test_the_wheel_and_sdist_hold_the_browser_client_scripts_games_and_license(
    installed: Installed,
) -> None:
    version = gameserver.__version__
    assert installed.wheel.name == f"trio_gameserver-{version}-py3-none-any.whl"
    with zipfile.ZipFile(installed.wheel) as wheel:
        files = set(wheel.namelist())
        metadata = wheel.read(f"trio_gameserver-{version}.dist-info/METADATA").decode()
    web = sorted(f"gameserver/{path.relative_to(REPO_ROOT).as_posix()}" for path in web_files())
    lua = sorted(
        path.relative_to(REPO_ROOT).as_posix()
        for path in (REPO_ROOT / "gameserver/server/cluster/directory/scripts").glob("*.lua")
    )
    assert web and set(web) <= files, set(web) - files
    assert len(lua) > 5 and set(lua) <= files, set(lua) - files
    templates = sorted(
        path.relative_to(REPO_ROOT).as_posix()
        for path in (REPO_ROOT / "gameserver/scaffold/templates").rglob("*.tmpl")
    )
    assert len(templates) > 10 and set(templates) <= files, set(templates) - files  # new-game
    for game in ("arena", "crazyeights", "bench"):
        assert f"gameserver/games/{game}/__init__.py" in files
    assert {"gameserver/clients/py.typed", "gameserver/py.typed"} <= files
    assert not any(name.startswith("clients/") for name in files)  # no top-level "clients"
    assert f"trio_gameserver-{version}.dist-info/licenses/LICENSE" in files
    assert f"Name: {DISTRIBUTION}\n" in metadata and f"Version: {version}\n" in metadata
    assert "License-Expression: MIT\n" in metadata
    with tarfile.open(installed.sdist) as sdist:
        names = {name.partition("/")[2] for name in sdist.getnames()}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml"} <= names


def web_files() -> list[Path]:
    """The browser client's files: what the package data must bring along."""
    folder = REPO_ROOT / "clients" / "web"
    return [p for p in folder.rglob("*") if p.suffix in {".html", ".css", ".js"}]


async def test_the_installed_command_runs_from_the_wheel_not_the_source_tree(
    installed: Installed,
) -> None:
    where = await run(
        [
            str(installed.python),
            "-c",
            "import gameserver, gameserver.server.cluster.directory.redis as redis; "
            "from gameserver import clients; "
            "print(gameserver.__file__, clients.__file__, len(redis._SCRIPTS))",
        ],
        installed.outside,
        installed.env,
        30,
    )
    package, client_package, scripts = where.split()
    venv = installed.python.parent.parent
    assert Path(package).is_relative_to(venv) and Path(client_package).is_relative_to(venv)
    assert int(scripts) > 5  # the directory's Lua scripts load from the installed package
    version = await run([installed.command, "--version"], installed.outside, installed.env, 30)
    assert version == f"gameserver {gameserver.__version__}\n"


@asynccontextmanager
async def installed_server(installed: Installed, *options: str) -> AsyncIterator[int]:
    """``gameserver serve`` from the venv, run outside the source tree; its port."""
    serve = [installed.command, "serve", "--host", "127.0.0.1", "--port", "0", *options]
    process = await trio.lowlevel.open_process(
        serve, cwd=installed.outside, env=installed.env, stderr=subprocess.PIPE
    )
    lines: list[str] = []
    try:
        assert process.stderr is not None
        with trio.fail_after(SERVER_START_TIMEOUT_S):
            port = await read_until(process.stderr, r"listening on ws://127\.0\.0\.1:(\d+)/", lines)
        async with trio.open_nursery() as nursery:  # keep the log flowing
            nursery.start_soon(read_until, process.stderr, r"(?!)", lines)
            yield int(port)
            nursery.cancel_scope.cancel()
        process.send_signal(2)  # SIGINT: a graceful stop, exit status 0
        with trio.fail_after(10):
            assert await process.wait() == 0, "".join(lines)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def request(port: int, method: str, path: str, body: object = None) -> HttpResult:
    async with http_client(port) as client:
        if body is None:
            return await client.request(method, path)
        await client.send_request_body(method, path, json.dumps(body).encode())
        return await client.read_result()


async def join_and_watch(url: str, snapshots: int) -> Welcome:
    """Join as a player; the Welcome, once ``snapshots`` snapshots have arrived."""
    async with open_websocket_url(url, subprotocols=[SUBPROTOCOL]) as ws:
        await ws.send_message(encode_message(Join(Role.PLAYER, "probe")))
        with trio.fail_after(10):
            welcome = decode_server_message(await ws.get_message())
            assert isinstance(welcome, Welcome), welcome
            seen = 0
            while seen < snapshots:
                seen += isinstance(decode_server_message(await ws.get_message()), Snapshot)
    return welcome


async def test_the_installed_wheel_serves_the_browser_client_and_a_match_through_redis(
    installed: Installed, redis_url: str
) -> None:
    options = ("--redis", redis_url, "--node-id", "wheel")
    async with installed_server(installed, *options) as port:
        page = await request(port, "GET", "/")
        assert page.status == 200 and page.headers["content-type"].startswith("text/html")
        assert page.body == (REPO_ROOT / "clients/web/index.html").read_bytes()
        script = await request(port, "GET", "/sdk/index.js")
        assert script.status == 200 and "javascript" in script.headers["content-type"]
        assert script.body == (REPO_ROOT / "clients/web/sdk/index.js").read_bytes()
        info = (await request(port, "GET", "/api/info")).json()
        assert info["version"] == gameserver.__version__ and info["node"] == "wheel"

        # Matchmaking books the seat with the directory's Lua scripts on Redis.
        seat = await request(port, "POST", "/api/match", {"mode": "duel", "name": "probe"})
        assert seat.status == 200, seat.text
        welcome = await join_and_watch(seat.json()["url"], snapshots=5)
        assert welcome.game == "arena" and welcome.entity_id > 0


async def test_the_installed_wheel_serves_a_shipped_card_game(installed: Installed) -> None:
    async with installed_server(installed, "--game", "crazyeights") as port:
        welcome = await join_and_watch(f"ws://127.0.0.1:{port}/ws", snapshots=1)
    assert welcome.game == "crazyeights"
    assert welcome.schema is not None and welcome.schema["id"] == "crazyeights"
