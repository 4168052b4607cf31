"""Protocol v1: messages, strict codec and snapshot deltas. Pure: no I/O, no clock."""

from __future__ import annotations

from .codec import (
    DEFAULT_MAX_CLIENT_MESSAGE_BYTES,
    decode_client_message,
    decode_server_message,
    encode,
    encode_snapshot_body,
    encode_snapshot_head,
    encode_uint,
    loads_strict,
    snapshot_prefix,
)
from .delta import WireState, apply, change_entry, diff
from .errors import CloseCode, DeltaError, ErrorCode, GameServerError, ProtocolError
from .messages import (
    PROTOCOL_VERSION,
    SUBPROTOCOL,
    ClientMessage,
    Error,
    InputFrame,
    Join,
    MessageType,
    Ping,
    Pong,
    Role,
    ServerMessage,
    Snapshot,
    Welcome,
)

__all__ = [
    "DEFAULT_MAX_CLIENT_MESSAGE_BYTES",
    "PROTOCOL_VERSION",
    "SUBPROTOCOL",
    "ClientMessage",
    "CloseCode",
    "DeltaError",
    "Error",
    "ErrorCode",
    "GameServerError",
    "InputFrame",
    "Join",
    "MessageType",
    "Ping",
    "Pong",
    "ProtocolError",
    "Role",
    "ServerMessage",
    "Snapshot",
    "Welcome",
    "WireState",
    "apply",
    "change_entry",
    "decode_client_message",
    "decode_server_message",
    "diff",
    "encode",
    "encode_snapshot_body",
    "encode_snapshot_head",
    "encode_uint",
    "loads_strict",
    "snapshot_prefix",
]
