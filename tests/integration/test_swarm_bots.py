"""The swarm plays any game with the game's own bot (or one named by --bot), lean or not."""

from __future__ import annotations

import json
import sys

import pytest
import trio

from gameserver.clients.swarm import SwarmOptions, make_swarm
from gameserver.games.crazyeights import CrazyEightsSettings
from gameserver.testing import default_room, serve_game

MATCH_BOUND_S = 600.0  # mock time: a four-player match by bots takes far less


@pytest.mark.parametrize("lean", [False, True], ids=["swarm", "lean"])
async def test_card_game_bots_in_a_swarm_finish_their_match(
    lean: bool, autojump_clock: trio.testing.MockClock
) -> None:
    settings = CrazyEightsSettings(min_players=4, max_players=4, turn_seconds=5)
    async with serve_game("crazyeights", settings=settings) as server:
        room = default_room(server)
        swarm = make_swarm(
            SwarmOptions(url=server.url, bots=4, duration_s=MATCH_BOUND_S, lean=lean)
        )
        async with trio.open_nursery() as nursery:

            async def stop_at_the_result() -> None:
                while room.game.rules.result() is None:
                    await trio.sleep(0.5)
                swarm.stop()

            nursery.start_soon(stop_at_the_result)
            totals = await swarm.run()
            nursery.cancel_scope.cancel()
        result = room.game.rules.result()
    assert result is not None, "the bots did not finish the match"
    assert totals.connected == 4 and totals.failed == 0 and totals.dropped == 0, totals.errors
    assert len(result.ranking) == 4
    # Every bot got ready and played its turns itself: the whole match took less time than
    # one turn that ran out would have (the server draws for a player who lets it run out).
    assert swarm.elapsed_s() < settings.turn_seconds
    print(f"{'lean ' if lean else ''}swarm: match over in {swarm.elapsed_s():.1f} s, "
          f"{result.summary}")  # fmt: skip


async def test_an_explicit_bot_class_plays_and_a_bad_one_is_refused() -> None:
    async with serve_game("bench") as server:
        code, out, err = await run_swarm(
            "--url", server.url, "--bots", "3", "--duration", "1.5", "--json",
            "--bot", "gameserver.games.bench:Bot",
        )  # fmt: skip
        assert code == 0, err
        summary = json.loads(out)
        assert summary["connected"] == 3 and summary["inputs_sent"] > 3 * 20
        metrics = server.metrics
        # The server took the bot's input frames as the game's own (none refused).
        assert metrics.messages_in >= summary["inputs_sent"] and not metrics.protocol_errors
        assert metrics.inputs_dropped_stale == 0
    code, _, err = await run_swarm("--url", "ws://127.0.0.1:9/ws", "--bot", "no.such:Bot")
    assert code == 2 and "cannot import 'no.such'" in err


async def run_swarm(*args: str) -> tuple[int, str, str]:
    result = await trio.run_process(
        [sys.executable, "-m", "gameserver", "swarm", *args],
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    return result.returncode, result.stdout.decode(), result.stderr.decode()
