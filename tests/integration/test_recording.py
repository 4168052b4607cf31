"""Match recording and deterministic replay: a real match by bots, checked tick by tick."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import cbor2
import pytest
import trio

from gameserver.clients import ClientClosed, connect
from gameserver.games.arena import EntityKind
from gameserver.protocol import CloseCode, Role
from gameserver.recording import GAP, INPUT, RecordingError, read_items, verify
from gameserver.server import GameServer
from gameserver.server.metrics import Metrics
from gameserver.server.rooms.recorder import Recorder
from tests.conftest import make_config

from .helpers import run_swarm
from .httpclient import http_client

MATCH_S = 30


@pytest.fixture(scope="module")
def recorded_match(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 30 s match of 20 bots in one recorded room (made once for the module)."""
    directory = tmp_path_factory.mktemp("recordings")

    async def play() -> None:
        config = make_config(record_all=True, recordings_dir=str(directory), seed=None)
        server = GameServer(config)
        async with trio.open_nursery() as nursery:
            await nursery.start(server.run)
            with trio.fail_after(MATCH_S + 60):
                code, _out, err = await run_swarm(
                    "--url", server.url, "--bots", "20", "--duration", str(MATCH_S),
                    "--behaviour", "mixed", "--json",
                )  # fmt: skip
            assert code == 0, err
            nursery.cancel_scope.cancel()  # the recorder writes what is left as it stops

    trio.run(play)
    (recording,) = directory.glob("default-*.rec")
    return recording


def test_a_recorded_match_replays_exactly(recorded_match: Path) -> None:
    with recorded_match.open("rb") as source:
        result = verify(source)
    assert result.ok, result
    assert result.ticks >= MATCH_S * 30  # every tick of the match, each one checked
    assert result.hashes_checked == result.ticks
    out = subprocess.run(
        [sys.executable, "-m", "gameserver", "replay", str(recorded_match), "--verify", "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["ok"] is True


def test_one_flipped_input_fails_at_exactly_its_tick(recorded_match: Path, tmp_path: Path) -> None:
    with recorded_match.open("rb") as source:
        items = list(read_items(source))
    middle = len(items) // 2

    def inputs(item: list[Any]) -> list[list[Any]]:  # [INPUT, player_id, fields, view_tick]
        return [op for op in item[1] if op[0] == INPUT]

    index = next(i for i in range(middle, len(items)) if inputs(items[i]))  # a tick with inputs
    flipped_tick = items[index][0]
    for entry in inputs(items[index]):  # fields [buttons, aim]: press UP or let it go
        entry[2][0] ^= 1
    tampered = tmp_path / "tampered.rec"
    tampered.write_bytes(b"".join(cbor2.dumps(item) for item in items))
    with tampered.open("rb") as source:
        result = verify(source)
    assert result.divergence is not None
    assert result.divergence.tick == flipped_tick
    out = subprocess.run(
        [sys.executable, "-m", "gameserver", "replay", str(tampered), "--verify"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 1 and f"DIVERGED at tick {flipped_tick}" in out.stdout


def test_recordings_of_other_rules_or_formats_are_refused_clearly(recorded_match: Path) -> None:
    with recorded_match.open("rb") as source:
        head, *rest = list(read_items(source))
    for change, message in (
        ({"rules_version": 99}, "arena rules v99"),
        ({"version": 7}, "format v7"),
        ({"format": "something else"}, "not a gameserver recording"),
    ):
        data = cbor2.dumps({**head, **change}) + b"".join(cbor2.dumps(item) for item in rest[:5])
        with pytest.raises(RecordingError, match=message):
            verify(io.BytesIO(data))


async def test_ticks_dropped_by_a_full_buffer_leave_a_gap_in_the_recording(
    tmp_path: Path,
) -> None:
    metrics = Metrics()
    path = tmp_path / "gap.rec"
    recorder = Recorder(path, max_buffer_bytes=40, flush_interval_s=0.01, metrics=metrics)
    record = cbor2.dumps([1, [], [], None, None])
    async with trio.open_nursery() as nursery:
        nursery.start_soon(recorder.run)
        recorder.append(record, 1)
        recorder.append(record + b"\x00" * 64, 2)  # too big for the buffer: dropped
        recorder.append(record, 3)
        await trio.sleep(0.1)
        nursery.cancel_scope.cancel()
    with path.open("rb") as source:
        items = list(read_items(source))
    assert [GAP, 2, 2] in items and metrics.recording_dropped == 1


async def test_a_recording_is_served_to_spectators_with_seek(
    recorded_match: Path, nursery: trio.Nursery
) -> None:
    server = GameServer(make_config(), replay=recorded_match, replay_speed=4.0)
    await nursery.start(server.run)
    async with connect(server.url, role=Role.SPECTATOR, name="fan") as fan:
        with trio.fail_after(5):  # the recorded players appear, and move
            await fan.wait_for(
                lambda c: sum(1 for e in c.world.values() if e[0] == EntityKind.PLAYER) >= 10
            )
            start = fan.tick
            await fan.wait_for(lambda c: c.tick >= start + 60)  # 4x: 120 ticks a second
        before = fan.tick
        async with http_client(server.port) as http:
            await http.send_request_body("POST", "/api/replay", b'{"seek": 30}')
            status = (await http.read_result()).json()
        assert status["tick"] == 30 and status["last_tick"] >= MATCH_S * 30
        with trio.fail_after(5):  # the watcher is taken back to tick 30
            await fan.wait_for(lambda c: 30 < c.tick < before - 20)
    # Players cannot join a replay.
    with pytest.raises(ClientClosed) as refused:
        async with connect(server.url, name="intruder"):
            pass
    assert refused.value.code == CloseCode.POLICY_VIOLATION
