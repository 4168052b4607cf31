"""``gameserver new-game``: the project it writes installs with pip, passes its tests and serves.

The end-to-end test is the proof that a game written outside the repository works: the
scaffold's output, installed from a temporary folder with pip into a fresh virtual
environment, passes its own tests there and runs under ``gameserver serve --game NAME``,
found by name through its entry point, over a real socket.

The fresh environment gets this repository (editable, so it is the code under test)
and the generated game through pip; the third-party packages both need are the test
environment's own, made visible to it by a ``.pth`` file rather than downloaded, so
the test runs offline. Where the test environment has no setuptools (then pip builds in
isolation, fetching it), it needs the package index, as CI has.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import trio
from trio_websocket import open_websocket_url

import gameserver
from gameserver.cli import main
from gameserver.protocol import (
    SUBPROTOCOL,
    Input,
    Join,
    Role,
    Snapshot,
    Welcome,
    apply,
    decode_server_message,
    encode,
)
from gameserver.rules import GameSchema
from gameserver.scaffold import NAME_MAX_CHARS

from .httpclient import get

REPO_ROOT = Path(gameserver.__file__).resolve().parent.parent
GAME = "coin_dash"


def project_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


# -- what the command writes, and what it refuses ------------------------------------------


def test_writes_the_project_and_prints_the_next_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "game"
    assert main(["new-game", GAME, "--dir", str(folder)]) == 0
    written = project_files(folder)
    assert written == {
        ".gitignore",
        "README.md",
        "pyproject.toml",
        f"{GAME}/__init__.py",
        f"{GAME}/bot.py",
        f"{GAME}/py.typed",
        f"{GAME}/rules.py",
        f"{GAME}/schema.py",
        f"{GAME}/settings.py",
        f"{GAME}/web/index.html",
        f"{GAME}/web/main.js",
        f"{GAME}/web/style.css",
        "tests/test_bot.py",
        "tests/test_rules.py",
    }
    out = capsys.readouterr().out
    assert all(f"  {path}\n" in out for path in written)  # says what it wrote
    assert f"gameserver serve --game {GAME}" in out and 'pip install -e ".[test]"' in out
    pyproject = (folder / "pyproject.toml").read_text()
    assert f'name = "{GAME}"' in pyproject
    assert f'dependencies = ["trio-gameserver>={gameserver.__version__}"]' in pyproject
    assert '[project.entry-points."gameserver.games"]' in pyproject
    assert f'{GAME} = "{GAME}.rules:CoinDash"' in pyproject
    assert f'{GAME} = ["py.typed", "web/*"]' in pyproject  # the page is installed too
    readme = (folder / "README.md").read_text()
    assert "pytest" in readme and "docs/games.md" in readme
    assert f"gameserver serve --game {GAME}\n" in readme
    assert f"--game {GAME}.rules:CoinDash" in readme  # without installing


def test_an_empty_folder_is_used(tmp_path: Path) -> None:
    assert main(["new-game", GAME, "--dir", str(tmp_path)]) == 0
    assert (tmp_path / GAME / "rules.py").is_file()


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("CoinDash", "lowercase identifier"),
        ("coin-dash", "lowercase identifier"),
        ("2coins", "lowercase identifier"),
        ("_coins", "lowercase identifier"),
        ("", "lowercase identifier"),
        ("a" * (NAME_MAX_CHARS + 1), "lowercase identifier"),
        ("class", "keyword"),
        ("random", "hide a module"),
        ("tests", "hide a module"),
        ("arena", "already known"),  # a game shipped with the server
        ("trio", "already importable"),
    ],
)
def test_a_bad_name_is_refused_with_status_2_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, why: str
) -> None:
    folder = tmp_path / "game"
    assert main(["new-game", name, "--dir", str(folder)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("gameserver new-game: ") and why in error
    assert not folder.exists()


def test_a_folder_that_is_not_empty_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["new-game", GAME, "--dir", str(tmp_path)]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert project_files(tmp_path) == {"notes.txt"}
    (tmp_path / "file").write_text("")
    assert main(["new-game", GAME, "--dir", str(tmp_path / "file")]) == 2
    assert "not a directory" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed")
@pytest.mark.parametrize("name", ["x", GAME, "z" * NAME_MAX_CHARS])
def test_the_generated_python_is_ruff_clean_whatever_the_name(tmp_path: Path, name: str) -> None:
    assert main(["new-game", name, "--dir", str(tmp_path)]) == 0
    for check in (["check"], ["format", "--check"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *check, "--no-cache", "."],
            cwd=tmp_path,  # the project's own settings (pyproject.toml)
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr


# -- installed with pip from a temporary folder: tested, then served -----------------------


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for the fresh venv's processes: nothing of the test's own."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }
    env.update(
        PYTHONNOUSERSITE="1",
        PYTHONUNBUFFERED="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        **extra,
    )
    return env


async def run(command: list[str], cwd: Path, env: dict[str, str], timeout_s: float) -> str:
    """Run ``command`` to its end; its output, or a failure showing it."""
    with trio.fail_after(timeout_s):
        done = await trio.run_process(
            command,
            cwd=cwd,
            env=env,
            capture_stdout=True,
            stderr=subprocess.STDOUT,
            check=False,
        )
    output = done.stdout.decode(errors="replace")
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{output}"
    return output


async def make_venv(folder: Path, env: dict[str, str]) -> Path:
    """A fresh venv that sees the test environment's third-party packages; its python."""
    await run([sys.executable, "-m", "venv", "--without-pip", str(folder)], folder.parent, env, 60)
    python = folder / "bin" / "python"
    purelib = await run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        folder,
        env,
        30,
    )
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    Path(purelib.strip(), "_test_dependencies.pth").write_text("\n".join(ours) + "\n")
    return python


def pip_install(python: Path, *args: str) -> list[str]:
    """pip (the test environment's own) installing into ``python``'s environment."""
    # Without setuptools here, pip builds in isolation and fetches it from the index.
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    return [*pip, "install", "-q", *isolation, *args]


async def read_until(stream: trio.abc.ReceiveStream, pattern: str, lines: list[str]) -> str:
    buffer = b""
    while True:
        chunk = await stream.receive_some()
        if not chunk:
            raise AssertionError("the server exited early:\n" + "".join(lines) + buffer.decode())
        buffer += chunk
        *done, buffer = buffer.split(b"\n")
        for line in done:
            lines.append(line.decode(errors="replace") + "\n")
            if match := re.search(pattern, lines[-1]):
                return match.group(1)


async def play_over_a_socket(url: str) -> Welcome:
    """Join as a player, move, and see the own runner move, decoded as any client would."""
    async with open_websocket_url(url, subprotocols=[SUBPROTOCOL]) as ws:
        assert ws.subprotocol == SUBPROTOCOL
        await ws.send_message(encode(Join(Role.PLAYER, "probe")))
        with trio.fail_after(10):
            welcome = decode_server_message(await ws.get_message())
            assert isinstance(welcome, Welcome), welcome
            assert welcome.schema is not None
            # The description carries the game's id, version and prediction too.
            schema = GameSchema.from_description(
                {part: welcome.schema[part] for part in ("entities", "input", "commands", "events")}
            )
            world: dict[int, tuple[int, ...]] = {}
            start: Any = None
            while True:
                snapshot = decode_server_message(await ws.get_message())
                if not isinstance(snapshot, Snapshot):
                    continue
                base = {} if snapshot.baseline_tick == 0 else world
                world = apply(base, snapshot.changes, snapshot.removed)
                runner = schema.entity_from_wire(world[welcome.entity_id])
                assert type(runner).__name__ == "Runner" and runner.name == "probe"
                if start is None:
                    start = runner
                    toward_middle = 1 if runner.x < welcome.world_width / 2 else -1
                    frame = Input(1, (toward_middle, 0), snapshot.tick)  # Stick(dx, dy)
                    await ws.send_message(encode(frame))
                elif runner.x != start.x:
                    assert (runner.x - start.x) * toward_middle > 0  # the way it was sent
                    assert runner.y == start.y
                    return welcome


async def test_the_generated_game_installs_passes_its_tests_and_serves(tmp_path: Path) -> None:
    """The scaffold's output, pip-installed into a fresh venv: its tests pass, it serves,
    its page too.

    And the match served is recorded and replays exactly, the rules found by their id.
    """
    started = time.monotonic()
    took: dict[str, float] = {}

    def lap(step: str) -> None:
        took[step] = round(time.monotonic() - started - sum(took.values()), 1)

    project = tmp_path / "project"
    framework_env = clean_env(PYTHONPATH=str(REPO_ROOT))  # the code under test
    await run(
        [sys.executable, "-m", "gameserver", "new-game", GAME, "--dir", "project"],
        tmp_path,
        framework_env,
        30,
    )
    lap("new-game")

    env = clean_env()
    python = await make_venv(tmp_path / "venv", env)
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    await run(pip_install(python, "--no-deps", "-e", str(REPO_ROOT)), tmp_path, env, 180)
    await run(pip_install(python, str(project)), tmp_path, env, 180)  # checks its dependency
    lap("venv and pip")

    # -P: the installed game, not the folder's copy; only pytest's own plugins.
    tests_env = {**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    output = await run(
        [str(python), "-P", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        project,
        tests_env,
        60,
    )
    assert re.search(r"\b\d+ passed\b", output) and "failed" not in output, output
    lap("its tests")

    recordings = tmp_path / "recordings"
    serve = ["serve", "--game", GAME, "--host", "127.0.0.1", "--port", "0", "--record"]
    serve.append(str(recordings))
    process = await trio.lowlevel.open_process(
        [str(python.parent / "gameserver"), *serve],
        cwd=tmp_path,  # not the project: the game must come from the environment
        env=env,
        stderr=subprocess.PIPE,
    )
    lines: list[str] = []
    try:
        assert process.stderr is not None
        with trio.fail_after(30):
            url = await read_until(process.stderr, r"listening on (ws://\S+)", lines)
        async with trio.open_nursery() as nursery:  # keep the log flowing
            nursery.start_soon(read_until, process.stderr, r"(?!)", lines)
            welcome = await play_over_a_socket(url)
            page = await get(urlsplit(url).port or 0, f"/games/{GAME}/")  # installed with it
            assert page.status == 200 and 'src="main.js"' in page.text, page
            nursery.cancel_scope.cancel()
        assert welcome.game == GAME
        assert welcome.schema is not None and welcome.schema["id"] == GAME
        assert [e["name"] for e in welcome.schema["entities"]] == ["Runner", "Coin"]
        process.send_signal(signal.SIGINT)
        with trio.fail_after(10):
            assert await process.wait() == 0, "".join(lines)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    lap("serve and play")

    (recording,) = recordings.glob("*.rec")  # the match just played, found again by its id
    replayed = await run(
        [str(python.parent / "gameserver"), "replay", str(recording)], tmp_path, env, 60
    )
    assert replayed.startswith("OK: replayed"), replayed
    lap("replay --verify")
    print(f"new-game end to end: {took}, {sum(took.values()):.1f} s in all")
