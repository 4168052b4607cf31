"""Small modules, one idea each: every server module is under 400 lines, or names its idea.

A module past the limit is listed in ``LARGE`` with the first line of its docstring, the
one idea it holds; the list must match the code both ways, so a module that grows past
the limit, or shrinks back under it, or changes its idea, is noticed here.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "gameserver" / "server"
LIMIT_LINES = 400
# module: the first line of its docstring (its one idea).
LARGE = {
    "app.py": "The game server process: the composition root, and each connection from "
    "handshake to close.",
    "cluster/directory/memory.py": "The in-memory directory: one process, plain dicts, the "
    "default without Redis.",
    "cluster/directory/redis.py": "The Redis directory: many nodes share one Redis through "
    "the ``coredis`` client.",
    "cluster/matchmaking.py": "Matchmaking: a seat for a player, in a room on whichever node "
    "has one.",
    "network/fast.py": "Tick-synchronous connections: the room's ticker moves the bytes itself.",
    "rooms/interest.py": "Interest management: each player receives what is near it, encoded "
    "once per cell.",
}


def first_docstring_line(path: Path) -> str:
    docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
    return docstring.splitlines()[0] if docstring else ""


def test_every_server_module_is_small_or_names_its_one_idea() -> None:
    large = {
        path.relative_to(SERVER).as_posix(): first_docstring_line(path)
        for path in sorted(SERVER.rglob("*.py"))
        if len(path.read_text().splitlines()) >= LIMIT_LINES
    }
    assert large == LARGE


def test_every_server_module_says_what_it_holds() -> None:
    silent = [
        path.relative_to(SERVER).as_posix()
        for path in sorted(SERVER.rglob("*.py"))
        if not first_docstring_line(path)
    ]
    assert silent == []
