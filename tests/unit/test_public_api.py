"""The public names are a promise: changing them is a deliberate act."""

from __future__ import annotations

import subprocess
import sys

import gameserver
import gameserver.protocol
import gameserver.server
from gameserver import clients


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
    assert set(clients.__all__) == {
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

    assert set(gameserver.rules.__all__) == {
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
    for name in gameserver.rules.__all__:
        assert hasattr(gameserver.rules, name), f"gameserver.rules.{name}"
    code = (
        "import sys, gameserver.rules, gameserver.testing; "
        "print(sorted(m for m in sys.modules if m.startswith(('gameserver.', 'trio'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = eval(out.stdout)
    assert not [m for m in loaded if m.startswith(("gameserver.server", "trio"))]
