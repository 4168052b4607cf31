"""A bug in the game rules stops its room, with a clear close; the process carries on."""

from __future__ import annotations

import pytest
import trio

from clients import ClientClosed, connect
from gameserver.protocol import CloseCode
from gameserver.server import GameServer


async def test_a_raising_tick_closes_the_room_with_1011_and_the_server_keeps_serving(
    server: GameServer,
) -> None:
    room = server.rooms["default"]
    async with connect(server.url, name="a") as a, connect(server.url, name="b") as b:
        await a.next_snapshot()

        def broken_step() -> list[object]:
            raise RuntimeError("a bug in the rules")

        room.game.step = broken_step  # type: ignore[method-assign]
        with trio.fail_after(5):
            for client in (a, b):
                await client.wait_for(lambda c: c.close_code is not None)
        assert a.close_code == b.close_code == CloseCode.INTERNAL_ERROR
        assert "stopped" in (a.close_reason or "")
    assert room.stopped and server.metrics.rooms_crashed == 1
    # The process still accepts connections, and says why it cannot play.
    with pytest.raises(ClientClosed) as info:
        async with connect(server.url, name="late"):
            pass
    assert info.value.code == CloseCode.INTERNAL_ERROR
