"""The rules API's two errors: whose fault it is decides what the caller does.

- ``SchemaError``: a value that arrived from outside (a client's input or command, or a
  description a server sent) does not fit the schema. It is a ``ProtocolError`` carrying
  close code 4002, so the connection handler closes that connection and nobody else
  notices. ``field`` names the field (``"Controls.aim"``), empty when the whole value is
  the wrong shape.
- ``EncodeError``: the rules handed over a value outside what they declared. That is a
  bug in the rules, not in any peer: it is never sent, and it is also a ``ValueError``.
"""

from __future__ import annotations

from gameserver.errors import GameServerError
from gameserver.protocol import CloseCode, ProtocolError


class SchemaError(ProtocolError):
    """An untrusted value does not fit the schema; close the sender with 4002."""

    def __init__(self, reason: str, field: str = "") -> None:
        super().__init__(CloseCode.INVALID_MESSAGE, f"{field}: {reason}" if field else reason)
        self.field = field
        self.detail = reason  # the reason without the field's name


class EncodeError(GameServerError, ValueError):
    """The rules' own value does not fit its declared wire type (a bug in the rules)."""

    def __init__(self, reason: str, field: str = "") -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.detail = reason
