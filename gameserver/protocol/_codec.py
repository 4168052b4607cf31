"""Encoding and strict decoding of protocol v1 messages.

Theory of operation: untrusted bytes pass four gates, cheapest first, and the
first failure raises ``ProtocolError`` with the close code to send:

1. size (``max_bytes``) before any parsing -> 1009;
2. cbor2 with a tiny ``max_depth``, no indefinite lengths, every tag refused
   -> 1007;
3. the decoded item re-encodes to exactly the input bytes: this refuses
   trailing bytes and non-shortest encodings, so one message has one spelling
   -> 1007;
4. shape, types (``bool`` is not an int) and ranges -> 4001 / 4002.

An Input's and a Command's game fields are checked here only for shape (flat integers
or text); their meaning and ranges come from the game's schema, which the room applies
next (``gameserver.rules``: 4002 naming the field). Nothing but ``ProtocolError`` leaves
``decode_client_message``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import cbor2

from ._errors import CloseCode, ProtocolError
from ._messages import (
    CHAT_MAX_CHARS,
    NAME_MAX_CHARS,
    NONCE_MAX,
    RESUME_TOKEN_MAX_CHARS,
    ROOM_ID_MAX_CHARS,
    UINT32_MAX,
    Chat,
    ClientMessage,
    Command,
    Error,
    FindMatch,
    Input,
    Join,
    Matched,
    MessageType,
    Ping,
    Pong,
    Role,
    Say,
    ServerMessage,
    Snapshot,
    Welcome,
)

DEFAULT_MAX_CLIENT_MESSAGE_BYTES = 256
_CLIENT_MAX_DEPTH = 1  # client messages are flat arrays
_SERVER_MAX_DEPTH = 8  # a Welcome's game description nests deepest


class _TagRefused(Exception):
    pass


def _refuse_tag(*_args: object) -> Any:
    raise _TagRefused("CBOR tags are not allowed")


class _EveryTag(dict[int, Callable[..., Any]]):
    """A semantic-decoder table that claims every tag, so none is decoded."""

    def __getitem__(self, key: int) -> Callable[..., Any]:
        return _refuse_tag

    def __contains__(self, key: object) -> bool:
        return True

    def get(self, key: int, default: Any = None) -> Callable[..., Any]:
        return _refuse_tag


_EVERY_TAG = _EveryTag()


def loads_strict(data: bytes, max_depth: int) -> Any:
    """One strictly decoded CBOR item (gates 2 and 3 above); else ``ProtocolError`` 1007."""
    try:
        item = cbor2.loads(
            data,
            max_depth=max_depth,
            allow_indefinite=False,
            tag_hook=_refuse_tag,
            semantic_decoders=_EVERY_TAG,
        )
    except Exception as exc:  # cbor2 raises several types; all mean "not CBOR we accept"
        raise ProtocolError(CloseCode.INVALID_PAYLOAD, f"malformed CBOR: {exc}") from None
    try:
        canonical = cbor2.dumps(item)
    except Exception:
        raise ProtocolError(CloseCode.INVALID_PAYLOAD, "CBOR item cannot be re-encoded") from None
    if canonical != data:
        raise ProtocolError(
            CloseCode.INVALID_PAYLOAD,
            "trailing bytes or non-shortest CBOR encoding (one item, preferred serialization)",
        )
    return item


def _int(value: object, low: int, high: int, what: str) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ProtocolError(
            CloseCode.INVALID_MESSAGE, f"{what} must be an integer in [{low}, {high}]"
        )
    return value


def _check_arity(item: list[Any], n: int, name: str) -> None:
    if len(item) != n:
        raise ProtocolError(
            CloseCode.INVALID_MESSAGE, f"{name} must be an array of {n} items, got {len(item)}"
        )


def _decode_join(item: list[Any]) -> Join:
    if len(item) not in (3, 4):
        raise ProtocolError(
            CloseCode.INVALID_MESSAGE, f"join must be an array of 3 or 4 items, got {len(item)}"
        )
    role = _int(item[1], 0, max(Role), "join role")
    name = item[2]
    if type(name) is not str or not 1 <= len(name) <= NAME_MAX_CHARS or not name.isprintable():
        raise ProtocolError(
            CloseCode.INVALID_MESSAGE,
            f"join name must be 1..{NAME_MAX_CHARS} printable characters",
        )
    resume = item[3] if len(item) == 4 else ""
    if len(item) == 4 and (
        type(resume) is not str or not 1 <= len(resume) <= RESUME_TOKEN_MAX_CHARS
    ):
        raise ProtocolError(
            CloseCode.INVALID_MESSAGE,
            f"join resume token must be 1..{RESUME_TOKEN_MAX_CHARS} characters",
        )
    return Join(Role(role), name, resume)


def _game_fields(values: list[Any], what: str) -> tuple[int | str, ...]:
    for value in values:
        if type(value) is not int and type(value) is not str:
            raise ProtocolError(CloseCode.INVALID_MESSAGE, f"{what} must be integers or text")
    return tuple(values)


def _decode_input(item: list[Any], input_fields: int) -> Input:
    n = 3 + input_fields
    if len(item) not in (n, n + 1):
        raise ProtocolError(
            CloseCode.INVALID_MESSAGE,
            f"input must be an array of {n} or {n + 1} items, got {len(item)}",
        )
    return Input(
        seq=_int(item[1], 1, UINT32_MAX, "input seq"),
        fields=_game_fields(item[2 : 2 + input_fields], "input fields"),
        ack_tick=_int(item[2 + input_fields], 0, UINT32_MAX, "input ack_tick"),
        view=_int(item[n], 1, VIEW_MAX, "input view") if len(item) == n + 1 else 0,
    )


def _decode_command(item: list[Any]) -> Command:
    if len(item) < 2:
        raise ProtocolError(CloseCode.INVALID_MESSAGE, "command must be [6, kind, *args]")
    _int(item[1], 0, UINT32_MAX, "command kind")
    return Command(_game_fields(item[1:], "command fields"))


def _decode_ping(item: list[Any]) -> Ping:
    _check_arity(item, 2, "ping")
    return Ping(_int(item[1], 0, NONCE_MAX, "ping nonce"))


def _chat_text(value: object, what: str) -> str:
    if type(value) is not str or not 1 <= len(value) <= CHAT_MAX_CHARS or not value.isprintable():
        raise ProtocolError(
            CloseCode.INVALID_MESSAGE, f"{what} must be 1..{CHAT_MAX_CHARS} printable characters"
        )
    return value


def _decode_say(item: list[Any]) -> Say:
    _check_arity(item, 2, "say")
    return Say(_chat_text(item[1], "say text"))


_MODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


def _decode_find_match(item: list[Any]) -> FindMatch:
    if len(item) not in (3, 4):
        raise ProtocolError(
            CloseCode.INVALID_MESSAGE,
            f"find-match must be an array of 3 or 4 items, got {len(item)}",
        )
    mode, name = item[1], item[2]
    if type(mode) is not str or not 1 <= len(mode) <= 24 or not set(mode) <= _MODE_CHARS:
        raise ProtocolError(
            CloseCode.INVALID_MESSAGE, "find-match mode must be 1..24 of a-z 0-9 - _"
        )
    if type(name) is not str or not 1 <= len(name) <= NAME_MAX_CHARS or not name.isprintable():
        raise ProtocolError(
            CloseCode.INVALID_MESSAGE,
            f"find-match name must be 1..{NAME_MAX_CHARS} printable characters",
        )
    room = item[3] if len(item) == 4 else ""
    if type(room) is not str or (
        room and (len(room) > ROOM_ID_MAX_CHARS or not room.isprintable())
    ):
        raise ProtocolError(
            CloseCode.INVALID_MESSAGE,
            f"find-match unreachable room must be 1..{ROOM_ID_MAX_CHARS} printable characters",
        )
    return FindMatch(mode, name, room)


_CLIENT_DECODERS: dict[int, Callable[[list[Any]], ClientMessage]] = {
    MessageType.JOIN: _decode_join,
    MessageType.COMMAND: _decode_command,
    MessageType.PING: _decode_ping,
    MessageType.SAY: _decode_say,
    MessageType.FIND_MATCH: _decode_find_match,
}


VIEW_MAX = UINT32_MAX * 256 + 255  # a tick and a fraction of 1/256
# The fast path reads a one-byte array head (0x80 + n, n <= 23): seq, fields and ack_tick.
_FAST_INPUT_FIELDS_MAX = 23 - 3


def _decode_input_fast(data: bytes, input_fields: int) -> Input | None:
    """The common message, read byte by byte: an input of shortest-form integers.

    ``seq`` and ``ack_tick`` are unsigned; the game's fields may be negative too (a stick
    of -1, 0, 1). Returns None for anything else (including every malformed variant),
    which then takes the general path and its precise error. Accepts exactly what that
    path accepts.
    """
    values = []
    pos = 2
    end = len(data)
    last = input_fields + 1  # the index of ack_tick
    for i in range(input_fields + 2):
        if pos >= end:
            return None
        head = data[pos]
        if head >= 0x20:  # not an unsigned integer: a negative one is a game field's
            if head >= 0x40 or i == 0 or i == last:
                return None
            head -= 0x20
            negative = True
        else:
            negative = False
        if head < 24:
            value, pos = head, pos + 1
        elif head == 24 and pos + 2 <= end:
            value, pos = data[pos + 1], pos + 2
            if value < 24:
                return None
        elif head == 25 and pos + 3 <= end:
            value, pos = (data[pos + 1] << 8) | data[pos + 2], pos + 3
            if value < 256:
                return None
        elif head == 26 and pos + 5 <= end:
            value, pos = int.from_bytes(data[pos + 1 : pos + 5], "big"), pos + 5
            if value < 65536:
                return None
        else:
            return None
        values.append(-1 - value if negative else value)
    if pos != end or not values[0]:
        return None
    return Input(values[0], tuple(values[1:-1]), values[-1])


def decode_client_message(
    data: bytes | str, max_bytes: int = DEFAULT_MAX_CLIENT_MESSAGE_BYTES, *, input_fields: int = 2
) -> ClientMessage:
    """Decode one untrusted client message; raise only ``ProtocolError``.

    ``input_fields``: how many fields the game's input has (its schema says), which
    decides where an Input's fields end and its ``ack_tick`` begins.
    """
    if (
        type(data) is bytes
        and 2 <= len(data) <= max_bytes
        and input_fields <= _FAST_INPUT_FIELDS_MAX
        and data[0] == 0x83 + input_fields
        and data[1] == MessageType.INPUT
    ):
        message = _decode_input_fast(data, input_fields)
        if message is not None:
            return message
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ProtocolError(CloseCode.UNSUPPORTED_DATA, "text frames are not accepted; send binary")
    if len(data) > max_bytes:
        raise ProtocolError(
            CloseCode.MESSAGE_TOO_BIG, f"message of {len(data)} bytes exceeds {max_bytes}"
        )
    item = loads_strict(bytes(data), _CLIENT_MAX_DEPTH)
    # cbor2 counts depth only for containers it descends into: an empty one slips through.
    if type(item) is list and any(type(value) in (list, dict) for value in item):
        raise ProtocolError(
            CloseCode.INVALID_PAYLOAD, "nesting depth 1: no arrays or maps inside the message"
        )
    if type(item) is not list or not item or type(item[0]) is not int:
        raise ProtocolError(
            CloseCode.INVALID_MESSAGE, "a message is a non-empty array starting with its type"
        )
    if item[0] == MessageType.INPUT:
        return _decode_input(item, input_fields)
    decoder = _CLIENT_DECODERS.get(item[0])
    if decoder is None:
        raise ProtocolError(CloseCode.UNKNOWN_MESSAGE_TYPE, f"unknown message type {item[0]}")
    return decoder(item)


def encode(message: ClientMessage | ServerMessage) -> bytes:
    """Encode any protocol message (clients and server use the same function)."""
    match message:
        case Join(role, name, resume):
            fields = [MessageType.JOIN.value, role.value, name]
            return cbor2.dumps([*fields, resume] if resume else fields)
        case Input(seq, game_fields, ack_tick, view):
            fields = [MessageType.INPUT.value, seq, *game_fields, ack_tick]
            return cbor2.dumps([*fields, view] if view else fields)
        case Command(game_fields):
            return cbor2.dumps([MessageType.COMMAND.value, *game_fields])
        case Ping(nonce):
            return cbor2.dumps([MessageType.PING.value, nonce])
        case Say(text):
            return cbor2.dumps([MessageType.SAY.value, text])
        case Chat(channel, sender, text):
            return cbor2.dumps([MessageType.CHAT.value, channel, sender, text])
        case FindMatch(mode, name, unreachable_room):
            items = [MessageType.FIND_MATCH.value, mode, name]
            return cbor2.dumps([*items, unreachable_room] if unreachable_room else items)
        case Matched(room, url):
            return cbor2.dumps([MessageType.MATCHED.value, room, url])
        case Welcome():
            fields = [MessageType.WELCOME.value, *attrs.astuple(message, recurse=False)]
            return cbor2.dumps(fields if message.schema is not None else fields[:-1])
        case Snapshot():
            return encode_snapshot_head(
                message.tick,
                message.baseline_tick,
                time_ms=message.server_time_ms,
                ack_seq=message.ack_seq,
            ) + encode_snapshot_body(message.changes, message.removed, message.events)
        case Pong(nonce, server_time_ms):
            return cbor2.dumps([MessageType.PONG.value, nonce, server_time_ms])
        case Error(code, reason):
            return cbor2.dumps([MessageType.ERROR.value, code, reason])
    raise TypeError(f"not a protocol message: {message!r}")


# A snapshot is an 8-item array. It is sent as head + body so that the body,
# identical for every connection with the same baseline, is encoded once.
_SNAPSHOT_ARRAY_HEADER = b"\x88"


def encode_snapshot_head(tick: int, baseline_tick: int, *, time_ms: int, ack_seq: int) -> bytes:
    head = cbor2.dumps([MessageType.SNAPSHOT.value, tick, baseline_tick, time_ms, ack_seq])
    return _SNAPSHOT_ARRAY_HEADER + head[1:]


def snapshot_prefix(tick: int, baseline_tick: int, time_ms: int) -> bytes:
    """The first four snapshot items; ``prefix + encode_uint(ack_seq) + body`` is a snapshot."""
    head = cbor2.dumps([MessageType.SNAPSHOT.value, tick, baseline_tick, time_ms])
    return _SNAPSHOT_ARRAY_HEADER + head[1:]


encode_uint = cbor2.dumps  # one unsigned integer, shortest form


def encode_snapshot_body(changes: Any, removed: Any, events: Any) -> bytes:
    """The last three snapshot items, without an array header of their own."""
    return cbor2.dumps((changes, removed, events))[1:]


# ---------------------------------------------------------------- client side


def _int_list(value: object, what: str) -> tuple[int, ...]:
    if type(value) is not list or any(type(v) is not int for v in value):
        raise ProtocolError(CloseCode.INVALID_MESSAGE, f"{what} must be an array of integers")
    return tuple(value)


def _value_list(value: object, what: str) -> tuple[Any, ...]:
    if type(value) is not list:
        raise ProtocolError(CloseCode.INVALID_MESSAGE, f"{what} must be arrays")
    for v in value:
        if type(v) is list or type(v) is dict:  # as deep as a snapshot goes: gate 2
            raise ProtocolError(CloseCode.INVALID_PAYLOAD, f"{what}: nested too deep")
        if type(v) is not int and type(v) is not str:
            raise ProtocolError(CloseCode.INVALID_MESSAGE, f"{what} must be integers or text")
    return tuple(value)


def _nested_value_lists(value: object, what: str) -> tuple[tuple[Any, ...], ...]:
    if type(value) is not list:
        raise ProtocolError(CloseCode.INVALID_MESSAGE, f"{what} must be an array")
    return tuple(_value_list(v, what) for v in value)


def decode_server_message(data: bytes | str) -> ServerMessage:
    """Decode one server message (used by clients); raise only ``ProtocolError``."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ProtocolError(CloseCode.UNSUPPORTED_DATA, "server sent a text frame")
    try:
        item = cbor2.loads(
            bytes(data),
            max_depth=_SERVER_MAX_DEPTH,
            allow_indefinite=False,
            tag_hook=_refuse_tag,
            semantic_decoders=_EVERY_TAG,
        )
    except Exception as exc:
        raise ProtocolError(CloseCode.INVALID_PAYLOAD, f"malformed CBOR: {exc}") from None
    if type(item) is not list or not item or type(item[0]) is not int:
        raise ProtocolError(CloseCode.INVALID_MESSAGE, "not a protocol message")
    kind, fields = item[0], item[1:]
    if kind == MessageType.SNAPSHOT and len(fields) == 7:
        tick, baseline_tick, server_time_ms, ack_seq = (
            _int(v, 0, 2**64 - 1, "snapshot header") for v in fields[:4]
        )
        return Snapshot(
            tick,
            baseline_tick,
            server_time_ms,
            ack_seq,
            changes=_nested_value_lists(fields[4], "snapshot changes"),
            removed=_int_list(fields[5], "snapshot removed"),
            events=_nested_value_lists(fields[6], "snapshot events"),
        )
    if kind == MessageType.WELCOME and len(fields) in (10, 11):
        game, params, resume = fields[7], fields[8], fields[9]
        schema = fields[10] if len(fields) == 11 else None
        if (
            type(game) is not str
            or type(resume) is not str
            or (schema is not None and type(schema) is not dict)
            or type(params) is not dict
            or not all(type(k) is str and type(v) in (int, float) for k, v in params.items())
        ):
            raise ProtocolError(CloseCode.INVALID_MESSAGE, "welcome game/params malformed")
        version, entity_id, tick_rate, snapshot_rate, width, height, tick = (
            _int(v, 0, 2**64 - 1, "welcome field") for v in fields[:7]
        )
        return Welcome(
            version,
            entity_id,
            tick_rate,
            snapshot_rate,
            width,
            height,
            tick,
            game,
            params,
            resume,
            schema,
        )
    if kind == MessageType.PONG and len(fields) == 2:
        return Pong(*(_int(v, 0, 2**64 - 1, "pong field") for v in fields))
    if kind == MessageType.ERROR and len(fields) == 2 and type(fields[1]) is str:
        return Error(_int(fields[0], 0, 2**32 - 1, "error code"), fields[1])
    if kind == MessageType.MATCHED and len(fields) == 2 and all(type(f) is str for f in fields):
        return Matched(fields[0], fields[1])
    if kind == MessageType.CHAT and len(fields) == 3 and type(fields[1]) is str:
        channel = _int(fields[0], 0, 2**32 - 1, "chat channel")
        return Chat(channel, fields[1], _chat_text(fields[2], "chat text"))
    raise ProtocolError(CloseCode.INVALID_MESSAGE, f"unexpected server message type {kind}")
