"""Each kind of bad input closes (or refuses) only the offender; the others play on."""

from __future__ import annotations

import cbor2
import pytest
import trio
from trio_websocket import ConnectionRejected

from gameserver.clients import GameClient, connect
from gameserver.games.arena import Buttons
from gameserver.protocol import CloseCode, ErrorCode, Input, Join, Role, encode
from gameserver.server import GameServer

TICK_RATE = 30

BAD_MESSAGES = {
    "garbage bytes": (b"\xff\xfe\xfd\xfc", CloseCode.INVALID_PAYLOAD),
    "truncated cbor": (cbor2.dumps([2, 1, 0, 0, 0])[:-2], CloseCode.INVALID_PAYLOAD),
    "text frame": ("hello", CloseCode.UNSUPPORTED_DATA),
    "unknown type": (cbor2.dumps([42, 1]), CloseCode.UNKNOWN_MESSAGE_TYPE),
    "wrong shape": (cbor2.dumps([2, "left", 0, 0, 0]), CloseCode.INVALID_MESSAGE),
    "out of range": (cbor2.dumps([2, 1, 0, 70000, 0]), CloseCode.INVALID_MESSAGE),
    "oversize": (b"\x00" * 4096, CloseCode.MESSAGE_TOO_BIG),
    "second join": (encode(Join(Role.PLAYER, "again")), CloseCode.UNEXPECTED_MESSAGE),
}


async def play_steadily(client: GameClient) -> None:
    while True:
        await client.send_input(Buttons.RIGHT if client.tick % 60 < 30 else Buttons.LEFT)
        await client.next_snapshot()


async def snapshots_per_second(*clients: GameClient) -> list[int]:
    before = [c.stats.snapshots_received for c in clients]
    await trio.sleep(1.0)
    return [c.stats.snapshots_received - b for c, b in zip(clients, before, strict=True)]


@pytest.mark.parametrize("case", list(BAD_MESSAGES))
async def test_bad_message_closes_only_the_offender(server: GameServer, case: str) -> None:
    data, code = BAD_MESSAGES[case]
    url = server.url
    async with (
        connect(url, name="steady") as player,
        connect(url, role=Role.SPECTATOR, name="watcher") as spectator,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(play_steadily, player)
        async with connect(url, name="offender") as offender:
            await offender.next_snapshot()
            await offender.send_raw(data)
            with trio.fail_after(5):
                await offender.wait_for(lambda c: c.close_code is not None)
            assert offender.close_code == code
            assert offender.close_reason  # a reason string says what was wrong
        rates = await snapshots_per_second(player, spectator)
        assert min(rates) >= TICK_RATE * 0.8, rates
        assert player.close_code is None and spectator.close_code is None
        assert player.entity_id in spectator.world
        assert server.metrics.protocol_errors[code] == 1
        nursery.cancel_scope.cancel()


async def test_spectator_input_is_refused_but_the_spectator_stays(server: GameServer) -> None:
    async with (
        connect(server.url, name="steady") as player,
        connect(server.url, role=Role.SPECTATOR, name="watcher") as spectator,
    ):
        await spectator.send_raw(encode(Input(1, (Buttons.RIGHT, 0), 0)))
        with trio.fail_after(5):
            await spectator.wait_for(lambda c: bool(c.errors))
        assert spectator.errors[0].code == ErrorCode.SPECTATOR_INPUT
        rates = await snapshots_per_second(player, spectator)
        assert min(rates) >= TICK_RATE * 0.8, rates
        assert spectator.close_code is None
        assert server.metrics.spectator_inputs == 1


async def test_input_before_join_is_refused(server: GameServer) -> None:
    async with connect(server.url, join=False) as client:
        await client.send_raw(encode(Input(1, (0, 0), 0)))
        with trio.fail_after(5):
            await client.wait_for(lambda c: c.close_code is not None)
        assert client.close_code == CloseCode.UNEXPECTED_MESSAGE


@pytest.mark.parametrize("offered", [[], ["gameserver.v0"]])
async def test_client_without_the_subprotocol_is_refused_with_a_reason(
    server: GameServer, offered: list[str]
) -> None:
    with pytest.raises(ConnectionRejected) as info:
        async with connect(server.url, subprotocols=offered):
            pass
    assert info.value.status_code == 400
    assert b"gameserver.v1" in (info.value.body or b"")
    assert server.metrics.handshakes_rejected == 1
    assert server.metrics.connections_opened == 0


async def test_a_wrong_path_is_refused_with_a_reason(server: GameServer) -> None:
    with pytest.raises(ConnectionRejected) as info:
        async with connect(server.url.replace("/ws", "/nowhere") + "?token=s3cret-t0ken"):
            pass
    assert info.value.status_code == 404
    # The path as requested, without its query string: a token is never echoed.
    assert info.value.body == b"no game at /nowhere; connect to /ws\n"
