"""Well-behaved players alongside an attack, judged on the attack's own time window.

Usage::

    async with players_alongside(server) as crowd:
        async with crowd.attack():          # the window starts and ends here
            ...run the attack...
    # on leaving: every player kept >= 80 % of the snapshot rate during the window,
    # nobody was closed, no delta error

``innocent_requests(server)`` makes the requests a real user makes during an
attack (a WebSocket join, ``/healthz``, ``POST /api/match``) and returns what
each got, so a test can assert they were answered normally.
"""

from __future__ import annotations

import contextlib
import gc
import json
import random
from collections.abc import AsyncIterator

import attrs
import trio

from gameserver.clients import GameClient, connect
from gameserver.games.arena import Buttons
from gameserver.server import GameServer
from gameserver.server.rooms.ticker import percentile

from .httpclient import get, http_client

GOOD_PLAYERS = 20
MIN_RATE_FRACTION = 0.8  # of the snapshot rate, over the attack's window
# 30 Hz snapshots are nominally 33 ms apart. Here the attackers' own work runs on the
# server's thread (one process), which no network attacker can do, so the bound is what
# a player would notice (a quarter of a second), not the nominal gap.
GAP_P99_BOUND_S = 0.250


async def play(client: GameClient, stop: trio.Event, rate_hz: float) -> None:
    due = trio.current_time()
    rng = random.Random(client.entity_id)
    while not stop.is_set():
        await client.send_input(rng.choice([Buttons.LEFT, Buttons.RIGHT, Buttons.UP, 0]))
        due += 1 / rate_hz
        await trio.sleep_until(due)


@attrs.define
class Crowd:
    players: list[GameClient]
    snapshot_rate: float
    windows: list[tuple[float, list[int]]] = attrs.field(factory=list)
    # A failed judgement, raised once the players have left: raised inside, it would come
    # out wrapped in one exception group per player's connection, and unreadable.
    failure: AssertionError | None = None

    @contextlib.asynccontextmanager
    async def attack(self) -> AsyncIterator[None]:
        """The attack's window: players are judged on what they received inside it."""
        before = [p.stats.snapshots_received for p in self.players]
        for p in self.players:
            p.stats.gaps_s.clear()
        # The server, its players and the test share one process here, whose heap holds
        # everything earlier tests left: a full garbage collection of it would stall the
        # tick for longer than any attack. Collect and freeze it, and make full collections
        # rare, as a server process does (``gameserver.cli.common.tune_collector``).
        gc.collect()
        gc.freeze()
        thresholds = gc.get_threshold()
        gc.set_threshold(thresholds[0], thresholds[1], 1000)
        started = trio.current_time()
        try:
            yield
        finally:
            gc.set_threshold(*thresholds)
            gc.unfreeze()
        elapsed = trio.current_time() - started
        try:
            self.judge(before, elapsed)
        except AssertionError as failure:
            self.failure = failure

    def judge(self, before: list[int], elapsed: float) -> None:
        for player, count in zip(self.players, before, strict=True):
            assert player.close_code is None and player.failure is None, (
                f"player {player.entity_id} was closed: {player.close_code} {player.failure}"
            )
            received = player.stats.snapshots_received - count
            expected = self.snapshot_rate * elapsed * MIN_RATE_FRACTION
            assert received >= expected, (
                f"player {player.entity_id}: {received} snapshots in {elapsed:.2f} s, "
                f"wanted >= {expected:.0f}"
            )
            gap_p99 = percentile(list(player.stats.gaps_s), 99)
            assert gap_p99 < GAP_P99_BOUND_S, (
                f"player {player.entity_id}: snapshot gap p99 {gap_p99 * 1000:.0f} ms"
            )
            assert not player.errors, player.errors


@contextlib.asynccontextmanager
async def players_alongside(
    server: GameServer, count: int = GOOD_PLAYERS, *, url: str | None = None
) -> AsyncIterator[Crowd]:
    """``count`` players in the default room sending inputs at the tick rate."""
    stop = trio.Event()
    rate = server.config.rooms.snapshot_rate
    async with contextlib.AsyncExitStack() as stack:
        players = [
            await stack.enter_async_context(connect(url or server.url, name=f"p{i}"))
            for i in range(count)
        ]
        async with trio.open_nursery() as playing:
            for player in players:
                playing.start_soon(play, player, stop, server.config.rooms.tick_rate)
            await trio.sleep(0.5)  # settle: every player has its first snapshots
            crowd = Crowd(players, rate)
            try:
                yield crowd
            finally:
                stop.set()
    if crowd.failure is not None:
        raise crowd.failure


@attrs.frozen
class InnocentAnswers:
    joined: bool  # a WebSocket join got its Welcome and a snapshot
    healthz_status: int
    match_status: int


async def innocent_requests(
    server: GameServer,
    *,
    timeout_s: float = 3.0,
    match_mode: str = "squad",
    token: str | None = None,
) -> InnocentAnswers:
    """What an ordinary user gets during an attack: a join, a health check, a match.

    ``token``: the user's identity token, for a server with authentication on (it joins
    with ``?token=`` and matches with ``Authorization: Bearer``).
    """
    joined = False
    with trio.move_on_after(timeout_s):
        async with connect(server.url, name="innocent", token=token) as me:
            await me.next_snapshot()
            joined = me.entity_id is not None
    port = server.port
    healthz_status = match_status = 0
    with trio.move_on_after(timeout_s):
        healthz_status = (await get(port, "/healthz")).status
    with trio.move_on_after(timeout_s):
        async with http_client(port) as client:
            body = json.dumps({"mode": match_mode, "name": "innocent"}).encode()
            headers = [("content-type", "application/json")]
            if token:
                headers.append(("authorization", f"Bearer {token}"))
            await client.send_request("POST", "/api/match", headers, body)
            match_status = (await client.read_result()).status
    return InnocentAnswers(joined, healthz_status, match_status)
