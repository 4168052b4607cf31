"""No import cycle in ``gameserver`` or ``clients``, and the server runs clients only as commands.

The graph, read from the syntax tree of every module (so it means exactly this): an edge
from module A to module B for every ``import`` statement in A that loads B, wherever the
statement stands: at module level, inside a function, or under ``if TYPE_CHECKING:`` (a
cycle hidden from the interpreter is still a cycle in the design). ``from P import n``
loads ``P.n`` when that is a module, else ``P`` itself; relative imports are resolved.
Only modules of the two packages count; a module's parent packages, which Python runs
first, are not edges (a package that lists its parts would otherwise be a cycle with each).

``GameServer`` (``gameserver/server/app.py``) is the composition root: it builds every part
and hands each the narrow interface it needs (a ``Protocol`` in the part, or plain
objects and callables), so no part imports it back.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Folder -> the package it is imported as (gameserver/clients is a link to clients/).
PACKAGES = {"gameserver": "gameserver", "clients": "gameserver.clients"}


def module_names(root: Path) -> dict[str, tuple[Path, bool]]:
    """Every module under ``PACKAGES``: name -> (file, whether it is a package)."""
    found = {}
    for folder, package_name in PACKAGES.items():
        for path in sorted((root / folder).rglob("*.py")):  # rglob does not follow the link
            parts = (package_name, *path.relative_to(root / folder).with_suffix("").parts)
            package = parts[-1] == "__init__"
            found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def imports_of(source: str, name: str, package: bool, known: Mapping[str, object]) -> set[str]:
    """The modules of ``known`` that ``source`` (module ``name``) imports, anywhere in it."""
    loaded: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:  # ``import a.b.c`` where c is a name
                target = target.rpartition(".")[0]
            if target and target != name:
                loaded.add(target)
    return loaded


def import_graph(root: Path) -> dict[str, set[str]]:
    known = module_names(root)
    return {
        name: imports_of(path.read_text(), name, package, known)
        for name, (path, package) in known.items()
    }


def tangles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (each imports each, around)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(start: str) -> None:
        # Tarjan's algorithm, iterative: the graph is deep enough to matter to recursion.
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for child in edges:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One cycle through each tangle."""
    return [one_cycle(graph, group) for group in tangles(graph)]


def one_cycle(graph: Mapping[str, set[str]], group: list[str]) -> list[str]:
    """A path from the group's first module back to itself, within the group."""
    members, start = set(group), group[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth first: the shortest way round
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    return [*paths[node], start]
                if child not in paths:
                    paths[child] = [*paths[node], child]
                    following.append(child)
        frontier = following
    raise AssertionError(f"{group} is not strongly connected")


def test_no_import_cycle_in_the_packages() -> None:
    graph = import_graph(ROOT)
    found = [
        f"{' -> '.join(one_cycle(graph, group))} (modules in the tangle: {', '.join(group)})"
        for group in tangles(graph)
    ]
    assert found == [], "import cycles:\n" + "\n".join(found)


def test_the_walk_sees_every_kind_of_import() -> None:
    graph = import_graph(ROOT)
    assert len(graph) > 100
    # module level, function level, and the package of a from-import of a name
    assert "gameserver.server.rooms.manager" in graph["gameserver.server.app"]
    assert (
        "gameserver.server.cluster.directory.memory" in graph["gameserver.server.cluster.directory"]
    )
    assert "gameserver.server" in graph["gameserver.cli.serve"]


def test_cycles_are_found_however_they_hide() -> None:
    known = {f"p.{n}": None for n in ("a", "b", "c", "d")} | {"p": None}
    sources = {
        "p.a": "from p import b\n",
        "p.b": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c import X\n",
        "p.c": "def f():\n    import p.a\n",
        "p.d": "from p.a import thing\n",
        "p": "",
    }
    graph = {name: imports_of(src, name, name == "p", known) for name, src in sources.items()}
    assert graph["p.b"] == {"p.c"}
    assert cycles(graph) == [["p.a", "p.b", "p.c", "p.a"]]
    assert cycles({**graph, "p.c": set()}) == []


def in_clients(name: str) -> bool:
    return name == "gameserver.clients" or name.startswith("gameserver.clients.")


def test_the_server_runs_the_client_library_only_as_commands() -> None:
    """``gameserver.clients`` is imported by the client commands (``gameserver swarm |
    spectate | demo``) alone: the server and every other layer never reach into it."""
    graph = import_graph(ROOT)
    users = sorted(
        name
        for name, loaded in graph.items()
        if not in_clients(name) and any(in_clients(m) for m in loaded)
    )
    assert users == ["gameserver.cli.demo", "gameserver.cli.spectate", "gameserver.cli.swarm"]


def test_the_clients_never_import_the_server() -> None:
    graph = import_graph(ROOT)
    users = sorted(
        name
        for name, loaded in graph.items()
        if in_clients(name)
        and any(m == "gameserver.server" or m.startswith("gameserver.server.") for m in loaded)
    )
    assert users == []
