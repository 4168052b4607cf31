"""Two players and a spectator over real sockets: they see each other move and score.

The client reads the arena only through its Welcome's description: entities and events
are the described classes, read by field name.
"""

from __future__ import annotations

import math

import trio

from gameserver.clients import GameClient, connect
from gameserver.games.arena import Buttons
from gameserver.protocol import Role
from gameserver.server import GameServer


async def test_players_and_spectator_see_each_other_move_and_score(server: GameServer) -> None:
    url = server.url
    async with (
        connect(url, name="alice") as alice,
        connect(url, name="bob") as bob,
        connect(url, role=Role.SPECTATOR, name="watcher") as spectator,
    ):
        assert alice.entity_id and bob.entity_id and alice.entity_id != bob.entity_id
        assert spectator.entity_id == 0
        game = server.rooms["default"].game.rules
        game.place(alice.entity_id, 300.0, 500.0)  # type: ignore[attr-defined]  # within view
        game.place(bob.entity_id, 480.0, 500.0)  # type: ignore[attr-defined]
        everyone_visible = lambda c: alice.entity_id in c.world and bob.entity_id in c.world  # noqa: E731
        with trio.fail_after(5):
            for client in (alice, bob, spectator):
                await client.wait_for(everyone_visible)

        # Alice walks right; Bob and the spectator see it.
        start_x = bob.entities[alice.entity_id].x
        with trio.fail_after(5):
            for _ in range(15):
                await alice.send_input(Buttons.RIGHT)
                await alice.next_snapshot()
            await alice.send_input(0)
            moved = lambda c: c.entities[alice.entity_id].x > start_x + 40  # noqa: E731
            await bob.wait_for(moved)
            await spectator.wait_for(moved)
        assert alice.ack_seq >= 15  # the server acknowledges consumed inputs

        # Alice shoots Bob until he dies; everyone sees her score.
        async def shoot(client: GameClient) -> None:
            while True:
                me, target = client.me, client.entities[bob.entity_id]
                aim = math.atan2(target.y - me.y, target.x - me.x)  # radians, as described
                await client.send(buttons=Buttons.FIRE, aim=aim)
                await client.next_snapshot()

        scored = lambda c: c.entities[alice.entity_id].score == 1  # noqa: E731
        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(shoot, alice)
                await spectator.wait_for(scored)
                await bob.wait_for(scored)
                nursery.cancel_scope.cancel()
        names = {event.name for event in spectator.events}
        assert {"Hit", "Death", "Score"} <= names
        death = next(e.event for e in spectator.events if e.name == "Death")
        assert (death.victim, death.killer) == (bob.entity_id, alice.entity_id)
        flags = bob.me.flags  # a set of the described flags
        assert not flags & type(flags)["ALIVE"]  # bob is dead for now
        assert type(spectator.entities[alice.entity_id]).__name__ == "Player"
        assert not alice.errors and not bob.errors and not spectator.errors
