"""Protocol v1 messages: one frozen class per message type.

On the wire each message is a CBOR array whose first element is the
``MessageType``; the attribute order below is the array order. Units and
ranges are in ``docs/protocol.md``.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

PROTOCOL_VERSION = 2
SUBPROTOCOL = f"gameserver.v{PROTOCOL_VERSION}"
# Version 1 is version 2 without the game's description in the Welcome (docs/protocol.md).
SUBPROTOCOL_V1 = "gameserver.v1"
SUBPROTOCOLS = (SUBPROTOCOL, SUBPROTOCOL_V1)  # in order of preference

UINT32_MAX = 2**32 - 1
NONCE_MAX = 2**53 - 1  # fits a JavaScript number exactly
NAME_MAX_CHARS = 32
NODE_ID_MAX_CHARS = 128  # a node id a client names (POST /api/match's unreachable)
ROOM_ID_MAX_CHARS = 128  # a room id a client names (FindMatch's unreachable_room)
RESUME_TOKEN_MAX_CHARS = 64
CHAT_MAX_CHARS = 200


class MessageType(enum.IntEnum):
    # client -> server
    JOIN = 1
    INPUT = 2
    PING = 3
    SAY = 4
    FIND_MATCH = 5
    COMMAND = 6
    # server -> client
    WELCOME = 16
    SNAPSHOT = 17
    PONG = 18
    ERROR = 19
    CHAT = 20
    MATCHED = 21


class ChatChannel(enum.IntEnum):
    GLOBAL = 0  # a player on any node of the cluster said it
    ANNOUNCEMENT = 1  # from the operators (POST /api/announce)


class Role(enum.IntEnum):
    PLAYER = 0
    SPECTATOR = 1


@attrs.frozen
class Join:
    role: Role
    name: str
    resume: str = ""  # a Welcome's resume token: reclaim that entity (empty: a new one)


@attrs.frozen
class Input:
    """A player's input for one tick (message type INPUT): the whole control state."""

    seq: int  # strictly increasing per connection, starts at 1
    # The game's input fields in its schema's order (integers or short text), validated by
    # the room against the game's input schema.
    fields: tuple[int | str, ...]
    ack_tick: int  # tick of the newest snapshot the client has applied (0: none)
    # What the player saw when it sent this: the rendered tick x 256 (fraction in the low
    # byte), for lag-compensated games; 0: not given (the Input then has no last item).
    view: int = 0


InputFrame = Input  # the name before 0.1: an Input is a message, not a WebSocket frame


@attrs.frozen
class Command:
    """A typed message from a player to the game's rules: ``[kind, *args]`` of its schema."""

    fields: tuple[int | str, ...]


@attrs.frozen
class Ping:
    nonce: int  # echoed in the Pong; clients usually send their clock in ms


@attrs.frozen
class Say:
    text: str  # 1..CHAT_MAX_CHARS printable characters, to every player on every node


@attrs.frozen
class FindMatch:
    """Instead of Join: matchmaking in ``mode``, then join the room it finds as a player."""

    mode: str  # 1..24 of a-z 0-9 - _
    name: str  # as in Join
    # The room (a Matched answer's) whose node this client cannot reach ("": none); the server
    # checks that node and stops offering it if dead (gameserver/server/cluster/nodecheck.py).
    unreachable_room: str = ""


@attrs.frozen
class Welcome:
    protocol_version: int
    entity_id: int  # 0 for spectators
    tick_rate: int
    snapshot_rate: int
    world_width: int
    world_height: int
    tick: int  # the room's current tick
    game: str  # name of the rules, e.g. "arena"
    params: dict[str, float] = attrs.field(factory=dict)  # rule parameters for prediction
    resume: str = ""  # players: present it in a Join after a drop to reclaim this entity
    # Protocol 2: the game's description (entity types, input, commands, events), from
    # which a client decodes any game (docs/protocol.md); None in protocol 1.
    schema: dict[str, Any] | None = None


@attrs.frozen
class Snapshot:
    tick: int
    baseline_tick: int  # 0: full snapshot, start from an empty world
    server_time_ms: int
    ack_seq: int  # newest input seq the server consumed for this player (0 for spectators)
    changes: tuple[tuple[int, ...], ...]  # (entity_id, field_mask, *present_fields)
    removed: tuple[int, ...]
    events: tuple[tuple[int, ...], ...]  # (tick, kind, *args)


@attrs.frozen
class Pong:
    nonce: int
    server_time_ms: int


@attrs.frozen
class Error:
    code: int
    reason: str


@attrs.frozen
class Chat:
    channel: int  # ChatChannel; clients show unknown channels as chat
    sender: str  # the player's display name, or "server"
    text: str


@attrs.frozen
class Matched:
    room: str  # the room matchmaking found
    url: str  # where to reconnect to it (the Welcome follows here if it is on this node)


ClientMessage = Join | Input | Ping | Say | FindMatch | Command
ServerMessage = Welcome | Snapshot | Pong | Error | Chat | Matched
