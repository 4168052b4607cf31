"""Python clients of the game server, for any game: the trio client library, its blocking
facade, and the sans-I/O session under both (more: bots, swarm, spectator).

Imported as ``gameserver.clients``; the folder is ``clients/`` in the source tree.
"""

from __future__ import annotations

if __name__ != "gameserver.clients":  # the folder clients/ of a checkout, imported by path
    raise ImportError(
        f"the client library is imported as gameserver.clients, not {__name__} "
        "(it moved there before the first release; see CHANGELOG.md)"
    )

from ._client import (
    ClientClosed,
    ClientOptions,
    GameClient,
    ReconnectFailed,
    ReconnectPolicy,
    connect,
)
from ._stats import ClientStats
from ._sync import SyncClient, connect_sync
from ._world import World
from .session import ClientSession, ReceivedEvent

__all__ = [
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
]
