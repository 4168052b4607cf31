"""The one WebSocket frame codec, both roles: round trips, and wsproto agrees with it."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage

from gameserver.protocol.wsframes import (
    MAX_CONTROL_PAYLOAD,
    NO_STATUS,
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_TEXT,
    apply_mask,
    build_frame,
    close_code,
    close_payload,
    frame_header,
)

# Lengths on both sides of the 7-, 16- and 64-bit length forms.
payloads = st.one_of(
    st.binary(max_size=300),
    st.integers(65530, 65540).map(lambda n: os.urandom(n)),
)
keys = st.binary(min_size=4, max_size=4)


@given(payloads, st.none() | keys, st.sampled_from([OP_BINARY, OP_TEXT, OP_PING]))
def test_a_frame_reads_back_whole_and_its_prefixes_never_pass_for_it(
    payload: bytes, key: bytes | None, opcode: int
) -> None:
    payload = payload[:MAX_CONTROL_PAYLOAD] if opcode == OP_PING else payload
    data = b"xx" + build_frame(payload, opcode, mask=key)  # at an offset, after other bytes
    head = frame_header(data, 2, len(data))
    assert head is not None and head.payload_stop == len(data)
    assert (head.opcode, head.fin, head.rsv, head.masked, head.length) == (
        opcode, True, 0, key is not None, len(payload),
    )  # fmt: skip
    body = data[head.payload_start : head.payload_stop]
    if key is not None:
        assert data[head.mask_start : head.payload_start] == key
        body = apply_mask(body, key)
    assert body == payload
    for cut in (2, 3, 4, 5, 9, 11, len(data) - 1):
        if 2 <= cut < len(data):
            partial = frame_header(data, 2, cut)
            assert partial is None or partial.payload_stop > cut


@given(st.binary(max_size=200), keys)
def test_masking_twice_gives_the_payload_back(payload: bytes, key: bytes) -> None:
    assert apply_mask(apply_mask(payload, key), key) == payload


@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=70_000)), min_size=1, max_size=4))
def test_wsproto_server_reads_what_our_client_frames(messages: list[tuple[bool, bytes]]) -> None:
    server = Connection(ConnectionType.SERVER)
    wire = b""
    for as_text, payload in messages:
        if as_text:
            wire += build_frame(payload.hex().encode(), OP_TEXT, mask=os.urandom(4))
        else:
            wire += build_frame(payload, OP_BINARY, mask=os.urandom(4))
    wire += build_frame(b"hi", OP_PING, mask=os.urandom(4))
    wire += build_frame(close_payload(4000, "bye \u00e9" * 40), OP_CLOSE, mask=os.urandom(4))
    server.receive_data(wire)
    events = list(server.events())
    received = [
        (isinstance(e, TextMessage), e.data)
        for e in events
        if isinstance(e, BytesMessage | TextMessage)
    ]
    assert received == [(t, p.hex() if t else p) for t, p in messages]
    assert any(isinstance(e, Ping) and e.payload == b"hi" for e in events)
    close = events[-1]
    assert isinstance(close, CloseConnection) and close.code == 4000  # a valid UTF-8 reason


@given(st.binary(max_size=70_000))
def test_our_client_reads_what_a_wsproto_server_frames(payload: bytes) -> None:
    # wsproto's own server framing, without a handshake: the frame encoder it uses.
    from wsproto.frame_protocol import FrameProtocol

    wire = FrameProtocol(client=False, extensions=[]).send_data(payload, fin=True)
    head = frame_header(wire, 0, len(wire))
    assert head is not None and not head.masked and head.payload_stop == len(wire)
    assert wire[head.payload_start :] == payload


def test_close_bodies_cut_the_reason_on_a_character_and_read_their_code() -> None:
    body = close_payload(1008, "\u20ac" * 100)  # 3 bytes each: 123 would split one
    assert len(body) <= MAX_CONTROL_PAYLOAD and body[2:].decode() == "\u20ac" * 41
    assert close_code(body) == 1008
    assert close_code(b"") == NO_STATUS
