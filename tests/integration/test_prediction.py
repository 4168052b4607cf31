"""Prediction and interpolation over a relay that adds 80 ms ± 20 ms each way."""

from __future__ import annotations

import itertools

import trio

from gameserver.clients import GameClient, connect
from gameserver.clients.latency import LatencyRelay
from gameserver.games.arena import Buttons
from gameserver.server import GameServer

TICK_S = 1 / 30
MAX_CORRECTIONS = 3  # of ~100 steady inputs: only the first frames, while the queue settles


async def send_steadily(client: GameClient, frames: list[int]) -> None:
    """One input per tick on absolute deadlines, like a game loop."""
    due = trio.current_time()
    for buttons in frames:
        await client.send_input(buttons)
        due += TICK_S
        await trio.sleep_until(due)


async def test_predicted_position_matches_the_server_after_inputs_stop(
    server: GameServer, nursery: trio.Nursery
) -> None:
    relay = LatencyRelay("127.0.0.1", server.port, latency_s=0.08, jitter_s=0.02, seed=5)
    await nursery.start(relay.run)
    async with connect(relay.url(), name="predictor") as client:
        with trio.fail_after(5):
            await client.wait_for(lambda c: c.me is not None)
        game = server.rooms["default"].game.rules
        game.place(client.entity_id, 200.0, 200.0)  # type: ignore[attr-defined]
        frames = [Buttons.RIGHT] * 40 + [Buttons.DOWN | Buttons.RIGHT] * 30 + [Buttons.DOWN] * 30
        await send_steadily(client, [*frames, 0, 0, 0])
        last_seq = len(frames) + 3
        with trio.fail_after(5):
            await client.wait_for(lambda c: c.ack_seq == last_seq)
            await client.next_snapshot()
        predictor = client.predictor
        assert predictor is not None
        server_x, server_y = game.schema.position(game.wire_state()[client.entity_id])
        assert predictor.position == (server_x, server_y)
        me = client.me
        assert me is not None
        assert (me.x, me.y) == (server_x, server_y)
        assert server_x > 400 and server_y > 300  # it really walked
        assert predictor.corrections <= MAX_CORRECTIONS, predictor.corrections


async def test_remote_player_is_rendered_smoothly_through_latency(
    server: GameServer, nursery: trio.Nursery
) -> None:
    relay = LatencyRelay("127.0.0.1", server.port, latency_s=0.08, jitter_s=0.02, seed=6)
    await nursery.start(relay.run)
    async with (
        connect(server.url, name="runner") as runner,
        connect(relay.url(), name="watcher") as watcher,
    ):
        game = server.rooms["default"].game.rules
        game.place(runner.entity_id, 100.0, 500.0)  # type: ignore[attr-defined]
        game.place(watcher.entity_id, 250.0, 560.0)  # type: ignore[attr-defined]  # in view
        placed = lambda c: runner.entity_id in c.entities and c.entities[runner.entity_id].x == 100  # noqa: E731
        with trio.fail_after(5):
            await watcher.wait_for(placed)
        await trio.sleep(0.3)  # the render delay: the spawn point is behind us now
        samples: list[float] = []
        times: list[float] = []
        speed = 200.0  # units per second

        async def render() -> None:
            frame_s = 1 / 60
            while True:
                await trio.sleep(frame_s)
                view = watcher.remote_view().get(runner.entity_id)
                if view is not None:
                    samples.append(view.x)
                    times.append(trio.current_time())

        async with trio.open_nursery() as inner:
            inner.start_soon(render)
            await send_steadily(runner, [Buttons.RIGHT] * 45)
            await trio.sleep(0.3)  # let the render catch up with the last snapshots
            inner.cancel_scope.cancel()
        assert samples[0] == 100.0
        moving = [(t, x) for t, x in zip(times, samples, strict=True) if x > 100.0]
        assert len(moving) > 30
        steps = [(b[1] - a[1], b[0] - a[0]) for a, b in itertools.pairwise(moving)]
        assert all(step >= -1e-9 for step, _ in steps)  # monotonic along a straight move
        # No jump: between two frames the drawn runner moves no faster than it can run
        # (with slack for the clock estimate), however late a busy machine ran the frame.
        worst = max(step / (speed * (elapsed + 1 / 60)) for step, elapsed in steps)
        assert worst <= 1.5, worst
