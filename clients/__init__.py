"""Python clients of the game server, for any game: the trio client library, its blocking
facade, and the sans-I/O session under both (more: bots, swarm, spectator)."""

from __future__ import annotations

from .client import (
    ClientClosed,
    ClientOptions,
    GameClient,
    ReconnectFailed,
    ReconnectPolicy,
    connect,
)
from .session import ClientSession, ReceivedEvent
from .stats import ClientStats
from .sync import SyncClient, connect_sync
from .world import World

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
