"""Python clients of the game server: a trio client library (more to come: bots, swarm)."""

from __future__ import annotations

from .client import ClientClosed, GameClient, ReconnectFailed, ReconnectPolicy, connect
from .stats import ClientStats

__all__ = [
    "ClientClosed",
    "ClientStats",
    "GameClient",
    "ReconnectFailed",
    "ReconnectPolicy",
    "connect",
]
