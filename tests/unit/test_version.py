"""One version, written once, shown by ``gameserver --version`` (and ``/api/info``)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import gameserver
from gameserver.cli import main

REPO_ROOT = Path(gameserver.__file__).resolve().parent.parent


def test_version_option_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"gameserver {gameserver.__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.dev\d+)?", gameserver.__version__)


def test_the_version_is_written_in_one_place_only() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "gameserver._version.__version__"}
    written = [
        path.relative_to(REPO_ROOT).as_posix()
        for folder in ("gameserver", "clients")
        for path in (REPO_ROOT / folder).rglob("*.py")
        if re.search(r"^__version__\s*=", path.read_text(), re.MULTILINE)
    ]
    assert written == ["gameserver/_version.py"]
