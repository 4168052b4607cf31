"""Close codes, and the protocol's exceptions (the whole tree: ``gameserver/errors.py``).

A ``ProtocolError`` carries the WebSocket close code to send (like wsproto's
``event_hint``): whoever catches it knows what to do without inspecting text.
"""

from __future__ import annotations

import enum

from gameserver.errors import GameServerError

__all__ = ["CloseCode", "DeltaError", "ErrorCode", "GameServerError", "ProtocolError"]


class CloseCode(enum.IntEnum):
    """Every close code the server sends. ``docs/protocol.md`` lists them too."""

    NORMAL = 1000
    GOING_AWAY = 1001  # server shutting down
    PROTOCOL_ERROR = 1002  # WebSocket framing violation
    UNSUPPORTED_DATA = 1003  # a text frame: the protocol is binary only
    INVALID_PAYLOAD = 1007  # bytes that are not one well-formed CBOR item
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009  # over ``Config.max_message_bytes``
    INTERNAL_ERROR = 1011  # a bug on the server: logged with a traceback
    UNKNOWN_MESSAGE_TYPE = 4001
    INVALID_MESSAGE = 4002  # well-formed CBOR of the wrong shape, type or range
    UNEXPECTED_MESSAGE = 4003  # valid message at the wrong time (input before join, second join)
    SLOW_CONSUMER = 4008  # could not take a snapshot within ``Config.send_timeout_s``
    ROOM_FULL = 4009  # the room has no free player or spectator slot
    IDLE_TIMEOUT = 4010  # nothing received (not even a pong) within ``Config.idle_timeout_s``
    RATE_LIMITED = 4029  # more messages than ``Config.message_rate_per_s`` allows


class ErrorCode(enum.IntEnum):
    """Codes of the non-fatal ``Error`` message: the connection stays open."""

    SPECTATOR_INPUT = 1  # spectators control nothing; the input was dropped
    RESUME_REFUSED = 2  # the join's resume token is unknown or expired: joined afresh
    CHAT_RATE_LIMITED = 3  # a Say beyond chat_rate_per_s / chat_burst was dropped
    MATCH_FAILED = 4  # FindMatch found no seat; the connection may Join or try again
    COMMAND_DROPPED = 5  # a Command beyond max_commands_per_tick was dropped


class ProtocolError(GameServerError):
    """The peer broke the protocol; close its connection with ``code``."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(f"{code.name} ({int(code)}): {reason}")
        self.code = code
        self.reason = reason


class DeltaError(ProtocolError):
    """A snapshot delta does not apply to the receiver's baseline."""

    def __init__(self, reason: str) -> None:
        super().__init__(CloseCode.INVALID_MESSAGE, reason)
