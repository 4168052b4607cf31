"""Three server processes sharing one real Redis: matchmaking across nodes, and a node dying."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import attrs
import pytest
import trio

from gameserver.clients import ClientClosed, ReconnectPolicy, connect
from gameserver.games.arena import Buttons
from gameserver.protocol import ChatChannel, CloseCode, Role
from gameserver.server import GameServer
from tests.conftest import make_config
from tests.redis_server import RedisServer

from .helpers import run_swarm
from .httpclient import get, http_client

NODE_TTL_S = 1.5
LISTENING = re.compile(r"listening on ws://127\.0\.0\.1:(\d+)/ws")


@attrs.define
class Node:
    name: str
    process: trio.Process
    log: Path
    port: int = 0


async def start_node(name: str, redis_url: str, log: Path, *extra: str) -> Node:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as sink:
        process = await trio.lowlevel.open_process(
            [sys.executable, "-m", "gameserver", "serve", "--port", "0", "--redis", redis_url,
             "--node-id", name, "--node-ttl", str(NODE_TTL_S),
             "--max-connections-per-address", "0",  # every bot comes from 127.0.0.1
             "--match-rate-per-address", "0", "--max-unconfirmed-seats-per-address", "0",
             "--max-http-connections-per-address", "0",
             *extra],
            stdout=subprocess.DEVNULL, stderr=sink, env=env,
        )  # fmt: skip
    node = Node(name, process, log)
    with trio.fail_after(20):
        while not (found := LISTENING.search(log.read_text())):
            assert process.poll() is None, log.read_text()
            await trio.sleep(0.05)
    node.port = int(found.group(1))
    return node


@asynccontextmanager
async def cluster(
    redis_url: str, tmp_path: Path, size: int = 3, extra: dict[int, list[str]] | None = None
) -> AsyncIterator[list[Node]]:
    extra = extra or {}
    nodes = [
        await start_node(f"n{i}", redis_url, tmp_path / f"n{i}.log", *extra.get(i, []))
        for i in range(size)
    ]
    try:
        yield nodes
    finally:
        for node in nodes:
            if node.process.returncode is None:
                node.process.terminate()
        for node in nodes:
            with trio.move_on_after(5):
                await node.process.wait()
            if node.process.returncode is None:
                node.process.kill()
                await node.process.wait()
    for node in nodes:  # a node stopped with SIGTERM shuts down cleanly
        if node.process.returncode == 0:
            assert "Traceback" not in node.log.read_text(), node.log.read_text()[-3000:]


async def match(port: int, mode: str = "squad") -> tuple[int, dict[str, object]]:
    async with http_client(port) as client:
        await client.send_request_body("POST", "/api/match", json.dumps({"mode": mode}).encode())
        result = await client.read_result()
    return result.status, result.json()


async def test_racing_matches_on_three_nodes_never_overfill_and_survive_a_dead_node(
    redis_url: str, tmp_path: Path
) -> None:
    async with cluster(redis_url, tmp_path) as nodes:
        # 200 match requests race, spread over the three nodes.
        answers: list[dict[str, object]] = []

        async def ask(index: int) -> None:
            status, answer = await match(nodes[index % 3].port)
            assert status == 200, answer
            answers.append(answer)

        with trio.fail_after(30):
            async with trio.open_nursery() as nursery:
                for index in range(200):
                    nursery.start_soon(ask, index)
        seats = [answer["seat"] for answer in answers]
        assert len(set(seats)) == 200  # no seat handed out twice
        per_room = Counter(str(answer["room"]) for answer in answers)
        assert max(per_room.values()) <= 8  # squad rooms hold 8
        assert len(per_room) == 25  # filled, not spread thin
        assert {answer["node"] for answer in answers} == {"n0", "n1", "n2"}

        # Players of four rooms arrive at the node each answer named, and play there.
        chosen = sorted(per_room)[:4]
        seated = [a for a in answers if a["room"] in chosen]
        async with trio.open_nursery() as nursery:
            clients = []
            for index, answer in enumerate(seated):
                client = await nursery.start(_play, str(answer["url"]), f"p{index}")
                clients.append((answer, client))
            for node in nodes:
                rooms = (await get(node.port, "/api/rooms")).json()
                for room in rooms:
                    assert room["players"] <= 8
                    if room["name"] in chosen:
                        assert room["players"] == per_room[room["name"]]
            # A node dies: its players ask again and play on a live node.
            victim = next(n for n in nodes if n.name == seated[0]["node"])
            victim.process.kill()
            lost = [client for answer, client in clients if answer["node"] == victim.name]
            assert lost
            started = trio.current_time()
            with trio.fail_after(5):
                for client in lost:
                    await client.wait_for(lambda c: c.close_code is not None or not c.connected)
            live = [n for n in nodes if n is not victim]
            # Redis expires the dead node's registration within one TTL of its last renewal;
            # Redis's own clock decides that, so real time passes here.
            await trio.sleep_until(started + NODE_TTL_S + 0.2)
            for index in range(len(lost)):
                status, answer = await match(live[index % 2].port)
                assert status == 200 and answer["node"] != victim.name
                replacement = await nursery.start(_play, str(answer["url"]), f"again{index}")
                await replacement.next_snapshot()
            replayed_s = trio.current_time() - started
            assert replayed_s < NODE_TTL_S + 3
            nursery.cancel_scope.cancel()


async def _play(url: str, name: str, *, task_status: trio.TaskStatus[object]) -> None:
    async with connect(url, name=name) as client:
        await client.next_snapshot()
        task_status.started(client)
        await trio.sleep_forever()


async def test_without_redis_rooms_play_on_and_matchmaking_says_why_then_recovers(
    nursery: trio.Nursery, redis_server: RedisServer
) -> None:
    server = GameServer(make_config(redis_url=redis_server.url, node_ttl_s=0.6))
    await nursery.start(server.run)
    status, answer = await match(server.port)
    assert status == 200
    async with connect(str(answer["url"]), name="ann") as ann:
        await ann.next_snapshot()
        port = redis_server.port
        redis_server.stop()
        status, failure = await match(server.port)
        assert status == 503 and "matchmaking unavailable" in str(failure["error"])
        assert "redis://127.0.0.1" in str(failure["error"])
        tick = ann.tick  # the room in progress plays on
        with trio.fail_after(5):
            await ann.wait_for(lambda c: c.tick >= tick + 30)
        assert ann.close_code is None
        redis_server.start(port)
        with trio.fail_after(10):  # the next heartbeat registers the node again
            while (await match(server.port))[0] != 200:
                await trio.sleep(0.2)
    assert server.metrics.matches_failed >= 1


async def test_two_hundred_swarm_bots_are_placed_through_matchmaking_on_three_nodes(
    redis_url: str, tmp_path: Path
) -> None:
    async with cluster(redis_url, tmp_path) as nodes:
        with trio.fail_after(120):
            code, out, err = await run_swarm(
                "--url", f"http://127.0.0.1:{nodes[0].port}/", "--match", "squad",
                "--bots", "200", "--procs", "2", "--duration", "4", "--ramp", "1", "--json",
            )  # fmt: skip
        summary = json.loads(out)
        assert summary["connected"] == 200 and summary["failed"] == 0, summary["errors"]
        assert code == 0, err
        rooms = summary["rooms"]
        assert sum(rooms.values()) == 200 and max(rooms.values()) <= 8
        assert len(rooms) == 25
        placed_on = Counter()
        for node in nodes:
            for room in (await get(node.port, "/api/rooms")).json():
                if room["name"] in rooms:
                    placed_on[node.name] += 1
        assert sum(placed_on.values()) == 25 and len(placed_on) == 3  # every node took rooms


async def test_chat_said_on_one_node_reaches_players_on_every_node(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin_token = "an-admin-token-for-tests"
    monkeypatch.setenv("GAMESERVER_ADMIN_TOKEN", admin_token)  # inherited by the nodes
    async with (
        cluster(redis_url, tmp_path) as nodes,
        connect(f"ws://127.0.0.1:{nodes[0].port}/ws", name="ann") as ann,
        connect(f"ws://127.0.0.1:{nodes[1].port}/ws", name="bob") as bob,
        connect(f"ws://127.0.0.1:{nodes[2].port}/ws?mode=duel", name="cy") as cy,
    ):
        for client in (ann, bob, cy):
            await client.next_snapshot()
        await ann.say("hello from node 0")
        with trio.fail_after(5):
            for client in (ann, bob, cy):
                await client.wait_for(lambda c: bool(c.chat))
        for client in (ann, bob, cy):
            assert [(m.channel, m.sender, m.text) for m in client.chat] == [
                (ChatChannel.GLOBAL, "ann", "hello from node 0")
            ]
        # An operator's announcement, sent to one node, reaches all three.
        async with http_client(nodes[2].port) as http:
            body = json.dumps({"text": "restart in 5 minutes"}).encode()
            await http.send_request(
                "POST", "/api/announce", [("authorization", f"Bearer {admin_token}")], body
            )
            assert (await http.read_result()).status == 200
        with trio.fail_after(5):
            for client in (ann, bob, cy):
                await client.wait_for(lambda c: len(c.chat) == 2)
        assert {(c.chat[-1].channel, c.chat[-1].sender) for c in (ann, bob, cy)} == {
            (ChatChannel.ANNOUNCEMENT, "server")
        }
        # Without the token, nobody announces.
        async with http_client(nodes[0].port) as http:
            await http.send_request_body("POST", "/api/announce", b'{"text": "x"}')
            assert (await http.read_result()).status == 401


async def test_a_spectator_on_one_node_watches_a_room_on_another(
    redis_url: str, tmp_path: Path
) -> None:
    async with cluster(redis_url, tmp_path, size=2) as nodes:
        status, seat = await match(nodes[0].port)
        assert status == 200
        owner = next(n for n in nodes if n.name == seat["node"])
        other = next(n for n in nodes if n is not owner)
        watch_url = f"ws://127.0.0.1:{other.port}/ws?room={seat['room']}"
        async with (
            connect(str(seat["url"]), name="runner") as runner,
            connect(watch_url, role=Role.SPECTATOR, name="far") as far,
        ):
            await runner.next_snapshot()
            with trio.fail_after(10):
                await far.wait_for(lambda c: runner.entity_id in c.world)
            assert far.welcome is not None and far.welcome.world_width == 1000
            start_x = far.world[runner.entity_id][1]
            direction = Buttons.RIGHT if start_x < 8000 else Buttons.LEFT
            sign = 1 if direction == Buttons.RIGHT else -1
            with trio.fail_after(10):
                while (far.world[runner.entity_id][1] - start_x) * sign < 16 * 50:
                    await runner.send_input(direction)
                    await runner.next_snapshot()
            # The watcher stays in step with the player's own view of the room.
            with trio.fail_after(5):
                await far.wait_for(lambda c: c.tick >= runner.tick)
            rooms = (await get(other.port, "/api/rooms")).json()
            assert seat["room"] not in [room["name"] for room in rooms]  # a relay, not a room
            # A player cannot join through the relay: it is told to use matchmaking.
            with pytest.raises(ClientClosed) as refused:
                async with connect(watch_url, name="sneaky"):
                    pass
            assert refused.value.code == CloseCode.POLICY_VIOLATION
            assert "matchmaking" in (refused.value.reason or "")


async def test_find_match_on_one_node_sends_the_player_to_the_room_on_another(
    redis_url: str, tmp_path: Path
) -> None:
    async with cluster(redis_url, tmp_path, size=2) as nodes:
        status, seat = await match(nodes[0].port)  # opens a squad room, on either node
        assert status == 200
        owner = next(n for n in nodes if n.name == seat["node"])
        other = next(n for n in nodes if n is not owner)
        async with (
            connect(str(seat["url"]), name="first") as first,
            connect(f"ws://127.0.0.1:{other.port}/ws", name="second", match="squad") as second,
        ):
            await first.next_snapshot()
            await second.next_snapshot()
            assert second.matched is not None and second.matched.room == seat["room"]
            assert second.url.startswith(f"ws://127.0.0.1:{owner.port}/")
            rooms = (await get(owner.port, f"/api/rooms/{seat['room']}")).json()
            names = {player["name"] for player in rooms["roster"]}
            assert names == {"first", "second"}  # both play in the one room on its node


async def test_players_of_a_dead_node_are_matched_again_by_their_clients(
    redis_url: str, tmp_path: Path
) -> None:
    # n0 is only the entry (it takes no rooms); the players' room lands on n1 or n2. The
    # nodes keep the default registration lifetime: the clients name the room whose node
    # they cannot reach, so matchmaking drops that node at once instead of waiting for it.
    ttl = ["--node-ttl", "10"]
    extra = {0: ["--node-capacity", "1", *ttl], 1: ttl, 2: ttl}
    async with cluster(redis_url, tmp_path, extra=extra) as nodes:
        entry = f"ws://127.0.0.1:{nodes[0].port}/ws"
        policy = ReconnectPolicy(max_attempts=20, base_delay_s=0.2, max_delay_s=0.5)
        async with trio.open_nursery() as nursery:
            players = [await nursery.start(_play_matched, entry, f"p{i}", policy) for i in range(4)]
            rooms = {p.matched.room for p in players if p.matched is not None}
            assert len(rooms) == 1  # one squad room holds all four
            owner_port = int(players[0].url.split(":")[2].split("/")[0])
            victim = next(n for n in nodes if n.port == owner_port)
            assert victim is not nodes[0]
            victim.process.kill()
            killed_at = trio.current_time()
            with trio.fail_after(10):
                for player in players:
                    await player.wait_for(
                        lambda c: (
                            c.welcome is not None
                            and c.matched is not None
                            and c.matched.room not in rooms
                        )
                    )
            replaced_s = trio.current_time() - killed_at
            print(f"players of the dead node re-placed in {replaced_s:.2f} s")
            assert all(f":{victim.port}/" not in p.url for p in players)
            assert replaced_s < 5, "re-placed only once the dead node's registration ran out"
            for player in players:  # and they play there
                tick = player.tick
                with trio.fail_after(5):
                    await player.wait_for(lambda c, t=tick: c.tick > t)
            nursery.cancel_scope.cancel()


async def _play_matched(
    url: str, name: str, policy: ReconnectPolicy, *, task_status: trio.TaskStatus[object]
) -> None:
    async with connect(url, name=name, match="squad", reconnect=policy) as client:
        await client.next_snapshot()
        task_status.started(client)
        await trio.sleep_forever()
