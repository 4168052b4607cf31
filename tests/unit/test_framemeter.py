"""The tasks transport's frame meter judges headers alone, however the bytes are split."""

from __future__ import annotations

import struct

import pytest

from gameserver.config import Config
from gameserver.protocol import CloseCode
from gameserver.server.network.framemeter import FrameMeter, Refusal

CONFIG = Config.of(
    max_message_bytes=256,
    max_fragments_per_message=4,
    control_frame_rate_per_s=10.0,
    control_frame_burst=3,
)


def frame(payload: bytes, opcode: int = 2, *, fin: bool = True) -> bytes:
    first = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        header = bytes((first, 0x80 | n))
    elif n < 65536:
        header = struct.pack("!BBH", first, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, n)
    return header + b"\x00\x00\x00\x00" + payload  # a zero mask leaves the payload as it is


def feed_bytewise(data: bytes, now_s: float = 0.0) -> Refusal | None:
    meter = FrameMeter(CONFIG, 0.0)
    for i in range(len(data)):
        if (refusal := meter.feed(data[i : i + 1], now_s)) is not None:
            return refusal
    return None


def feed_whole(data: bytes, now_s: float = 0.0) -> Refusal | None:
    return FrameMeter(CONFIG, 0.0).feed(data, now_s)


LEGAL = [
    frame(b"x" * 256),
    frame(b"a", fin=False) + frame(b"b" * 200, opcode=0, fin=False) + frame(b"c", opcode=0),
    frame(b"p", opcode=9) + frame(b"", opcode=10) + frame(b"x" * 130),
    frame(b"", fin=False) + frame(b"", opcode=9) + frame(b"", opcode=0),  # ping between fragments
]


@pytest.mark.parametrize("feed", [feed_whole, feed_bytewise])
@pytest.mark.parametrize("data", LEGAL)
def test_legal_traffic_passes(feed: object, data: bytes) -> None:
    assert feed(data) is None  # type: ignore[operator]


@pytest.mark.parametrize("feed", [feed_whole, feed_bytewise])
def test_a_64_bit_length_over_the_limit_is_refused_from_the_header(feed: object) -> None:
    header = struct.pack("!BBQ", 0x82, 0x80 | 127, 1 << 40) + b"\x00" * 4
    refusal = feed(header)  # type: ignore[operator]
    assert refusal is not None and refusal.code == CloseCode.MESSAGE_TOO_BIG


@pytest.mark.parametrize("feed", [feed_whole, feed_bytewise])
def test_fragments_beyond_the_limit_are_refused(feed: object) -> None:
    bomb = frame(b"", fin=False) + frame(b"", opcode=0, fin=False) * 4
    refusal = feed(bomb)  # type: ignore[operator]
    assert refusal == Refusal(
        CloseCode.MESSAGE_TOO_BIG, "message in more than 4 fragments", "max_fragments_per_message"
    )


@pytest.mark.parametrize("feed", [feed_whole, feed_bytewise])
def test_a_message_growing_past_the_limit_in_fragments_is_refused(feed: object) -> None:
    data = frame(b"x" * 200, fin=False) + frame(b"x" * 57, opcode=0)
    refusal = feed(data)  # type: ignore[operator]
    assert refusal is not None and refusal.limit == "max_message_bytes"


def test_pings_beyond_the_burst_are_refused_and_the_rate_refills() -> None:
    meter = FrameMeter(CONFIG, 0.0)
    assert meter.feed(frame(b"", opcode=9) * 3, 0.0) is None
    refusal = meter.feed(frame(b"", opcode=10), 0.0)
    assert refusal is not None and refusal.code == CloseCode.RATE_LIMITED
    assert "pings" in refusal.reason
    steady = FrameMeter(CONFIG, 0.0)
    assert all(steady.feed(frame(b"k", opcode=9), i / 10) is None for i in range(1000))
