"""The I/O layer (trio): ``GameServer`` (``app.py``) puts its parts together.

The parts, by concern: ``network`` (front door, transports, TLS), ``rooms`` (the room
driver, ticker, interest, recording), ``cluster`` (directory, matchmaking, chat, spectator
relays) and ``web`` (HTTP routes, status, metrics); ``docs/architecture.md`` maps them.
"""

from __future__ import annotations

from gameserver.server.app import GameServer
from gameserver.server.metrics import Metrics
from gameserver.server.network.tasks import Connection, WsConnection
from gameserver.server.rooms.room import Room
from gameserver.server.rooms.ticker import Ticker, TickStats

__all__ = ["Connection", "GameServer", "Metrics", "Room", "TickStats", "Ticker", "WsConnection"]
