"""Python clients of the game server: a trio client library (more to come: bots, swarm)."""

from __future__ import annotations

from .client import ClientClosed, GameClient, connect

__all__ = ["ClientClosed", "GameClient", "connect"]
