"""The public names are a promise: changing them is a deliberate act."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import gameserver
import gameserver.protocol
import gameserver.server
from gameserver import clients

CLIENT_NAMES = {
    "ClientClosed",
    "ClientOptions",
    "ClientSession",
    "ClientStats",
    "GameClient",
    "ReceivedEvent",
    "ReconnectFailed",
    "ReconnectPolicy",
    "SyncClient",
    "World",
    "connect",
    "connect_sync",
}
RULES_NAMES = {
    "Angle",
    "BinaryAngle",
    "Bool",
    "CommandSchema",
    "EncodeError",
    "EntitySchema",
    "Enum",
    "EventSchema",
    "Fixed",
    "Flags",
    "GameSchema",
    "InputSchema",
    "Int",
    "MessageCatalog",
    "MessageSchema",
    "PositionLayout",
    "SchemaError",
    "Text",
    "WireType",
    "WireValue",
    "angle",
    "binary_angle",
    "boolean",
    "entity",
    "enum",
    "field",
    "fixed",
    "flags",
    "integer",
    "message",
    "text",
    "wire_fields",
    "wire_type_from_description",
    # the rules API itself
    "Act",
    "Bot",
    "BotView",
    "SPECTATOR",
    "MatchResult",
    "NoSettings",
    "Player",
    "Private",
    "Rules",
    "TickCommand",
    "TickInput",
    "Viewer",
    "WireTuple",
    "rules_class_problems",
    # whole state as data (save/restore overrides use these)
    "StateError",
    "game_modules",
    "load_state",
    "save_state",
}


def test_public_names() -> None:
    assert gameserver.__all__ == ["Config", "GameServerError", "Refusal", "__version__"]
    assert set(gameserver.server.__all__) == {
        "Connection",
        "GameServer",
        "Metrics",
        "Room",
        "TickStats",
        "Ticker",
        "WsConnection",
    }
    assert {
        "encode",
        "decode_client_message",
        "diff",
        "apply",
        "ProtocolError",
        "CloseCode",
    } <= set(gameserver.protocol.__all__)
    assert set(clients.__all__) == CLIENT_NAMES
    for module in (gameserver, gameserver.server, gameserver.protocol, clients):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_the_client_library_is_imported_under_the_package_name_only() -> None:
    """The source folder ``clients/`` is not a second import name for the same files: it
    says where the library is instead."""
    code = "import clients"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 1
    assert "ImportError: the client library is imported as gameserver.clients" in out.stderr
    assert clients.__name__ == "gameserver.clients" and clients.connect.__module__.startswith(
        "gameserver.clients."
    )


def test_clients_and_pure_layers_do_not_import_the_server() -> None:
    code = (
        "import sys, gameserver.clients, gameserver.protocol, gameserver.games.arena; "
        "print(sorted(m for m in sys.modules if m.startswith(('gameserver.server', 'trio'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = eval(out.stdout)
    assert not [m for m in loaded if m.startswith("gameserver.server")]
    code = "import sys, gameserver.protocol, gameserver.games.arena; print('trio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # the pure layers need no trio


def test_rules_schema_public_names_and_purity() -> None:
    import gameserver.rules

    assert set(gameserver.rules.__all__) == RULES_NAMES
    for name in gameserver.rules.__all__:
        assert hasattr(gameserver.rules, name), f"gameserver.rules.{name}"
    code = (
        "import sys, gameserver.rules, gameserver.testing; "
        "print(sorted(m for m in sys.modules if m.startswith(('gameserver.', 'trio'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = eval(out.stdout)
    assert not [m for m in loaded if m.startswith(("gameserver.server", "trio"))]


# -- every package: its face, and nobody outside it reaching for its private modules ----

ROOT = Path(__file__).resolve().parents[2]

# The public names of every package, listed here so that changing one is a deliberate act.
# A package with an empty list is a folder of modules (its docstring says which to use).
PUBLIC_NAMES: dict[str, set[str]] = {
    "gameserver": {"Config", "GameServerError", "Refusal", "__version__"},
    "gameserver.cli": {"build_parser", "main"},
    "gameserver.clients": set(CLIENT_NAMES),
    "gameserver.core": {
        "Connection", "EventHistory", "GameHost", "HostedEvent", "RelayCore", "RoomCore",
        "RoomCounters", "Session",
    },
    "gameserver.games": set(),
    "gameserver.games.arena": {
        "AIM_STEPS", "ANGLE_WIRE_STEPS", "ARENA_BUTTONS", "ArenaRules", "ArenaSettings", "Bot",
        "Buttons", "Controls", "Death", "EntityKind", "EventKind", "Hit", "Obstacle",
        "POSITION_SCALE", "Player", "PlayerFlags", "Projectile", "RULES_VERSION", "Respawn",
        "SCHEMA", "Score", "Shot", "predictor",
    },
    "gameserver.games.bench": {"Bench", "BenchInput", "BenchPlayer", "Bot"},
    "gameserver.games.crazyeights": {
        "Bot", "Card", "CrazyEights", "CrazyEightsSettings", "Draw", "Drew", "DrewCard",
        "EndReason", "Forfeited", "MatchOver", "NoSeat", "NoSeatReason", "Pass", "PassReason",
        "Phase", "Play", "Played", "Ready", "Reason", "Refused", "Reshuffled", "Seat", "Started",
        "Suit", "SuitChosen", "Table", "TurnPassed",
    },
    "gameserver.protocol": {
        "CHAT_MAX_CHARS", "Chat", "ChatChannel", "ClientMessage", "CloseCode", "Command",
        "DEFAULT_MAX_CLIENT_MESSAGE_BYTES", "DeltaError", "Error", "ErrorCode", "FindMatch",
        "GameServerError", "Input", "Join", "Matched", "MessageType", "NAME_MAX_CHARS",
        "NODE_ID_MAX_CHARS", "PROTOCOL_VERSION", "Ping", "Pong", "ProtocolError",
        "ROOM_ID_MAX_CHARS", "Role", "SUBPROTOCOL", "SUBPROTOCOLS", "SUBPROTOCOL_V1", "Say",
        "ServerMessage", "Snapshot", "Welcome", "WireState", "apply", "change_entry",
        "decode_client_message", "decode_server_message", "diff", "encode",
        "encode_snapshot_body", "encode_snapshot_head", "encode_uint", "loads_strict",
        "snapshot_prefix",
    },
    "gameserver.rules": set(RULES_NAMES),
    "gameserver.scaffold": {
        "NAME_MAX_CHARS", "NewGameError", "ProjectNames", "check_name", "write_project",
    },
    "gameserver.server": {
        "Connection", "GameServer", "Metrics", "Room", "TickStats", "Ticker", "WsConnection",
    },
    "gameserver.server.cluster": set(),
    "gameserver.server.cluster.directory": {
        "Booking", "Directory", "DirectoryError", "DirectoryUnavailable", "NoCapacity",
        "NodeInfo", "RoomFull", "RoomInfo", "UnknownRoom", "open_directory",
    },
    "gameserver.server.network": set(),
    "gameserver.server.rooms": set(),
    "gameserver.server.web": set(),
    "gameserver.testing": {
        "ClientClosed", "Headless", "KitClient", "ReceivedEvent", "SentEvent", "connect_game",
        "default_room", "game_spec", "run_seeded", "serve_game", "served_config",
    },
}  # fmt: skip

# Tests of a package's internals may import its private modules: each one listed, with
# the package it tests.
TESTS_OF_INTERNALS = {
    "tests/unit/arena_prediction.py": "gameserver.clients",
    "tests/unit/test_arena_grid.py": "gameserver.games.arena",
    "tests/unit/test_clock.py": "gameserver.clients",
    "tests/unit/test_codec.py": "gameserver.protocol",
    "tests/unit/test_game_arena.py": "gameserver.games.arena",
    "tests/unit/test_game_bench.py": "gameserver.games.bench",
    "tests/unit/test_game_crazyeights.py": "gameserver.games.crazyeights",
    "tests/unit/test_interpolation.py": "gameserver.clients",
    "tests/unit/test_version.py": "gameserver",  # where the version is kept
    "tests/unit/test_web_client.py": "gameserver.clients",
}
# A dotted name that may be a module path (in an import or a "module:attribute" string).
DOTTED = re.compile(r"^gameserver(?:\.\w+)+(?::[\w.]+)?$")


def all_packages() -> list[str]:
    found = ["gameserver"]
    for info in pkgutil.walk_packages(gameserver.__path__, "gameserver."):
        if info.ispkg:
            found.append(info.name)
    return found


def test_every_package_has_a_face_and_it_is_the_listed_one() -> None:
    packages = all_packages()
    assert set(packages) == set(PUBLIC_NAMES), "a package was added or removed: list its face"
    for name in packages:
        package = importlib.import_module(name)
        assert isinstance(getattr(package, "__all__", None), list), f"{name} has no __all__"
        assert set(package.__all__) == PUBLIC_NAMES[name], name
        assert len(package.__all__) == len(set(package.__all__)), f"{name}: a name twice"
        for public in package.__all__:
            assert getattr(package, public, None) is not None, f"{name}.{public}"
        if not package.__all__:
            assert package.__doc__, f"{name}: a folder of modules says which ones to use"


def module_file(dotted: str) -> Path | None:
    """The file or folder of a module of ours named ``dotted`` (None: not ours, or none)."""
    parts = dotted.split(".")
    if parts[0] != "gameserver":
        return None
    base = ROOT / ("clients" if parts[1:2] == ["clients"] else "gameserver")
    rest = parts[2:] if parts[1:2] == ["clients"] else parts[1:]
    path = base.joinpath(*rest) if rest else base
    for candidate in (path.with_suffix(".py"), path):
        if candidate.exists():
            return candidate
    return None


def private_owner(dotted: str) -> str | None:
    """The package whose private module ``dotted`` names (or reaches into), if any."""
    parts = dotted.partition(":")[0].split(".")
    for i in range(1, len(parts)):
        private = parts[i].startswith("_") and not parts[i].startswith("__")
        if private and module_file(".".join(parts[: i + 1])) is not None:
            return ".".join(parts[:i])
    return None


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[0] == "clients":
        parts.insert(0, "gameserver")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def names_used(path: Path) -> list[tuple[int, str]]:
    """Every module path a file imports or names in a ``module:attribute`` string."""
    tree = ast.parse(path.read_text(), str(path))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    used: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            used += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            used.append((node.lineno, source))
            used += [(node.lineno, f"{source}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            used += [(node.lineno, node.value)] if DOTTED.match(node.value) else []
    return [(line, name.replace("clients.", "gameserver.clients.", 1)
             if name.startswith("clients.") else name) for line, name in used]  # fmt: skip


def private_reaches(path: Path) -> list[str]:
    here = module_name(path)
    allowed = TESTS_OF_INTERNALS.get(path.relative_to(ROOT).as_posix())
    found = []
    for line, name in names_used(path):
        owner = private_owner(name)
        if owner is None or here == owner or here.startswith(owner + "."):
            continue
        if owner == allowed:
            continue
        found.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    return found


def python_files() -> list[Path]:
    folders = ("gameserver", "clients", "tests", "benchmarks", "docs")
    return sorted(
        path
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
        if not path.is_relative_to(ROOT / "gameserver" / "clients")
    )


def test_no_module_imports_another_package_s_private_modules() -> None:
    files = python_files()
    assert len(files) > 200
    breaches = [breach for path in files for breach in private_reaches(path)]
    assert breaches == []
    used = {
        key
        for key in TESTS_OF_INTERNALS
        if any(private_owner(name) for _, name in names_used(ROOT / key))
    }
    assert used == set(TESTS_OF_INTERNALS), "an exception no longer needed: drop it"


def test_the_walk_catches_a_reach_into_private_modules(tmp_path: Path) -> None:
    """The check itself, on the forms a breach takes (the test must be able to fail)."""
    cases = {
        "from gameserver.protocol._codec import encode": True,
        "from gameserver.protocol import _codec": True,
        "import gameserver.rules._api as api": True,
        "from gameserver.clients._client import GameClient": True,
        "BOT = 'gameserver.games.bench._bot:Bot'": True,
        "from gameserver.protocol import encode": False,
        "from gameserver.protocol.wsframes import encode_frame": False,
        "from gameserver.core.intake import _private_helper": False,
    }
    folder = ROOT / "tests" / "unit"
    for source, breach in cases.items():
        path = folder / "_public_api_probe.py"
        try:
            path.write_text(source + "\n")
            assert bool(private_reaches(path)) is breach, source
        finally:
            path.unlink()


def test_docs_and_templates_name_no_private_module() -> None:
    """What users read and copy imports from a package's face, never from its internals."""
    texts = [ROOT / "README.md", *(ROOT / "docs").glob("**/*.md")]
    texts += (ROOT / "gameserver").glob("**/*.md")
    texts += (ROOT / "gameserver" / "scaffold" / "templates").rglob("*.tmpl")
    texts += [ROOT / "mkdocs.yml"]
    dotted = re.compile(r"\bgameserver(?:\.\w+)+")
    breaches = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in texts
        if path.name != "changelog.md"
        for name in dotted.findall(path.read_text())
        if private_owner(name)
    ]
    assert breaches == []
