"""A bug in the game rules stops its room, with a clear close; other rooms and the process go on."""

from __future__ import annotations

import trio

from gameserver.clients import connect
from gameserver.protocol import CloseCode
from gameserver.server import GameServer


def break_rules(server: GameServer, room_id: str) -> None:
    def broken_step() -> list[object]:
        raise RuntimeError("a bug in the rules")

    server.rooms[room_id].game.step = broken_step  # type: ignore[method-assign]


async def test_a_raising_tick_closes_the_room_with_1011_and_the_server_keeps_serving(
    server: GameServer,
) -> None:
    room = server.rooms["default"]
    async with (
        connect(server.url, name="a") as a,
        connect(server.url, name="b") as b,
        connect(server.url + "?mode=squad", name="other") as other,
    ):
        for client in (a, b, other):
            await client.next_snapshot()
        (squad_room,) = [r for name, r in server.rooms.items() if name.startswith("squad-")]
        break_rules(server, "default")
        with trio.fail_after(5):
            for client in (a, b):
                await client.wait_for(lambda c: c.close_code is not None)
        assert a.close_code == b.close_code == CloseCode.INTERNAL_ERROR
        assert "stopped" in (a.close_reason or "")
        # The other room never noticed.
        tick = other.tick
        with trio.fail_after(5):
            await other.wait_for(lambda c: c.tick >= tick + 30)
        assert other.close_code is None and not squad_room.stopped
    assert room.stopped and server.metrics.rooms_crashed == 1
    # The process carries on: the next player gets a fresh default room and plays.
    async with connect(server.url, name="late") as late:
        await late.send_input(8)
        with trio.fail_after(5):
            await late.wait_for(lambda c: c.ack_seq == 1)
    assert server.rooms["default"] is not room
