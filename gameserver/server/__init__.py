"""The I/O layer: rooms and their tickers, connections, the WebSocket front door."""

from __future__ import annotations

from .app import GameServer
from .metrics import Metrics
from .room import Room
from .ticker import Ticker, TickStats
from .transport import Connection, WsConnection

__all__ = ["Connection", "GameServer", "Metrics", "Room", "TickStats", "Ticker", "WsConnection"]
