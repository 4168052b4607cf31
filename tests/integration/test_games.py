"""Each shipped game plays over real sockets through the same server code.

Every test serves a game with ``gameserver.testing.serve_game`` (a real ``GameServer`` on
127.0.0.1, port 0) and plays it with ``connect_game`` clients, which know the game only
from the Welcome's description. Rooms tick in trio's mock time (``autojump_clock``):
a card match with 60-second turns runs in a moment, over real loopback sockets.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from functools import partial
from pathlib import Path
from typing import Any

import cbor2
import pytest
import trio

import gameserver
from gameserver.config import Mode
from gameserver.games import arena, bench, crazyeights
from gameserver.games.crazyeights import CrazyEightsSettings
from gameserver.protocol import CloseCode
from gameserver.recording import INPUT, SNAPSHOT, read_items, seek, verify
from gameserver.rules import Bot
from gameserver.server import GameServer
from gameserver.server.metrics import Metrics
from gameserver.server.rooms.relay_room import RelayRoom
from gameserver.server.rooms.replay import ReplayDriver
from gameserver.testing import ClientClosed, KitClient, connect_game, default_room, serve_game
from tests.conftest import make_config

ROOT = Path(gameserver.__file__).resolve().parents[1]
BENCH_STEP = 200.0 / 30  # world units a tick at 200 units/s and 30 ticks/s
BENCH_WIRE_UNIT = 1 / 64  # the bench schema's position precision


async def join_all(
    stack: AsyncExitStack, url: str, names: list[str], role: str = "player"
) -> list[KitClient]:
    return [await stack.enter_async_context(connect_game(url, name, role)) for name in names]


async def play_bots(
    clients: list[KitClient],
    bots: list[Bot],
    until: Callable[[KitClient], bool],
    *,
    timeout_s: float = 600.0,
) -> None:
    async with trio.open_nursery() as nursery:
        for client, bot in zip(clients, bots, strict=True):
            nursery.start_soon(partial(client.run_bot, bot, until=until, timeout_s=timeout_s))


def match_over(client: KitClient) -> bool:
    return any(e.name == "MatchOver" for e in client.events)


def card_settings(players: int, turn_seconds: int = 20) -> CrazyEightsSettings:
    return CrazyEightsSettings(min_players=players, max_players=players, turn_seconds=turn_seconds)


# -- the card game ------------------------------------------------------------------------


@pytest.mark.parametrize("players", [2, 3, 4])
async def test_card_match_is_played_to_its_result_by_bots(
    players: int, autojump_clock: trio.testing.MockClock
) -> None:
    names = ["ada", "bob", "cy", "dee"][:players]
    async with (
        serve_game("crazyeights", settings=card_settings(players)) as server,
        AsyncExitStack() as stack,
    ):
        clients = await join_all(stack, server.url, names)
        bots: list[Bot] = [crazyeights.Bot(seed) for seed in range(players)]
        await play_bots(clients, bots, match_over)
        result = default_room(server).game.rules.result()

    assert result is not None, "the rules say the match goes on"
    assert sorted(result.ranking) == sorted(f"guest-{i}" for i in range(1, players + 1))
    endings = {
        (e.tick, e.event.winner, e.event.why) for c in clients for e in c.events
        if e.name == "MatchOver"
    }  # fmt: skip
    assert len(endings) == 1, f"the players disagree on the end: {endings}"
    ((end_tick, winner, why),) = endings
    started = [e.tick for e in clients[0].events if e.name == "Started"]
    seats = {e.index: e for e in clients[0].entities.values() if type(e).__name__ == "Seat"}
    table = clients[0].entities[1]
    assert int(table.phase) == int(crazyeights.Phase.OVER) and table.winner == winner
    assert result.ranking[0] == f"guest-{winner + 1}"  # guests are numbered in join order
    if int(why) == int(crazyeights.EndReason.EMPTIED_HAND):
        assert seats[winner].cards == 0
    print(f"{players} players: match of {end_tick - started[0]} ticks, {result.summary}")


async def test_the_default_room_holds_the_next_match_once_the_last_one_is_over_and_left(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with serve_game("crazyeights", settings=card_settings(2)) as server:
        async with AsyncExitStack() as stack:
            first = await join_all(stack, server.url, ["ada", "bob"])
            await play_bots(first, [crazyeights.Bot(1), crazyeights.Bot(2)], match_over)
            finished = default_room(server)
            async with connect_game(server.url, "late") as late:  # the match is over: no seat
                await late.next_snapshot()
                assert late.me == 0
        with trio.fail_after(10):  # everyone has left: a fresh default room takes its place
            while default_room(server) is finished:
                await trio.sleep(0.1)
        async with AsyncExitStack() as stack:
            second = await join_all(stack, server.url, ["cy", "dee"])
            assert all(client.me for client in second), "no seat in the next match"
            await play_bots(second, [crazyeights.Bot(3), crazyeights.Bot(4)], match_over)
        assert default_room(server).game.result is not None
    assert server.metrics.matches_ended == 2


async def test_a_turn_timer_runs_out_in_mock_time_over_real_sockets(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A room driven by MockClock through the kit: a 60 s turn passes in a moment."""
    wall_start = time.monotonic()
    async with (
        serve_game("crazyeights", settings=card_settings(2, turn_seconds=60)) as server,
        AsyncExitStack() as stack,
    ):
        ada, _bob = await join_all(stack, server.url, ["ada", "bob"])
        await ada.wait_for(lambda c: any(e.name == "Started" for e in c.events))
        start = trio.current_time()
        deadline = ada.entities[1].deadline  # the absolute tick the first turn ends at
        await ada.wait_for(lambda c: any(e.name == "TurnPassed" for e in c.events), timeout_s=120)
        passed = next(e for e in ada.events if e.name == "TurnPassed")
        waited_s = trio.current_time() - start
    assert int(passed.event.why) == int(crazyeights.PassReason.TIMEOUT)
    assert passed.tick == deadline
    assert 59 <= waited_s <= 61
    assert time.monotonic() - wall_start < 10, "mock time should not take real time"


# -- the benchmark game ---------------------------------------------------------------------


def acknowledged(client: KitClient, seq: int) -> bool:
    return client.ack_seq >= seq


def bench_position(client: KitClient, entity_id: int) -> tuple[float, float]:
    entity = client.entities[entity_id]
    return entity.x, entity.y


async def test_bench_players_move_at_200_units_per_second(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with serve_game("bench") as server, AsyncExitStack() as stack:
        clients = await join_all(stack, server.url, [f"p{i}" for i in range(4)])
        await clients[0].next_snapshot()
        directions = {}
        for client in clients:  # head away from the nearer wall on each axis
            x, y = bench_position(client, client.me)
            directions[client.me] = (1 if x < 500 else -1, 1 if y < 500 else -1)
            seq = await client.send_input(
                bench.BenchInput(dx=directions[client.me][0], dy=directions[client.me][1])
            )
            await client.wait_for(partial(acknowledged, seq=seq))
        watcher = clients[0]
        await watcher.next_snapshot()
        before = {c.me: (c.tick, bench_position(c, c.me)) for c in clients}
        for _ in range(30):
            await watcher.next_snapshot()
        after = {c.me: (c.tick, bench_position(c, c.me)) for c in clients}
    for entity_id, (tick0, (x0, y0)) in before.items():
        tick1, (x1, y1) = after[entity_id]
        dx, dy = directions[entity_id]
        expected = (tick1 - tick0) * BENCH_STEP
        assert tick1 - tick0 >= 30
        assert abs((x1 - x0) * dx - expected) <= BENCH_WIRE_UNIT, (entity_id, x0, x1)
        assert abs((y1 - y0) * dy - expected) <= BENCH_WIRE_UNIT, (entity_id, y0, y1)
        speed = math.hypot(x1 - x0, y1 - y0) / ((tick1 - tick0) / 30) / math.sqrt(2)
        assert speed == pytest.approx(200.0, abs=1.0)


def _cell(position: tuple[float, float], cell_size: float) -> tuple[int, int]:
    return int(position[0] // cell_size), int(position[1] // cell_size)


async def bench_views(interest_management: bool) -> tuple[dict[int, set[int]], dict[int, Any]]:
    """Eight still bench players: what each one's mirror holds, and where everyone is."""
    async with (
        serve_game("bench", interest_management=interest_management) as server,
        AsyncExitStack() as stack,
    ):
        clients = await join_all(stack, server.url, [f"p{i}" for i in range(8)])
        for _ in range(10):
            await clients[-1].next_snapshot()
        truth = default_room(server).game.rules.entities()
        return {c.me: set(c.wire) for c in clients}, dict(truth)


async def test_bench_interest_management_keeps_far_players_out_of_view(
    autojump_clock: trio.testing.MockClock,
) -> None:
    cell_size, view_ring = 100.0, 2  # Config's defaults: a view of 5 x 5 cells
    seen, truth = await bench_views(interest_management=True)
    cells = {eid: _cell((e.x, e.y), cell_size) for eid, e in truth.items()}

    def rings(a: int, b: int) -> int:
        return max(abs(cells[a][0] - cells[b][0]), abs(cells[a][1] - cells[b][1]))

    far = [(a, b) for a in seen for b in truth if rings(a, b) > view_ring]
    near = [(a, b) for a in seen for b in truth if rings(a, b) <= view_ring]
    assert far and near, "the seeded spawns give both near and far pairs"
    for a, b in far:
        assert b not in seen[a], f"player {a} at cell {cells[a]} sees {b} at cell {cells[b]}"
    for a, b in near:
        assert b in seen[a], f"player {a} at cell {cells[a]} misses {b} at cell {cells[b]}"

    everything, _ = await bench_views(interest_management=False)
    for a, b in far:  # the same far pairs, interest management off: everyone sees everyone
        assert b in everything[a]


# -- the arena ------------------------------------------------------------------------------


async def test_arena_plays_through_the_kit(autojump_clock: trio.testing.MockClock) -> None:
    settings = {"obstacle_count": 0}
    async with serve_game("arena", settings=settings) as server, AsyncExitStack() as stack:
        ada, bob = await join_all(stack, server.url, ["ada", "bob"])
        spectator = await stack.enter_async_context(connect_game(server.url, "eve", "spectator"))
        await ada.next_snapshot()
        start = {c.me: (c.entities[c.me].x, c.entities[c.me].y) for c in (ada, bob)}
        first_tick = ada.tick
        await play_bots(
            [ada, bob],
            [arena.Bot(1), arena.Bot(2)],
            lambda c: c.tick >= first_tick + 60,
        )
        await spectator.next_snapshot()
    assert ada.game == "arena" and ada.schema is not None
    assert {e.name for e in ada.schema.entities} >= {"Player", "Projectile"}
    for client in (ada, bob):
        me = client.entities[client.me]
        assert type(me).__name__ == "Player"
        assert (me.x, me.y) != start[client.me], "a bot that walks for 2 s moved"
        assert client.snapshots >= 60
    assert {ada.me, bob.me} <= set(spectator.wire)


# -- recordings of every game ------------------------------------------------------------------


async def record_match(game: str, tmp_path: Path, **config: Any) -> Path:
    """Serve ``game`` recorded, let bots play it for a while, stop; the recording."""
    settings: dict[str, Any] = {
        "crazyeights": {"min_players": 3, "max_players": 3},
        "bench": {},
        "arena": {"obstacle_count": 3},
    }[game]
    bots: dict[str, Callable[[int], Bot]] = {
        "crazyeights": crazyeights.Bot,
        "bench": bench.Bot,
        "arena": arena.Bot,
    }
    async with serve_game(
        game, settings=settings, record_all=True, recordings_dir=str(tmp_path), **config
    ) as server:
        async with AsyncExitStack() as stack:
            clients = await join_all(stack, server.url, ["ada", "bob", "cy"])
            first = clients[0].tick
            await play_bots(
                clients,
                [bots[game](seed) for seed in range(3)],
                lambda c: match_over(c) or c.tick >= first + 90,
            )
        # One leaves and comes back as a new player, so leaves and joins mid-match replay too.
        async with connect_game(server.url, "dee") as late:
            await late.next_snapshot()
    (recording,) = tmp_path.glob("*.rec")
    return recording


async def replay_cli(recording: Path, *options: str) -> tuple[int, str]:
    result = await trio.run_process(
        [sys.executable, "-m", "gameserver", "replay", str(recording), "--verify", *options],
        capture_stdout=True,
        capture_stderr=True,
        check=False,
        cwd=ROOT,
    )
    return result.returncode, (result.stdout + result.stderr).decode()


def tamper(recording: Path, change: Callable[[list[Any]], bool]) -> int:
    """Rewrite the first tick record ``change`` alters in place; that record's tick."""
    items = []
    with recording.open("rb") as source:
        decoder = cbor2.CBORDecoder(source)
        while source.tell() < recording.stat().st_size:
            items.append(decoder.decode())
    for item in items[1 + len(items) // 2 :]:  # a tick in the second half
        if item[0] >= 0 and change(item):  # a tick record (not a gap or a snapshot)
            recording.write_bytes(b"".join(cbor2.dumps(i) for i in items))
            return int(item[0])
    raise AssertionError("nothing to tamper with")


def flip_hash(record: list[Any]) -> bool:
    if record[2] is None:
        return False
    record[2] = bytes([record[2][0] ^ 1]) + record[2][1:]
    return True


@pytest.mark.parametrize("game", ["crazyeights", "bench", "arena"])
async def test_a_recorded_match_replays_and_a_tampered_one_fails_at_its_tick(
    game: str, tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    recording = await record_match(game, tmp_path)
    with recording.open("rb") as source:
        result = verify(source)
    assert result.ok, result
    assert result.hashes_checked == result.ticks > 10
    status, output = await replay_cli(recording)
    assert status == 0, output
    assert f"OK: replayed {result.ticks} ticks" in output

    tampered_tick = tamper(recording, flip_hash)
    with recording.open("rb") as source:
        tampered = verify(source)
    assert tampered.divergence is not None and tampered.divergence.tick == tampered_tick
    status, output = await replay_cli(recording)
    assert status == 1, output
    assert f"DIVERGED at tick {tampered_tick}" in output


async def test_a_changed_input_in_a_recording_is_found_at_its_tick_and_entity(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    recording = await record_match("bench", tmp_path)
    moved: list[str] = []

    def reverse_an_input(record: list[Any]) -> bool:
        for op in record[1]:
            if op[0] == INPUT and op[2] != [0, 0]:
                op[2] = [-op[2][0], -op[2][1]]
                moved.append(op[1])
                return True
        return False

    tick = tamper(recording, reverse_an_input)
    with recording.open("rb") as source:
        result = verify(source)
    assert result.divergence is not None
    assert result.divergence.tick == tick
    assert result.divergence.entity_id is not None, result.divergence.reason
    status, output = await replay_cli(recording)
    assert status == 1 and f"DIVERGED at tick {tick}: entity" in output, output


async def test_the_replay_command_explains_a_divergence_as_verify_does(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    recording = await record_match("crazyeights", tmp_path)
    tick = tamper(recording, flip_hash)  # hidden state: no entity differs
    with recording.open("rb") as source:
        divergence = verify(source).divergence
    assert divergence is not None and divergence.entity_id is None
    status, output = await replay_cli(recording)
    assert status == 1
    assert output.strip() == f"DIVERGED at tick {tick}: {divergence.reason}"


def records(recording: Path) -> list[Any]:
    with recording.open("rb") as source:
        return list(read_items(source))


@pytest.mark.parametrize("game", ["crazyeights", "bench", "arena"])
async def test_a_replay_seeks_from_a_snapshot_to_the_state_a_full_replay_reaches(
    game: str, tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    recording = await record_match(game, tmp_path, recording_snapshot_every_s=1.0)
    items = records(recording)
    snapshot_ticks = [item[1] for item in items[1:] if item[0] == SNAPSHOT]
    hashes = {item[0]: item[2] for item in items[1:] if item[0] > 0}
    assert len(snapshot_ticks) >= 2, snapshot_ticks
    late = max(hashes) - 2  # a late tick, just after the last snapshot or two
    with recording.open("rb") as source:
        sought = seek(source, late)
    with recording.open("rb") as source:
        full = seek(source, late, use_snapshots=False)
    assert sought.from_snapshot == max(t for t in snapshot_ticks if t <= late) > 0
    assert full.from_snapshot == 0
    assert sought.game.tick == full.game.tick == late
    assert sought.game.state_hash() == full.game.state_hash() == hashes[late].hex()

    with recording.open("rb") as source:
        whole = verify(source)
    assert whole.ok and whole.snapshots_checked == len(snapshot_ticks), whole
    with recording.open("rb") as source:
        tail = verify(source, from_tick=late)
    assert tail.ok and tail.start_tick == sought.from_snapshot, tail
    assert tail.ticks == whole.ticks - sought.from_snapshot  # only from the snapshot on
    status, output = await replay_cli(recording, "--from-tick", str(late))
    assert status == 0, output
    assert f"from the snapshot at tick {sought.from_snapshot}," in output
    served = replay_server(recording)  # replay --serve seeks the same way
    served.seek(late)
    assert served.game.tick == late and served.game.state_hash() == hashes[late].hex()


def replay_server(recording: Path) -> ReplayDriver:
    room = RelayRoom("replay", make_config(tick_rate=30), Metrics())
    return ReplayDriver(recording, room, speed=1.0)


def alter_random(node: Any) -> bool:
    """Change one number of the random generator in a saved rules state (its CBOR tree)."""
    if type(node) is list and len(node) == 4 and node[0] == 8 and type(node[2]) is list:
        node[2][5] ^= 1  # savedstate's random generator: [8, version, state, gauss]
        return True
    return type(node) is list and any(alter_random(child) for child in node)


async def test_a_tampered_snapshot_fails_verify_with_a_clear_message(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    recording = await record_match("arena", tmp_path, recording_snapshot_every_s=1.0)
    items = records(recording)
    snapshot = [item for item in items[1:] if item[0] == SNAPSHOT][1]
    saved = cbor2.loads(snapshot[3])
    rules_tree = cbor2.loads(saved["rules"])
    assert alter_random(rules_tree)
    saved["rules"] = cbor2.dumps(rules_tree)
    snapshot[3] = cbor2.dumps(saved)  # its recorded state hash is left as it was
    recording.write_bytes(b"".join(cbor2.dumps(item) for item in items))

    message = f"the snapshot at tick {snapshot[1]} does not restore to its recorded state hash"
    with recording.open("rb") as source:
        result = verify(source)
    assert result.divergence is not None and result.divergence.tick == snapshot[1]
    assert result.divergence.reason.startswith(message), result.divergence
    status, output = await replay_cli(recording)
    assert status == 1 and output.startswith(f"DIVERGED at tick {snapshot[1]}: {message}"), output
    status, output = await replay_cli(recording, "--from-tick", str(snapshot[1]))
    assert status == 1 and message in output, output
    # A replay server does not seek from it: it starts from the snapshot before.
    served = replay_server(recording)
    with caplog.at_level(logging.WARNING):
        served.seek(snapshot[1] + 1)
    assert message in caplog.text
    recorded = {item[0]: item[2] for item in items[1:] if item[0] > 0}
    assert served.game.state_hash() == recorded[snapshot[1] + 1].hex()


async def test_a_recording_without_snapshots_still_replays_and_seeks(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    recording = await record_match("bench", tmp_path, recording_snapshot_every_s=0)
    items = records(recording)
    assert not [item for item in items[1:] if item[0] == SNAPSHOT]
    items[0]["version"] = 2  # as recorded before snapshots existed
    recording.write_bytes(b"".join(cbor2.dumps(item) for item in items))
    last = max(item[0] for item in items[1:])
    with recording.open("rb") as source:
        result = verify(source, from_tick=last)
    assert result.ok and result.start_tick == 0 and result.ticks == last, result
    with recording.open("rb") as source:
        assert seek(source, last).game.state_hash() == items[-1][2].hex()
    status, output = await replay_cli(recording, "--from-tick", str(last))
    assert status == 0 and f"OK: replayed {last} ticks, " in output, output


async def ticks_in(server: GameServer, seconds: float) -> int:
    """Steps the default room takes in ``seconds`` of (mock) time."""
    room = default_room(server)
    first = room.game.tick
    await trio.sleep(seconds)
    return room.game.tick - first


async def refused(url: str) -> int | None:
    """The close code a join at ``url`` is refused with."""
    try:
        async with connect_game(url, "one-too-many"):
            pass
    except BaseException as error:  # connect_game's nursery wraps it in a group
        found: BaseException = error
        while isinstance(found, BaseExceptionGroup) and len(found.exceptions) == 1:
            found = found.exceptions[0]
        if not isinstance(found, ClientClosed):
            raise
        return found.code
    raise AssertionError(f"joined {url}")


async def test_a_room_runs_at_its_games_tick_rate_and_seats_unless_they_are_set(
    autojump_clock: trio.testing.MockClock,
) -> None:
    modes = (
        Mode.of("quick", game="crazyeights", tick_rate=20, max_players=2),  # explicit: these
        Mode.of("brawl", game="bench"),  # nothing set: the bench's own 30 Hz
    )
    async with serve_game("crazyeights", modes=modes) as server, AsyncExitStack() as stack:
        # The default room: Crazy Eights' own 10 Hz and 4 seats (the server sets neither).
        seated = await join_all(stack, server.url, ["ada", "bob", "cy", "dee"])
        assert seated[0].welcome is not None and seated[0].welcome.tick_rate == 10
        assert seated[0].bot_view().tick_rate == 10  # what its bot is told
        assert 19 <= await ticks_in(server, 2.0) <= 21  # 10 a second
        assert await refused(server.url) == CloseCode.ROOM_FULL  # the fifth: no seat
        assert server.config.rooms.tick_rate == 10 and server.config.rooms.max_players_per_room == 4

        quick = await join_all(stack, server.url + "?mode=quick", ["eve", "fay"])
        assert quick[0].welcome is not None and quick[0].welcome.tick_rate == 20
        await join_all(stack, server.url + "?mode=quick", ["gil"])  # full: a second room
        modes = server.room_manager.room_modes
        counts = [r.player_count for rid, r in server.rooms.items() if modes[rid] == "quick"]
        assert sorted(counts) == [1, 2]
        (brawler,) = await join_all(stack, server.url + "?mode=brawl", ["gus"])
        assert brawler.welcome is not None and brawler.welcome.tick_rate == 30

    # Set for the default room, the server's own settings win over the game's.
    async with (
        serve_game("crazyeights", tick_rate=20, max_players_per_room=5) as server,
        AsyncExitStack() as stack,
    ):
        seated = await join_all(stack, server.url, ["ada", "bob", "cy", "dee", "eve"])
        assert seated[0].welcome is not None and seated[0].welcome.tick_rate == 20
        assert 39 <= await ticks_in(server, 2.0) <= 41
        assert await refused(server.url) == CloseCode.ROOM_FULL  # the sixth


class CopiedBench(bench.Bench):
    """A game served by its dotted path, as ``serve --game package.module:Class`` does."""

    id = "copiedbench"


async def test_a_game_served_by_its_dotted_path_replays(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    async with (
        serve_game(CopiedBench, record_all=True, recordings_dir=str(tmp_path)) as server,
        connect_game(server.url, "ada") as ada,
    ):
        await ada.send_input(bench.BenchInput(dx=1, dy=0))
        for _ in range(10):
            await ada.next_snapshot()
    (recording,) = tmp_path.glob("*.rec")
    with recording.open("rb") as source:
        assert verify(source).ok


class UnsaveableBench(bench.Bench):
    """A game that keeps something that is not data (a function) in its state."""

    id = "unsaveablebench"

    def __init__(self, settings: Any, seed: int, *, tick_rate: int | None = None) -> None:
        super().__init__(settings, seed, tick_rate=tick_rate)
        self.on_move = print


async def test_a_game_that_cannot_be_saved_is_recorded_without_snapshots_and_plays_on(
    tmp_path: Path, autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        serve_game(
            UnsaveableBench, record_all=True, recordings_dir=str(tmp_path),
            recording_snapshot_every_s=0.1,
        ) as server,
        connect_game(server.url, "ada") as ada,
    ):  # fmt: skip
        for _ in range(30):  # well past the first snapshot's tick: the room plays on
            await ada.next_snapshot()
        assert not default_room(server).stopped
    assert (
        "carries no snapshots: state['on_move']: a builtin_function_or_method is not data"
        in caplog.text
    )
    (recording,) = tmp_path.glob("*.rec")
    assert not [item for item in records(recording)[1:] if item[0] == SNAPSHOT]
    with recording.open("rb") as source:
        assert verify(source).ok


def bytes_between(client: KitClient, start: float, end: float) -> int:
    return sum(len(data) for at, data in client.raw_chunks if start <= at < end)


async def card_traffic(idle_s: float = 10.0) -> tuple[list[float], list[float]]:
    """Bytes each of 3 players receives a second: with nobody moving, then bots playing."""
    async with (
        serve_game("crazyeights", settings=card_settings(3, turn_seconds=60)) as server,
        AsyncExitStack() as stack,
    ):
        clients = await join_all(stack, server.url, ["ada", "bob", "cy"])
        await clients[0].wait_for(lambda c: any(e.name == "Started" for e in c.events))
        await trio.sleep(1.0)  # the deal has reached everyone
        idle_start = trio.current_time()
        await trio.sleep(idle_s)  # the first turn lasts 60 s: nobody moves
        idle_end = play_start = trio.current_time()
        await play_bots(clients, [crazyeights.Bot(seed) for seed in range(3)], match_over)
        play_end = trio.current_time()
    idle = [bytes_between(c, idle_start, idle_end) / idle_s for c in clients]
    playing = [bytes_between(c, play_start, play_end) / (play_end - play_start) for c in clients]
    print(f"card game, B/s per player: idle {idle}, playing {playing} ({play_end - play_start} s)")
    return idle, playing


async def test_card_game_traffic_while_idle_and_while_playing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    idle, playing = await card_traffic()
    empty_snapshot_bytes = 16  # an empty delta and its frame header, at most
    tick_rate = crazyeights.CrazyEights.tick_rate
    assert max(idle) <= tick_rate * empty_snapshot_bytes, "idle: more than empty snapshots"
    assert min(playing) > max(idle)


async def test_an_idle_card_table_sends_next_to_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    idle, _ = await card_traffic()
    assert max(idle) <= 20  # a small heartbeat a second at most
