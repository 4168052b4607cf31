"""The room core: pure parts a room is made of (no trio, no sockets, no clock)."""

from __future__ import annotations

from .events import EventHistory
from .host import GameHost, HostedEvent

__all__ = ["EventHistory", "GameHost", "HostedEvent"]
