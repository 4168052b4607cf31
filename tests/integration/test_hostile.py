"""A hostile crowd against a live server while 20 well-behaved players keep playing.

Every attack from the security page runs while the players send inputs at
the tick rate. Throughout, each player must keep receiving snapshots at the
tick rate (inter-arrival p99 under a bound), apply every one of them (no
delta error, no gap it cannot bridge) and never be disconnected.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import struct

import cbor2
import trio

from gameserver.protocol import Join, Role, encode
from gameserver.server import GameServer
from tests.conftest import make_config

from .alongside import players_alongside
from .rawws import client_frame, handshake

JOIN = encode(Join(Role.PLAYER, "hostile"))


async def raw_attack(port: int, payload: bytes, *, join: bool = True) -> None:
    """Connect, optionally join, send ``payload`` and read until the server hangs up."""
    with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError, OSError):
        stream, _ = await handshake(port)
        async with stream:
            if join:
                await stream.send_all(client_frame(JOIN))
            await stream.send_all(payload)
            with trio.move_on_after(3):
                while await stream.receive_some():
                    pass


def nested(depth: int) -> bytes:
    return b"\x81" * depth + b"\x00"


async def test_hostile_clients_do_not_disturb_twenty_players(nursery: trio.Nursery) -> None:
    server = GameServer(
        make_config(max_connections_per_address=80, handshake_timeout_s=1.0, send_timeout_s=1.0)
    )
    await nursery.start(server.run)
    port = server.port
    async with players_alongside(server) as crowd, crowd.attack():
        rng = random.Random(7)
        async with trio.open_nursery() as attacks:
            attacks_list = [
                client_frame(os.urandom(40)),  # random bytes
                client_frame(cbor2.dumps([2, 1, 0, 0, 0])[:-2]),  # truncated CBOR
                client_frame(nested(500)),  # deeply nested
                client_frame(b"\x5b" + (2**62).to_bytes(8, "big")),  # huge declared length
                client_frame(cbor2.dumps([2, "x", -1, 1.5, None])),  # wrong types
                client_frame(cbor2.dumps([2, 1, 999, 70000, 0])),  # out of range
                client_frame(b"\x00" * 100_000),  # oversize frame
                client_frame(JOIN, rsv=0b010),  # framing violation
                b"".join(client_frame(encode_input(s)) for s in range(1, 400)),  # flood
                bytes(rng.getrandbits(8) for _ in range(2000)),  # garbage frames
            ]
            for payload in attacks_list:
                attacks.start_soon(raw_attack, port, payload)
            attacks.start_soon(slowloris, port)
            attacks.start_soon(connection_storm, port)
            attacks.start_soon(stalled_reader, port)
    metrics = server.metrics
    assert sum(metrics.protocol_errors.values()) >= 8
    assert metrics.rate_limited >= 1 and metrics.refused_per_address >= 1


def encode_input(seq: int) -> bytes:
    from gameserver.protocol import Input

    return encode(Input(seq, (8, 0), 0))


async def slowloris(port: int) -> None:
    with contextlib.suppress(trio.BrokenResourceError, OSError):
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            with trio.move_on_after(3):
                for byte in b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n":
                    await stream.send_all(bytes([byte]))
                    await trio.sleep(0.1)


async def connection_storm(port: int) -> None:
    """Many sockets from one address, some reset at once."""
    sockets = []
    for i in range(100):
        sock = trio.socket.socket()
        with contextlib.suppress(OSError):
            await sock.connect(("127.0.0.1", port))
            if i % 3 == 0:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
                continue
            sockets.append(sock)
    for _ in range(60):  # and a crowd of full handshakes beyond the per-address cap
        with contextlib.suppress(OSError, AssertionError):  # AssertionError: refused (429)
            stream, _ = await handshake(port)
            sockets.append(stream)  # type: ignore[arg-type]
    await trio.sleep(1.5)
    for sock in sockets:
        with contextlib.suppress(Exception):
            await sock.aclose() if hasattr(sock, "aclose") else sock.close()  # type: ignore[func-returns-value]


async def stalled_reader(port: int) -> None:
    """Joins as a spectator and never reads: the server must not slow down or grow."""
    with contextlib.suppress(trio.BrokenResourceError, OSError, AssertionError):
        stream, _ = await handshake(port)
        stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        async with stream:
            await stream.send_all(client_frame(encode(Join(Role.SPECTATOR, "stall"))))
            await trio.sleep(3)
