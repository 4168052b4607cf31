"""Testing kit for game developers: step rules headless, or play them over real sockets.

``Headless`` runs a game's rules as a room would, with no server: join players, give
inputs and commands, step, and read what each viewer would receive. ``serve_game``
starts a real server with a game on 127.0.0.1, port 0, and ``connect_game`` joins it
with a real WebSocket client that decodes the game from its Welcome alone; inside a
pytest-trio test with the ``autojump_clock`` fixture, rooms then tick in mock time.

The socket half is imported on first use, so ``import gameserver.testing`` stays as pure
as the rules it tests (no trio, no server).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._headless import Headless, SentEvent, run_seeded

if TYPE_CHECKING:
    from ._client import ClientClosed, KitClient, ReceivedEvent, connect_game
    from ._server import default_room, game_spec, serve_game, served_config

_ON_FIRST_USE = {
    "ClientClosed": "._client",
    "KitClient": "._client",
    "ReceivedEvent": "._client",
    "connect_game": "._client",
    "default_room": "._server",
    "game_spec": "._server",
    "serve_game": "._server",
    "served_config": "._server",
}

__all__ = [
    "ClientClosed",
    "Headless",
    "KitClient",
    "ReceivedEvent",
    "SentEvent",
    "connect_game",
    "default_room",
    "game_spec",
    "run_seeded",
    "serve_game",
    "served_config",
]


def __getattr__(name: str) -> Any:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
