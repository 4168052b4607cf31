"""A player's bounded queue of input frames.

Frames carry strictly increasing sequence numbers. A frame whose seq is not
newer than the newest one accepted is a duplicate or arrived out of order and
is dropped. The queue holds at most ``size`` frames; a client that sends
faster than the tick rate overflows it, and the oldest frame goes. The ticker
takes at most one frame per tick, which is what stops a flooding client from
moving faster than everyone else.
"""

from __future__ import annotations

import collections
import enum
from typing import Any

from gameserver.protocol import InputFrame


class PushResult(enum.Enum):
    ACCEPTED = 0
    STALE = 1  # dropped: duplicate or out-of-order seq
    DISPLACED_OLDEST = 2  # accepted, the oldest queued frame was dropped


class InputQueue:
    __slots__ = ("_frames", "last_seq", "size")

    def __init__(self, size: int) -> None:
        # Each frame with its game fields decoded by the game's input schema.
        self._frames: collections.deque[tuple[InputFrame, Any]] = collections.deque()
        self.size = size
        self.last_seq = 0  # newest seq accepted

    def __len__(self) -> int:
        return len(self._frames)

    def push(self, frame: InputFrame, value: Any = None) -> PushResult:
        if frame.seq <= self.last_seq:
            return PushResult.STALE
        self.last_seq = frame.seq
        self._frames.append((frame, value))
        if len(self._frames) > self.size:
            self._frames.popleft()
            return PushResult.DISPLACED_OLDEST
        return PushResult.ACCEPTED

    def pop(self) -> tuple[InputFrame, Any] | None:
        """The frame for this tick (with its decoded value), or None when none arrived."""
        return self._frames.popleft() if self._frames else None
