from __future__ import annotations

import contextlib

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gameserver.protocol import (
    CloseCode,
    Command,
    Error,
    FindMatch,
    Input,
    Join,
    Ping,
    Pong,
    ProtocolError,
    Role,
    Snapshot,
    Welcome,
    decode_client_message,
    decode_server_message,
    encode,
)

uint32 = st.integers(0, 2**32 - 1)
names = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Co", "Cn")),
    min_size=1,
    max_size=32,
).filter(str.isprintable)

client_messages = st.one_of(
    st.builds(Join, st.sampled_from(Role), names),
    st.builds(Join, st.sampled_from(Role), names, st.text(min_size=1, max_size=64)),
    st.builds(
        Input,
        st.integers(1, 2**32 - 1),
        st.tuples(st.integers(0, 2**32 - 1) | st.text(max_size=8), st.integers(0, 65535)),
        uint32,
    ),
    st.builds(
        Command,
        st.lists(st.integers(0, 99) | st.text(max_size=8), max_size=4).map(lambda args: (0, *args)),
    ),
    st.builds(Ping, st.integers(0, 2**53 - 1)),
    st.builds(
        FindMatch,
        st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=24),
        names,
        st.just("") | names,  # the room whose node it cannot reach, if any
    ),
)
int_tuples = st.lists(st.integers(-(2**31), 2**31), max_size=6).map(tuple)
server_messages = st.one_of(
    st.builds(
        Welcome,
        *[uint32] * 7,
        game=st.text(max_size=10),
        params=st.dictionaries(st.text(max_size=8), st.integers(0, 999) | st.floats(0, 1e6)),
        resume=st.text(max_size=20),
    ),
    st.builds(
        Snapshot,
        uint32,
        uint32,
        uint32,
        uint32,
        st.lists(int_tuples, max_size=5).map(tuple),
        st.lists(st.integers(0, 2**31), max_size=5).map(tuple),
        st.lists(int_tuples, max_size=5).map(tuple),
    ),
    st.builds(Pong, uint32, uint32),
    st.builds(Error, st.integers(0, 100), st.text(max_size=20)),
)


@given(client_messages)
def test_client_messages_round_trip(message: object) -> None:
    assert decode_client_message(encode(message)) == message  # type: ignore[arg-type]


@given(server_messages)
def test_server_messages_round_trip(message: object) -> None:
    assert decode_server_message(encode(message)) == message  # type: ignore[arg-type]


@given(st.binary(max_size=300))
def test_decoder_raises_only_protocol_error_on_random_bytes(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_client_message(data)


cbor_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)
    | st.floats()
    | st.text(max_size=40)
    | st.binary(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(cbor_values)
def test_decoder_raises_only_protocol_error_on_arbitrary_cbor(value: object) -> None:
    with contextlib.suppress(ProtocolError):
        decode_client_message(cbor2.dumps(value))


@given(st.integers(1, 3), st.lists(cbor_values, max_size=6))
def test_decoder_raises_only_protocol_error_on_wrong_shapes(kind: int, rest: list[object]) -> None:
    with contextlib.suppress(ProtocolError):
        decode_client_message(cbor2.dumps([kind, *rest]))


def code_of(data: bytes | str, max_bytes: int = 256) -> CloseCode:
    with pytest.raises(ProtocolError) as info:
        decode_client_message(data, max_bytes)
    return info.value.code


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("hello", CloseCode.UNSUPPORTED_DATA),
        (b"\xff\x00", CloseCode.INVALID_PAYLOAD),
        (b"\x9f\x02\xff", CloseCode.INVALID_PAYLOAD),  # indefinite-length array
        (cbor2.dumps(cbor2.CBORTag(1, 5)), CloseCode.INVALID_PAYLOAD),  # tag (datetime)
        (cbor2.dumps([3, cbor2.CBORTag(2, b"\x01")]), CloseCode.INVALID_PAYLOAD),  # bignum tag
        (cbor2.dumps([3, 1]) + b"\x00", CloseCode.INVALID_PAYLOAD),  # trailing byte
        (
            b"\x82\x03\x1b\x00\x00\x00\x00\x00\x00\x00\x01",
            CloseCode.INVALID_PAYLOAD,
        ),  # long int form
        (cbor2.dumps([3, [1]]), CloseCode.INVALID_PAYLOAD),  # nesting
        (cbor2.dumps([3, []]), CloseCode.INVALID_PAYLOAD),  # nesting, empty array
        (cbor2.dumps([3, {}]), CloseCode.INVALID_PAYLOAD),  # nesting, empty map
        (cbor2.dumps([2, 1, 0, 0, {}]), CloseCode.INVALID_PAYLOAD),  # nested in an Input
        (cbor2.dumps({"type": 3}), CloseCode.INVALID_MESSAGE),
        (cbor2.dumps([]), CloseCode.INVALID_MESSAGE),
        (cbor2.dumps(["input"]), CloseCode.INVALID_MESSAGE),
        (cbor2.dumps([99, 1]), CloseCode.UNKNOWN_MESSAGE_TYPE),
        (cbor2.dumps([2, 1, 0, 0]), CloseCode.INVALID_MESSAGE),  # input arity
        (cbor2.dumps([2, 0, 0, 0, 0]), CloseCode.INVALID_MESSAGE),  # seq starts at 1
        (cbor2.dumps([2, 1, b"x", 0, 0]), CloseCode.INVALID_MESSAGE),  # a field as bytes
        (cbor2.dumps([2, 1, None, 0, 0]), CloseCode.INVALID_MESSAGE),  # a field as null
        (cbor2.dumps([6]), CloseCode.INVALID_MESSAGE),  # a command without its kind
        (cbor2.dumps([6, "play"]), CloseCode.INVALID_MESSAGE),  # the kind is an integer
        (cbor2.dumps([2, 1, True, 0, 0]), CloseCode.INVALID_MESSAGE),  # bool is not an int
        (cbor2.dumps([2, 1, 1.0, 0, 0]), CloseCode.INVALID_MESSAGE),
        (cbor2.dumps([1, 2, "bob"]), CloseCode.INVALID_MESSAGE),  # role
        (cbor2.dumps([1, 0, ""]), CloseCode.INVALID_MESSAGE),  # empty name
        (cbor2.dumps([1, 0, "x" * 33]), CloseCode.INVALID_MESSAGE),
        (cbor2.dumps([1, 0, "a\nb"]), CloseCode.INVALID_MESSAGE),  # control character
        (cbor2.dumps([3, -1]), CloseCode.INVALID_MESSAGE),
    ],
)
def test_each_violation_has_its_documented_close_code(data: bytes | str, code: CloseCode) -> None:
    assert code_of(data) == code


def test_size_is_checked_before_decoding() -> None:
    # 300 bytes of garbage: too big wins over malformed, so no parsing happened.
    assert code_of(b"\xff" * 300, max_bytes=256) == CloseCode.MESSAGE_TOO_BIG
    huge_declared = b"\x5b" + (2**63).to_bytes(8, "big")  # byte string claiming 2**63 bytes
    assert code_of(huge_declared) == CloseCode.INVALID_PAYLOAD


def test_snapshot_encoding_matches_a_plain_cbor_array() -> None:
    snapshot = Snapshot(7, 6, 1234, 3, ((5, 0b110, 160, 320),), (9,), ((7, 0, 1, 2, 25, 75),))
    assert cbor2.loads(encode(snapshot)) == [
        17,
        7,
        6,
        1234,
        3,
        [[5, 6, 160, 320]],
        [9],
        [[7, 0, 1, 2, 25, 75]],
    ]


@given(st.binary(min_size=0, max_size=24).map(lambda tail: b"\x85\x02" + tail))
def test_fast_input_path_agrees_with_the_general_decoder(data: bytes) -> None:
    from gameserver.protocol import _codec as codec

    fast = codec._decode_input_fast(data, 2)
    try:
        general = codec._decode_input(codec.loads_strict(data, 1), 2)
    except ProtocolError:
        general = None
    assert fast == general or (fast is None and general is not None)


@given(
    st.integers(1, 2**32 - 1), st.integers(0, 255), st.integers(0, 65535), st.integers(0, 2**32 - 1)
)
def test_fast_input_path_takes_every_valid_frame(
    seq: int, buttons: int, aim: int, ack: int
) -> None:
    from gameserver.protocol import _codec as codec

    frame = Input(seq, (buttons, aim), ack)
    assert codec._decode_input_fast(encode(frame), 2) == frame
    assert decode_client_message(encode(frame)) == frame


@given(
    st.integers(1, 2**32 - 1),
    st.integers(-(2**32), 2**32 - 1),
    st.integers(-(2**32), 2**32 - 1),
    st.integers(0, 2**32 - 1),
)
def test_fast_input_path_takes_negative_game_fields(seq: int, dx: int, dy: int, ack: int) -> None:
    """A stick of -1/0/1 (the benchmark game's input) is read without the general decoder."""
    from gameserver.protocol import _codec as codec

    frame = Input(seq, (dx, dy), ack)
    assert decode_client_message(encode(frame)) == frame
    assert codec._decode_input_fast(encode(frame), 2) == frame  # 4-byte heads at most


@given(
    st.binary(min_size=0, max_size=24).map(
        lambda tail: b"\x85\x02" + bytes(b if i % 3 else b | 0x20 for i, b in enumerate(tail))
    )
)
def test_fast_input_path_agrees_on_negative_heads(data: bytes) -> None:
    """Random frames rich in negative-integer heads: the fast path accepts no more."""
    from gameserver.protocol import _codec as codec

    fast = codec._decode_input_fast(data, 2)
    try:
        general = codec._decode_input(codec.loads_strict(data, 1), 2)
    except ProtocolError:
        general = None
    assert fast == general or (fast is None and general is not None)


@given(st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=6), st.integers(1, 99))
def test_inputs_of_any_arity_round_trip(fields: list[int], seq: int) -> None:
    frame = Input(seq, tuple(fields), 7)
    assert decode_client_message(encode(frame), input_fields=len(fields)) == frame
    with pytest.raises(ProtocolError):
        decode_client_message(encode(frame), input_fields=len(fields) + 2)
