"""The I/O layer: rooms and their tickers, connections, the WebSocket front door."""

from __future__ import annotations

from gameserver.server.app import GameServer
from gameserver.server.metrics import Metrics
from gameserver.server.network.tasks import Connection, WsConnection
from gameserver.server.rooms.room import Room
from gameserver.server.rooms.ticker import Ticker, TickStats

__all__ = ["Connection", "GameServer", "Metrics", "Room", "TickStats", "Ticker", "WsConnection"]
