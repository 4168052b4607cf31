"""The server knows no game: outside the arena's package nothing in ``gameserver/`` names it.

The rule, checked on the syntax tree of every module (so it means exactly this):

1. Imports. No module under ``gameserver/`` outside ``gameserver/games/arena/`` imports
   ``gameserver.games.arena`` or anything below it (relative imports resolved, and
   ``from gameserver.games import arena`` counted), nor names it in a string (a dotted
   path loaded later), other games included.
2. Words. In the generic layers, every module under ``gameserver/`` but
   ``gameserver/games/`` (server, core, protocol, rules, testing, recording, cli, config,
   auth, tokens), no identifier (a name, attribute, function, class, argument, keyword or
   import) and no string other than a docstring contains one of the arena's words:
   ``WORDS`` below, compared with each part of the identifier or string split at
   underscores, dots, other non-letters and case changes (``max_hp`` and ``HitscanShot``
   both count), plus the whole names ``EntityKind`` and ``POSITION_SCALE``. Other games
   may have words of their own (the bench game has hit points too).
3. Exceptions, each documented in ``ALLOWED`` with its reason: where a generic module must
   name the default game. Each one must still be in use, so the list cannot rot.

Comments and docstrings are prose and not checked: they may use a shooter's aim as an
example of what a game declares.

4. The Python clients. Every module of ``clients/`` is held to rules 1 and 2 as well:
   the client session, the world, interpolation, prediction, the trio client, its
   blocking facade, the spectator, the swarm and the lean swarm follow any game from its
   description, and their bots come from the game's package.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "gameserver"
ARENA = "gameserver.games.arena"
WORDS = frozenset(
    {"arena", "aim", "button", "buttons", "hp", "hitscan", "obstacle", "obstacles",
     "projectile", "projectiles"}
)  # fmt: skip
WHOLE_NAMES = frozenset({"EntityKind", "POSITION_SCALE"})
# (module path, string literal): why a generic module may say it.
ALLOWED = {
    ("gameserver/config.py", "arena"): "Config.game's default and the example modes' game",
    ("gameserver/rules/loading.py", "arena"): "SHIPPED: the bundled games by short name",
    ("gameserver/rules/loading.py", f"{ARENA}:ArenaRules"): "SHIPPED: where the arena lives",
}


def modules(under: Path) -> list[Path]:
    return sorted(under.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def imported(node: ast.Import | ast.ImportFrom, importer: str, package: bool) -> list[str]:
    """The absolute names an import statement loads (``from a import b`` also as ``a.b``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = importer.split(".")
        if not package:
            anchor = anchor[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base]) if base else ".".join(anchor)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def words(text: str) -> list[str]:
    """``text``'s words: split at non-letters and case changes, lowercased."""
    found: list[str] = []
    for run in re.findall(r"[A-Za-z]+", text):
        found += re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+", run)
    return [w.lower() for w in found]


def docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def identifiers(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.keyword) and node.arg:
        return [node.arg]
    if isinstance(node, ast.alias):
        return [node.name, *([node.asname] if node.asname else [])]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [node.module]
    return []


def findings(source: str, path: str, *, check_words: bool) -> Iterator[tuple[str, str]]:
    """(what, where) for every breach of the rule in one module's source."""
    tree = ast.parse(source)
    name = module_name(ROOT / path)
    package = path.endswith("__init__.py")
    prose = docstrings(tree)
    for node in ast.walk(tree):
        where = f"{path}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            for loaded in imported(node, name, package):
                if loaded == ARENA or loaded.startswith(ARENA + "."):
                    yield f"imports {loaded}", where
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in prose or (path, node.value) in ALLOWED:
                continue
            if ARENA in node.value:
                yield f"names {node.value!r}", where
            elif check_words and WORDS.intersection(words(node.value)):
                yield f"says {node.value!r}", where
            continue
        if check_words:
            for ident in identifiers(node):
                if ident in WHOLE_NAMES or WORDS.intersection(words(ident)):
                    yield f"names {ident}", where


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


GENERIC = [p for p in modules(PACKAGE) if not relative(p).startswith("gameserver/games/")]
CLIENTS = ROOT / "clients"
NOT_ARENA = [p for p in modules(PACKAGE) if not relative(p).startswith("gameserver/games/arena/")]


def test_the_generic_layers_name_no_arena_concept() -> None:
    assert {relative(p).split("/")[1] for p in GENERIC} >= {
        "server", "core", "protocol", "rules", "testing", "recording.py", "cli",
        "config.py", "auth.py", "tokens.py",
    }  # fmt: skip
    breaches = [
        f"{where}: {what}"
        for path in GENERIC
        for what, where in findings(path.read_text(), relative(path), check_words=True)
    ]
    assert breaches == []


def test_no_module_outside_the_arena_imports_it() -> None:
    others = [p for p in NOT_ARENA if p not in GENERIC]
    assert {relative(p).split("/")[2] for p in others} >= {"bench", "crazyeights"}
    breaches = [
        f"{where}: {what}"
        for path in others
        for what, where in findings(path.read_text(), relative(path), check_words=False)
    ]
    assert breaches == []


def test_the_python_clients_name_no_arena_concept() -> None:
    checked = modules(CLIENTS)
    assert {relative(p) for p in checked} >= {
        "clients/session.py", "clients/_world.py", "clients/_interpolation.py",
        "clients/_prediction.py", "clients/_client.py", "clients/_sync.py", "clients/spectate.py",
        "clients/swarm.py", "clients/lean.py", "clients/rawws.py", "clients/botdriver.py",
    }  # fmt: skip
    breaches = [
        f"{where}: {what}"
        for path in checked
        for what, where in findings(path.read_text(), relative(path), check_words=True)
    ]
    assert breaches == []


def test_every_exception_is_still_needed() -> None:
    used = set()
    for path in GENERIC:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and (relative(path), node.value) in ALLOWED:
                used.add((relative(path), node.value))
    assert used == set(ALLOWED)


@pytest.mark.parametrize(
    ("source", "path", "caught"),
    [
        ("from gameserver.games.arena import ArenaRules", "gameserver/server/x.py",
         "imports gameserver.games.arena"),
        ("from ..games.arena._schema import SCHEMA", "gameserver/server/x.py",
         "imports gameserver.games.arena._schema"),
        ("from ...games import arena", "gameserver/server/network/x.py",
         "imports gameserver.games.arena"),
        ("from . import arena", "gameserver/games/__init__.py", "imports gameserver.games.arena"),
        ("import gameserver.games.arena.movement as m", "gameserver/core/x.py",
         "imports gameserver.games.arena.movement"),
        ("rules = load('gameserver.games.arena:ArenaRules')", "gameserver/cli/serve.py",
         "names 'gameserver.games.arena:ArenaRules'"),
        ("player.max_hp = 3", "gameserver/core/x.py", "names max_hp"),
        ("def on_hit(shooter, aim_steps): pass", "gameserver/core/x.py", "names aim_steps"),
        ("class HitscanShot: pass", "gameserver/core/x.py", "names HitscanShot"),
        ("kind = EntityKind.PLAYER", "gameserver/server/x.py", "names EntityKind"),
        ("x = wire[1] / POSITION_SCALE", "gameserver/server/x.py", "names POSITION_SCALE"),
        ("f(buttons=1)", "gameserver/server/x.py", "names buttons"),
        ("entity['projectile']", "gameserver/server/x.py", "says 'projectile'"),
        ("log('%d obstacles placed', n)", "gameserver/server/x.py",
         "says '%d obstacles placed'"),
    ],
)  # fmt: skip
def test_the_rule_catches_each_kind_of_breach(source: str, path: str, caught: str) -> None:
    assert caught in [what for what, _ in findings(source, path, check_words=True)]


def test_prose_and_innocent_words_pass() -> None:
    source = (
        '"""A game declares its input: an aim angle, buttons."""\n'
        "# the arena's hp\n"
        "def hash_state(aiming: int, hpx: int, chp: int) -> None:\n"
        '    """Obstacles are entities too."""\n'
        "    primary = 'hip'\n"
    )
    assert list(findings(source, "gameserver/core/x.py", check_words=True)) == []


def test_nothing_imports_the_retired_package() -> None:
    assert not (PACKAGE / "sim").exists()
    users = [
        relative(path)
        for folder in ("gameserver", "clients", "benchmarks", "tests")
        for path in modules(ROOT / folder)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Import | ast.ImportFrom)
        and any(
            name == "gameserver.sim" or name.startswith("gameserver.sim.")
            for name in imported(node, module_name(path), is_package(path))
        )
    ]
    assert users == []
