"""What the room core needs from the outside: a connection, and counters to count in.

The server's transports (``gameserver/server/network/tasks.py``) and its ``Metrics`` satisfy
these protocols as they are; tests satisfy them with plain objects. The core never
imports the server: it only names what it calls.
"""

from __future__ import annotations

import collections
import logging
from typing import Protocol

from gameserver.protocol import ProtocolError

log = logging.getLogger(__name__)


class Connection(Protocol):
    """One client's connection, as the room sees it. Every method returns immediately."""

    remote: str
    protocol_version: int  # negotiated at the upgrade (1 or 2: docs/protocol.md)
    closing: bool  # close() was called or the peer went away
    close_code: int | None  # the code we sent, or the peer's (1006: lost without one)

    def collect(self) -> list[bytes | str]:
        """Messages received since the last call, oldest first."""
        ...

    def deliver(self, snapshot: bytes) -> bool:
        """Queue a snapshot; False (and nothing queued) while the previous one is unsent."""
        ...

    def send_control(self, message: bytes) -> None:
        """Queue a message that must not be conflated (welcome, pong, error)."""
        ...

    def close(self, code: int, reason: str) -> None:
        """Send a close frame with ``code`` soon, then drop the connection."""
        ...


class ProtocolErrorCounters(Protocol):
    protocol_errors: collections.Counter[int]  # connections closed, by close code


def close_for(
    connection: Connection, error: ProtocolError, counters: ProtocolErrorCounters
) -> None:
    """A protocol violation: count it and close that connection with the error's code."""
    counters.protocol_errors[error.code] += 1
    log.warning("%s protocol error, closing: %s", connection.remote, error)
    connection.close(error.code, error.reason)
