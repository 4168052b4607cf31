"""WebSocket control frames and fragments sent to hurt the room's tick.

Each attack runs from 127.0.0.2 while 20 players play (``alongside.py``):
the players must keep their snapshot rate and stay connected, an innocent
user must be answered normally, and the attacker must be closed with its
documented code. The figures each attack produces (the players' worst
snapshot rate, the attacker's close code and time to close) are printed
(``pytest -s``).
"""

from __future__ import annotations

import collections
import contextlib
import struct
import sys
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
import trio

from gameserver.protocol import CloseCode, Join, Role, encode
from gameserver.server import GameServer
from tests.conftest import make_config

from .alongside import Crowd, InnocentAnswers, innocent_requests, players_alongside
from .rawws import FrameReader, client_frame, handshake

ATTACKER = "127.0.0.2"
ATTACK_S = 3.0
BLOCK_BYTES = 65536  # frames are sent in blocks this large, as fast as the socket takes them
EMPTY_PING = client_frame(b"", opcode=0x9)
FIRST_FRAGMENT = client_frame(b"", opcode=0x2, fin=False)
EMPTY_CONTINUATION = client_frame(b"", opcode=0x0, fin=False)


@attrs.define
class Outcome:
    close_code: int | None = None
    closed_after_s: float | None = None  # from the first frame sent
    bytes_sent: int = 0


async def flood(port: int, first: bytes, frame: bytes, *, seconds: float = ATTACK_S) -> Outcome:
    """Send ``first``, then ``frame`` over and over as fast as TCP allows, reading meanwhile."""
    outcome = Outcome()
    block = frame * (BLOCK_BYTES // len(frame))
    stream, rest = await handshake(port, local_address=ATTACKER)
    reader = FrameReader(stream, rest)
    started = trio.current_time()

    async def read_until_closed(done: trio.CancelScope) -> None:
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            outcome.close_code = await reader.close_code()
        outcome.closed_after_s = trio.current_time() - started
        done.cancel()

    async def send_until_refused() -> None:
        with (
            trio.move_on_after(seconds),
            contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError),
        ):
            await stream.send_all(first)
            while True:
                await stream.send_all(block)
                outcome.bytes_sent += len(block)

    async with stream, trio.open_nursery() as nursery:
        nursery.start_soon(read_until_closed, nursery.cancel_scope)
        await send_until_refused()
        # The attack is over; a server that closes it does so now or never.
        await trio.sleep(1.0)
        nursery.cancel_scope.cancel()
    return outcome


@attrs.define
class Figures:
    """What the players got during an attack, for the record."""

    worst_rate_fraction: float = 0.0


@contextlib.asynccontextmanager
async def measured_attack(crowd: Crowd) -> AsyncIterator[Figures]:
    figures = Figures()
    before = [p.stats.snapshots_received for p in crowd.players]
    async with crowd.attack():
        started = trio.current_time()
        yield figures
        elapsed = trio.current_time() - started
        figures.worst_rate_fraction = min(
            (p.stats.snapshots_received - n) / (crowd.snapshot_rate * elapsed)
            for p, n in zip(crowd.players, before, strict=True)
        )
        print(f"\nplayers' worst snapshot rate in the attack: {figures.worst_rate_fraction:.0%}")


async def innocent_during(server: GameServer, answers: list[InnocentAnswers]) -> None:
    await trio.sleep(0.5)  # well into the attack
    answers.append(await innocent_requests(server))


def assert_answered(answers: list[InnocentAnswers]) -> None:
    assert answers and answers[0] == InnocentAnswers(
        joined=True, healthz_status=200, match_status=200
    ), answers


# docs/security.md section 3: what one connection can make the server hold, in bytes of
# buffers (about 470 KiB with the default settings, most of it the write buffer's limit).
PER_CONNECTION_BOUND_BYTES = 470 * 1024
_OWN_MODULES = ("gameserver.", "wsproto", "trio_websocket")


def held_bytes(obj: object, seen: set[int] | None = None) -> int:
    """Bytes held in the buffers of a connection object and the objects it owns.

    Walks attributes into objects of the server's own modules, wsproto and
    trio-websocket (not into trio, the socket or shared configuration), and
    counts byte strings, byte arrays, text, and lists and deques with their items.
    """
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, bytes | bytearray | str | memoryview):
        return sys.getsizeof(obj)
    if isinstance(obj, list | collections.deque | tuple):
        return sys.getsizeof(obj) + sum(held_bytes(item, seen) for item in obj)
    module = type(obj).__module__
    if not module.startswith(_OWN_MODULES) or module == "gameserver.config":
        return 0
    attributes: dict[str, Any] = {}
    with contextlib.suppress(TypeError):
        attributes = dict(vars(obj))
    for name in getattr(type(obj), "__slots__", ()):
        if hasattr(obj, name):
            attributes[name] = getattr(obj, name)
    return sum(held_bytes(value, seen) for value in attributes.values())


@attrs.define
class Memory:
    most_held_bytes: int = 0  # the most the attacker's connection held at one sample
    samples: int = 0


async def watch_memory(server: GameServer, memory: Memory, done: trio.Event) -> None:
    """Sample what the attacker's connection holds until the attack is over."""
    while not done.is_set():
        for connection in list(server.connections):
            if connection.remote.startswith(ATTACKER):
                memory.samples += 1
                memory.most_held_bytes = max(memory.most_held_bytes, held_bytes(connection))
        await trio.sleep(0.02)


async def start(nursery: trio.Nursery, transport: str, **settings: object) -> GameServer:
    server = GameServer(make_config(transport=transport, **settings))
    await nursery.start(server.run)
    return server


@pytest.mark.parametrize("transport", ["fast", "tasks"])
async def test_a_ping_flood_is_closed_and_players_keep_their_rate(
    nursery: trio.Nursery, transport: str
) -> None:
    server = await start(nursery, transport)
    outcomes: list[Outcome] = []
    answers: list[InnocentAnswers] = []

    async def flooder() -> None:
        outcomes.append(await flood(server.port, b"", EMPTY_PING))

    async with (
        players_alongside(server) as crowd,
        measured_attack(crowd) as figures,
        trio.open_nursery() as attacks,
    ):
        for _ in range(4):
            attacks.start_soon(flooder)
        attacks.start_soon(innocent_during, server, answers)
    print(f"\nping flood [{transport}]: {figures}, attackers: {outcomes}")
    assert_answered(answers)
    for outcome in outcomes:
        assert outcome.close_code == CloseCode.RATE_LIMITED, outcomes
        assert outcome.closed_after_s is not None and outcome.closed_after_s < 1.0, outcomes
    assert server.metrics.control_rate_limited == 4


@pytest.mark.parametrize("transport", ["fast", "tasks"])
async def test_a_fragment_bomb_is_closed_and_players_keep_their_rate(
    nursery: trio.Nursery, transport: str
) -> None:
    server = await start(nursery, transport)
    outcomes: list[Outcome] = []
    answers: list[InnocentAnswers] = []

    memory = Memory()
    done = trio.Event()

    async def bomber() -> None:
        outcomes.append(await flood(server.port, FIRST_FRAGMENT, EMPTY_CONTINUATION))
        done.set()

    async with (
        players_alongside(server) as crowd,
        measured_attack(crowd) as figures,
        trio.open_nursery() as attacks,
    ):
        attacks.start_soon(bomber)
        attacks.start_soon(watch_memory, server, memory, done)
        attacks.start_soon(innocent_during, server, answers)
    print(f"\nfragment bomb [{transport}]: {figures}, attacker: {outcomes}, {memory}")
    assert_answered(answers)
    assert memory.most_held_bytes <= PER_CONNECTION_BOUND_BYTES, memory
    [outcome] = outcomes
    assert outcome.close_code == CloseCode.MESSAGE_TOO_BIG, outcome
    assert outcome.closed_after_s is not None and outcome.closed_after_s < 1.0, outcome
    assert server.metrics.fragment_limited == 1


@pytest.mark.parametrize("transport", ["fast", "tasks"])
async def test_a_64_bit_length_over_the_limit_closes_with_1009_before_any_payload(
    nursery: trio.Nursery, transport: str
) -> None:
    server = await start(nursery, transport)
    stream, rest = await handshake(server.port, local_address=ATTACKER)
    reader = FrameReader(stream, rest)
    await stream.send_all(client_frame(encode(Join(Role.PLAYER, "big"))))
    with trio.fail_after(5):
        assert (await reader.next() or (0,))[0] == 2  # the welcome
    # Binary, FIN, masked, 64-bit length of 1 MiB, the mask, and no payload at all.
    await stream.send_all(struct.pack("!BBQ", 0x82, 0x80 | 127, 1 << 20) + b"\x01\x02\x03\x04")
    started = trio.current_time()
    with trio.fail_after(2):
        assert await reader.close_code() == CloseCode.MESSAGE_TOO_BIG
    print(f"\n64-bit length [{transport}]: 1009 after {trio.current_time() - started:.3f} s")
    await stream.aclose()


@pytest.mark.parametrize("transport", ["fast", "tasks"])
async def test_keepalive_pongs_and_occasional_pings_are_never_refused(
    nursery: trio.Nursery, transport: str
) -> None:
    """A client pinging a few times a second and answering every ping is never closed."""
    server = await start(nursery, transport, keepalive_interval_s=0.2, idle_timeout_s=0.6)
    stream, rest = await handshake(server.port)
    reader = FrameReader(stream, rest)
    await stream.send_all(client_frame(encode(Join(Role.SPECTATOR, "pinger"))))
    seen = {0x8: 0, 0x9: 0, 0xA: 0}
    sending = trio.Lock()

    async def answer_pings(done: trio.CancelScope) -> None:
        while (item := await reader.next()) is not None:
            opcode, payload = item
            if opcode in seen:
                seen[opcode] += 1
            if opcode == 0x9:
                async with sending:
                    await stream.send_all(client_frame(payload, opcode=0xA))
            elif opcode == 0x8:
                break
        done.cancel()

    async with trio.open_nursery() as pinging:
        pinging.start_soon(answer_pings, pinging.cancel_scope)
        for i in range(12):
            async with sending:
                await stream.send_all(client_frame(b"%d" % i, opcode=0x9))
            await trio.sleep(0.25)
        await trio.sleep(0.5)  # quiet: the server's keep-alive pings, answered
        pinging.cancel_scope.cancel()
    assert seen[0x8] == 0, seen
    assert seen[0xA] >= 10 and seen[0x9] >= 1, seen
    assert server.metrics.control_rate_limited == 0
    await stream.aclose()
