"""Chat on one node: delivered to every room, rate-limited per connection, strictly decoded."""

from __future__ import annotations

import cbor2
import trio

from gameserver.clients import connect
from gameserver.protocol import ChatChannel, CloseCode, ErrorCode, Role
from gameserver.server import GameServer


async def test_chat_reaches_every_room_and_spectators(fast_server: GameServer) -> None:
    url = fast_server.url
    async with (
        connect(url, name="ann") as ann,
        connect(url + "?mode=duel", name="bob") as bob,
        connect(url, name="eve", role=Role.SPECTATOR) as eve,
    ):
        for client in (ann, bob, eve):
            await client.next_snapshot()
        await bob.say("gg")
        await eve.say("nice one")
        with trio.fail_after(5):
            for client in (ann, bob, eve):
                await client.wait_for(lambda c: len(c.chat) == 2)
        assert {(m.channel, m.sender, m.text) for m in ann.chat} == {
            (ChatChannel.GLOBAL, "bob", "gg"),
            (ChatChannel.GLOBAL, "eve", "nice one"),
        }
    assert fast_server.metrics.chat_messages == 2


async def test_chat_beyond_the_burst_is_dropped_with_an_error(fast_server: GameServer) -> None:
    async with connect(fast_server.url, name="loud") as loud:
        await loud.next_snapshot()
        for index in range(8):  # burst 5, then 1 per second
            await loud.say(f"spam {index}")
        with trio.fail_after(5):
            await loud.wait_for(lambda c: len(c.chat) >= 5 and len(c.errors) >= 3)
        assert [m.text for m in loud.chat] == [f"spam {i}" for i in range(5)]
        assert {e.code for e in loud.errors} == {ErrorCode.CHAT_RATE_LIMITED}
        assert loud.close_code is None  # not fatal
    assert fast_server.metrics.chat_rate_limited == 3


async def test_bad_chat_closes_with_4002(fast_server: GameServer) -> None:
    async with connect(fast_server.url, name="x") as client:
        await client.next_snapshot()
        await client.send_raw(cbor2.dumps([4, "line\nbreak"]))
        with trio.fail_after(5):
            await client.wait_for(lambda c: c.close_code is not None)
        assert client.close_code == CloseCode.INVALID_MESSAGE
