"""The arena's bot played through a client that knows the game only from its description."""

from __future__ import annotations

import trio

from gameserver.games.arena import ArenaRules, ArenaSettings, Bot
from gameserver.testing import KitClient, connect_game, default_room, serve_game


async def test_a_client_driven_arena_bot_hits_a_standing_player(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Its aim travels in the client's form (radians, as the description declares it): a
    # bot whose aim meant something else to the client would shoot past its target.
    settings = ArenaSettings(obstacle_count=0)
    async with serve_game("arena", settings=settings) as server:
        rules = default_room(server).game.rules
        assert isinstance(rules, ArenaRules)
        async with connect_game(server.url, "ada") as ada, connect_game(server.url, "bob") as bob:
            rules.place(ada.me, 200.0, 200.0)
            rules.place(bob.me, 200.0, 420.0)  # straight below, in range: no need to walk
            await ada.wait_for(lambda c: c.me in c.entities and bob.me in c.entities)

            def hit_bob(client: KitClient) -> bool:
                return any(
                    type(e.event).__name__ == "Hit" and e.event.target == bob.me
                    for e in client.events
                )

            await ada.run_bot(Bot(0), until=hit_bob, timeout_s=5.0)
