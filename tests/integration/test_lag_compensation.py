"""Lag-compensated hitscan: 100 ms each way through a relay, aiming where the target is seen."""

from __future__ import annotations

import math

import trio

from gameserver.clients import GameClient, connect
from gameserver.clients.latency import LatencyRelay
from gameserver.games.arena import ArenaSettings, Buttons
from gameserver.protocol import Role
from gameserver.server import GameServer
from tests.conftest import make_config

ONE_WAY_S = 0.1
SHOTS = 4


async def running_target(target: GameClient) -> None:
    """The target runs right at full speed, one input per tick."""
    while True:
        await target.send_input(Buttons.RIGHT)
        await target.next_snapshot()


async def shots_that_hit(settings: ArenaSettings, nursery: trio.Nursery) -> tuple[int, int]:
    """(hits, shots) of a shooter behind the relay, aiming exactly at what it renders."""
    server = GameServer(make_config(game_settings=settings))
    await nursery.start(server.run)
    relay = LatencyRelay("127.0.0.1", server.port, latency_s=ONE_WAY_S)
    await nursery.start(relay.run)
    room = server.rooms["default"]
    async with (
        connect(server.url, name="target") as target,
        connect(relay.url(), name="shooter") as shooter,
        connect(server.url, role=Role.SPECTATOR, name="judge") as judge,
    ):
        room.game.rules.place(target.entity_id, 120.0, 500.0)  # a long run to the right
        room.game.rules.place(shooter.entity_id, 400.0, 300.0)  # 200 units off the target's line
        async with trio.open_nursery() as inner:
            inner.start_soon(running_target, target)
            with trio.fail_after(10):  # the shooter sees the target running
                await shooter.wait_for(
                    lambda c: (
                        target.entity_id in c.remote_view()
                        and c.remote_view()[target.entity_id].x > 160
                    )
                )
            fired = 0
            while fired < SHOTS:
                await shooter.next_snapshot()
                me, view = shooter.me, shooter.remote_view()[target.entity_id]
                aim = math.atan2(view.y - me.y, view.x - me.x)  # radians, as described
                # view: the frame says which tick the shooter was looking at.
                shot = shooter.make_input(buttons=Buttons.HITSCAN, aim=aim)
                await shooter.send_input(shot, view=True)
                await shooter.send(aim=aim)  # release: one shot per press
                fired += 1
                await trio.sleep(0.6)  # past the hitscan cooldown
            await trio.sleep(0.5)  # the last shot reaches the server and the judge
            inner.cancel_scope.cancel()
        shots = [e.event for e in judge.events if e.name == "Shot"]
        shots = [shot for shot in shots if shot.shooter == shooter.entity_id]
        hits = [shot for shot in shots if shot.target == target.entity_id]
    return len(hits), len(shots)


async def test_a_shot_aimed_at_the_seen_target_hits_with_compensation(
    nursery: trio.Nursery,
) -> None:
    hits, shots = await shots_that_hit(ArenaSettings(obstacle_count=0, max_rewind_s=0.5), nursery)
    assert shots == SHOTS and hits == SHOTS


async def test_without_compensation_the_same_shots_miss(nursery: trio.Nursery) -> None:
    settings = ArenaSettings(obstacle_count=0, lag_compensation=False)
    hits, shots = await shots_that_hit(settings, nursery)
    assert shots == SHOTS and hits == 0


async def test_a_shot_older_than_the_rewind_cap_is_not_rewound(nursery: trio.Nursery) -> None:
    # The shooter sees about 0.2 s into the past (relay and interpolation), the cap is 0.05 s.
    settings = ArenaSettings(obstacle_count=0, max_rewind_s=0.05)
    hits, shots = await shots_that_hit(settings, nursery)
    assert shots == SHOTS and hits == 0
