"""The room directory: which nodes are alive, which rooms they hold, and where a player goes.

The interface and its theory of operation are in ``interface.py``; the backends are
``memory.py`` and ``redis.py``; ``open_directory`` picks one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from gameserver.server.cluster.directory.interface import (
    Booking,
    Directory,
    DirectoryError,
    DirectoryUnavailable,
    NoCapacity,
    NodeInfo,
    RoomFull,
    RoomInfo,
    UnknownRoom,
)

__all__ = [
    "Booking",
    "Directory",
    "DirectoryError",
    "DirectoryUnavailable",
    "NoCapacity",
    "NodeInfo",
    "RoomFull",
    "RoomInfo",
    "UnknownRoom",
    "open_directory",
]


@asynccontextmanager
async def open_directory(
    redis_url: str | None = None, *, prefix: str = "gs:"
) -> AsyncIterator[Directory]:
    """The in-memory directory, or the Redis one at ``redis_url`` (keys under ``prefix``)."""
    # Imported here so that the in-memory default never loads the Redis client.
    if redis_url is None:
        from gameserver.server.cluster.directory.memory import MemoryDirectory

        directory = MemoryDirectory()
        try:
            yield directory
        finally:
            await directory.aclose()
    else:
        from gameserver.server.cluster.directory.redis import RedisDirectory

        async with RedisDirectory.connect(redis_url, prefix=prefix) as redis_directory:
            yield redis_directory
