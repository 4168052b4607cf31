"""A player's bounded queue of Inputs (one Input message: that player's input for a tick).

Inputs carry strictly increasing sequence numbers. An Input whose seq is not newer
than the newest one accepted is a duplicate or arrived out of order and is dropped. The
queue holds at most ``size`` Inputs; a client that sends faster than the tick rate
overflows it, and the oldest Input goes. The ticker takes at most one Input per tick,
which is what stops a flooding client from moving faster than everyone else.
"""

from __future__ import annotations

import collections
import enum
from typing import Any

from gameserver.protocol import Input


class PushResult(enum.Enum):
    ACCEPTED = 0
    STALE = 1  # dropped: duplicate or out-of-order seq
    DISPLACED_OLDEST = 2  # accepted, the oldest queued Input was dropped


class InputQueue:
    __slots__ = ("_queued", "last_seq", "size")

    def __init__(self, size: int) -> None:
        # Each Input with its game fields decoded by the game's input schema.
        self._queued: collections.deque[tuple[Input, Any]] = collections.deque()
        self.size = size
        self.last_seq = 0  # newest seq accepted

    def __len__(self) -> int:
        return len(self._queued)

    def push(self, message: Input, value: Any = None) -> PushResult:
        if message.seq <= self.last_seq:
            return PushResult.STALE
        self.last_seq = message.seq
        self._queued.append((message, value))
        if len(self._queued) > self.size:
            self._queued.popleft()
            return PushResult.DISPLACED_OLDEST
        return PushResult.ACCEPTED

    def pop(self) -> tuple[Input, Any] | None:
        """The Input for this tick (with its decoded value), or None when none arrived."""
        return self._queued.popleft() if self._queued else None
