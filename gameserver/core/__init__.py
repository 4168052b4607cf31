"""The room core: pure parts a room is made of (no trio, no sockets, no clock)."""

from __future__ import annotations

from .events import EventHistory
from .host import GameHost, HostedEvent
from .relaying import RelayCore
from .room import RoomCore, RoomCounters
from .seams import Connection
from .session import Session

__all__ = [
    "Connection",
    "EventHistory",
    "GameHost",
    "HostedEvent",
    "RelayCore",
    "RoomCore",
    "RoomCounters",
    "Session",
]
