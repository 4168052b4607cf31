"""The lean swarm's hand-made WebSocket: handshake checks, masking, framing, parsing."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import cbor2
import pytest

from gameserver.clients.lean import CONNECTED, DROPPED, LeanBot, is_decoder
from gameserver.clients.rawws import (
    FrameError,
    HandshakeFailed,
    Target,
    accept_key,
    check_handshake_response,
    client_frame,
    frame_bounds,
    handshake_request,
)
from gameserver.clients.session import ClientSession, cbor_uint_at
from gameserver.games.arena import ArenaRules
from gameserver.protocol import (
    SUBPROTOCOL,
    SUBPROTOCOL_V1,
    Input,
    Pong,
    Role,
    Snapshot,
    Welcome,
    encode,
)
from gameserver.protocol.wsframes import apply_mask

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # the example of RFC 6455 section 1.3


def response(status: str = "101 Switching Protocols", **headers: str) -> bytes:
    fields = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Accept": accept_key(KEY),
        "Sec-WebSocket-Protocol": SUBPROTOCOL,
    } | {k.replace("_", "-"): v for k, v in headers.items()}
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in fields.items() if v)]
    return "\r\n".join(lines).encode()


def server_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    if n < 126:
        return bytes((first, n)) + payload
    if n < 65536:
        return bytes((first, 126)) + n.to_bytes(2, "big") + payload
    return bytes((first, 127)) + n.to_bytes(8, "big") + payload


def test_accept_key_matches_the_rfc_example() -> None:
    assert accept_key(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_request_carries_every_upgrade_header() -> None:
    request = handshake_request(Target.from_url("ws://127.0.0.1:8000/ws"), KEY).decode()
    assert request.startswith("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n")
    for header in (
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {KEY}",
        "Sec-WebSocket-Version: 13",
        f"Sec-WebSocket-Protocol: {SUBPROTOCOL}, {SUBPROTOCOL_V1}",
    ):
        assert f"\r\n{header}\r\n" in request
    assert request.endswith("\r\n\r\n")


def test_a_good_response_is_accepted_and_bad_ones_named() -> None:
    check_handshake_response(response(), KEY)
    with pytest.raises(HandshakeFailed) as rejected:
        check_handshake_response(response("400 Bad Request"), KEY)
    assert rejected.value.kind == "rejected_http_400"
    for bad in (
        response(Sec_WebSocket_Accept="nope"),
        response(Sec_WebSocket_Protocol=""),
        response(Upgrade=""),
        b"SSH-2.0-OpenSSH",
    ):
        with pytest.raises(HandshakeFailed) as failed:
            check_handshake_response(bad, KEY)
        assert failed.value.kind == "handshake_error"


def test_lean_mode_needs_a_plain_ws_url() -> None:
    assert Target.from_url("ws://localhost/ws?x=1") == Target("localhost", 80, "/ws?x=1")
    with pytest.raises(ValueError):
        Target.from_url("wss://127.0.0.1:8000/ws")


def test_masking_is_its_own_inverse() -> None:
    key = b"\x01\x02\x03\x04"
    payload = bytes(range(37))
    masked = apply_mask(payload, key)
    assert masked != payload
    assert masked[:4] == bytes(b ^ k for b, k in zip(payload[:4], key, strict=True))
    assert apply_mask(masked, key) == payload
    assert apply_mask(b"", key) == b""


@pytest.mark.parametrize(("size", "head"), [(10, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)])
def test_client_frames_use_7_16_and_64_bit_lengths(size: int, head: int) -> None:
    key = b"abcd"
    frame = client_frame(2, b"x" * size, key)
    assert frame[0] == 0x82 and frame[1] & 0x80  # FIN + binary, masked
    assert len(frame) == head + 4 + size
    assert frame[head : head + 4] == key
    assert apply_mask(frame[head + 4 :], key) == b"x" * size


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_server_frames_are_found_only_when_complete(size: int) -> None:
    frame = server_frame(2, b"y" * size)
    assert frame_bounds(frame, 0, len(frame) - 1) is None
    bounds = frame_bounds(frame, 0, len(frame))
    assert bounds is not None
    first, start, stop = bounds
    assert first == 0x82 and stop - start == size and stop == len(frame)


def test_masked_or_extended_server_frames_are_refused() -> None:
    with pytest.raises(FrameError):
        frame_bounds(bytes((0x82, 0x81)) + b"abcd" + b"x", 0, 7)
    with pytest.raises(FrameError):
        frame_bounds(bytes((0xC2, 1)) + b"x", 0, 3)


def test_cbor_unsigned_integers_of_every_width() -> None:
    for value in (0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32):
        assert cbor_uint_at(cbor2.dumps(value), 0) == value


def test_a_load_bots_input_frame_is_the_protocol_encoding() -> None:
    session = ClientSession()
    for seq, fields, tick in ((1, (0, 0), 0), (2, (31, 65535), 2**32 - 1), (3, (), 7)):
        session.world.tick = tick
        assert session.wire_input_message(fields) == encode(Input(seq, fields, tick))


def test_decoding_sample_is_spread_and_never_empty() -> None:
    assert [i for i in range(40) if is_decoder(i, 40, 0.1)] == [0, 10, 20, 30]
    assert sum(is_decoder(i, 7, 0.0) for i in range(7)) == 1
    assert all(is_decoder(i, 3, 1.0) for i in range(3))


# -- one bot fed by hand -------------------------------------------------------------


def welcome() -> bytes:
    description = {"id": "arena", **ArenaRules.schema.describe()}
    return encode(Welcome(1, 5, 30, 30, 1000, 1000, 9, "arena", {}, schema=description))


def snapshot(tick: int, baseline: int, changes: list[tuple[int, ...]]) -> bytes:
    return encode(Snapshot(tick, baseline, 100, 0, tuple(changes), (), ()))


@pytest.fixture
def bot_and_peer() -> Iterator[tuple[LeanBot, socket.socket]]:
    ours, peer = socket.socketpair()
    ours.setblocking(False)
    bot = LeanBot(3, Role.PLAYER, decode=False)
    bot.sock, bot.state = ours, "joining"
    yield bot, peer
    ours.close()
    peer.close()


def test_a_counting_bot_counts_snapshots_without_decoding(
    bot_and_peer: tuple[LeanBot, socket.socket],
) -> None:
    bot, _ = bot_and_peer
    first = snapshot(10, 0, [(5, 7, 0, 16, 16)])
    second = snapshot(300, 10, [(5, 2, 17)])
    data = server_frame(2, welcome()) + server_frame(2, first) + server_frame(2, second)
    bot.feed(data[:-3], len(data) - 3, 1.0)  # the last frame is incomplete
    assert bot.state == CONNECTED and bot.session.entity_id == 5
    assert bot.stats.snapshots_received == 1 and bot.tick == 10
    rest = bot.pending + data[-3:]
    bot.feed(rest, len(rest), 1.5)
    assert bot.stats.snapshots_received == 2 and bot.tick == 300
    assert bot.stats.bytes_received == len(welcome()) + len(first) + len(second)
    assert list(bot.stats.gaps_s) == [0.5]


def test_a_decoding_bot_mirrors_the_world_and_catches_bad_deltas(
    bot_and_peer: tuple[LeanBot, socket.socket],
) -> None:
    counting, peer = bot_and_peer
    bot = LeanBot(4, Role.PLAYER, decode=True)  # the counting bot's socket, to follow the world
    bot.sock, bot.state = counting.sock, "joining"
    data = server_frame(2, welcome()) + server_frame(2, snapshot(10, 0, [(5, 3, 0, 16)]))
    bot.feed(data, len(data), 1.0)
    assert bot.session.world.wire == {5: (0, 16)} and bot.tick == 10
    bad = server_frame(2, snapshot(12, 11, []))  # against a tick the mirror does not have
    bot.feed(bad, len(bad), 1.1)
    assert bot.state == DROPPED and bot.error == "protocol_error_4002"
    close = peer.recv(100)
    assert close[0] == 0x88  # we sent a close frame


def test_pings_are_answered_pongs_timed_and_close_frames_recorded(
    bot_and_peer: tuple[LeanBot, socket.socket],
) -> None:
    bot, peer = bot_and_peer
    pong = encode(Pong(1000, 5))  # nonce: the ping was sent at t = 1.0 s
    data = (
        server_frame(2, welcome())
        + server_frame(9, b"hi")
        + server_frame(2, pong)
        + server_frame(8, (1001).to_bytes(2, "big") + b"bye")
    )
    bot.feed(data, len(data), 1.25)
    assert list(bot.stats.rtts_s) == [pytest.approx(0.25)]
    assert bot.state == DROPPED and bot.close_code == 1001 and bot.error == "closed_1001"
    sent = peer.recv(100)
    assert sent[0] == 0x8A  # pong first, then the close echo
    assert apply_mask(sent[6:8], sent[2:6]) == b"hi"


def test_fragmented_messages_are_reassembled(bot_and_peer: tuple[LeanBot, socket.socket]) -> None:
    bot, _ = bot_and_peer
    message = welcome()
    data = server_frame(2, message[:5], fin=False) + server_frame(0, message[5:])
    bot.feed(data, len(data), 1.0)
    assert bot.state == CONNECTED and bot.stats.bytes_received == len(message)
