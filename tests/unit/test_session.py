"""The sans-I/O client session with plain calls: bytes in, a decoded world and bytes out.

The games here are declared in this file; the session knows nothing of them but what
their description says (the arena appears once, for its prediction function).
"""

from __future__ import annotations

import ast
import enum
from pathlib import Path
from typing import Any

import pytest

from gameserver import rules
from gameserver.clients.session import ClientSession
from gameserver.games.arena import SCHEMA as ARENA_SCHEMA
from gameserver.games.arena import ArenaRules, ArenaSettings
from gameserver.protocol import (
    Chat,
    CloseCode,
    Command,
    DeltaError,
    Error,
    Input,
    Join,
    Ping,
    Pong,
    ProtocolError,
    Role,
    Snapshot,
    Welcome,
    decode_client_message,
    diff,
    encode,
)


class Mood(enum.IntEnum):
    CALM = 0
    ANGRY = 1


class Gear(enum.IntFlag):
    SHIELD = 1
    BOOTS = 2


@rules.entity
class Crab:
    x: float = rules.fixed(4, 0, 500, interpolate=True, position="x")
    y: float = rules.fixed(4, 0, 500, interpolate=True, position="y")
    facing: float = rules.angle(64, interpolate=True)
    mood: Mood = rules.enum(Mood)
    gear: Gear = rules.flags(Gear)
    name: str = rules.text(12)


@rules.entity
class Rock:
    x: float = rules.fixed(4, 0, 500, position="x")
    y: float = rules.fixed(4, 0, 500, position="y")


@rules.message
class Claw:
    dx: int = rules.integer(-1, 1)
    pinch: bool = rules.boolean()


@rules.message
class Rename:
    name: str = rules.text(12)


@rules.message
class Pinched:
    by: int = rules.integer(1, 1000)
    victim: int = rules.integer(1, 1000)


CRABS = rules.GameSchema(entities=[Crab, Rock], input=Claw, commands=[Rename], events=[Pinched])


def welcome(
    schema: rules.GameSchema = CRABS,
    game: str = "crabs",
    entity_id: int = 1,
    prediction: str | None = None,
    params: dict[str, float] | None = None,
) -> bytes:
    description = {"id": game, "version": 1, "prediction": prediction, **schema.describe()}
    return encode(
        Welcome(2, entity_id, 30, 30, 500, 500, 7, game, params or {}, "r" * 24, description)
    )


def snapshot(
    tick: int,
    state: dict[int, tuple[Any, ...]],
    baseline: dict[int, tuple[Any, ...]] | None = None,
    baseline_tick: int = 0,
    ack_seq: int = 0,
    events: tuple[tuple[int, ...], ...] = (),
) -> bytes:
    changes, removed = diff(baseline or {}, state)
    return encode(
        Snapshot(
            tick,
            baseline_tick,
            tick * 33,
            ack_seq,
            tuple(map(tuple, changes)),
            tuple(removed),
            events,
        )
    )


def crab(x: float, y: float, facing: int = 0, mood: int = 0, gear: int = 0) -> tuple[Any, ...]:
    return (0, round(x * 4), round(y * 4), facing, mood, gear, "ada")


def welcomed(**options: Any) -> ClientSession:
    session = ClientSession(**options)
    session.receive(welcome(), 0.0)
    return session


def test_the_world_is_decoded_into_the_described_classes() -> None:
    session = welcomed()
    state = {1: crab(10.5, 20, facing=16, mood=1, gear=3), 2: (1, 400, 400)}
    session.receive(snapshot(8, state), 0.1)
    me = session.me
    assert type(me).__name__ == "Crab" and me is session.world[1]
    assert (me.x, me.y, me.name) == (10.5, 20.0, "ada")
    assert me.facing == pytest.approx(3.141592653589793 / 2)  # a quarter turn, in radians
    assert me.mood.name == "ANGRY" and me.mood == 1
    assert {m.name for m in type(me.gear) if m in me.gear} == {"SHIELD", "BOOTS"}
    assert (session.world[2].x, session.world[2].y) == (100.0, 100.0)
    assert set(session.world.of_type("Rock")) == {2}
    assert session.world.wire == state  # the tuples themselves, as the server diffed them
    assert session.world.describe()[0] == {
        "id": 1, "type": "Crab", "x": 10.5, "y": 20.0, "facing": pytest.approx(1.5708, 1e-4),
        "mood": "ANGRY", "gear": ["SHIELD", "BOOTS"], "name": "ada",
    }  # fmt: skip


def test_deltas_apply_against_the_baseline_and_a_wrong_one_is_refused() -> None:
    session = welcomed()
    first = {1: crab(10, 20), 2: (1, 400, 400)}
    session.receive(snapshot(8, first), 0.1)
    before = session.world[2]
    second = {1: crab(11, 20)}
    session.receive(snapshot(9, second, first, baseline_tick=8, ack_seq=3), 0.2)
    assert (session.tick, session.ack_seq, set(session.world)) == (9, 3, {1})
    assert session.me.x == 11.0
    with pytest.raises(DeltaError):
        session.receive(snapshot(10, first, second, baseline_tick=8), 0.3)
    assert session.tick == 9 and session.me.x == 11.0  # nothing applied
    session.receive(snapshot(11, first), 0.4)  # a full snapshot starts over
    assert session.world[2] == before


def test_a_tuple_the_description_does_not_allow_is_a_protocol_error() -> None:
    bad = {1: (0, 99999, 0, 0, 0, 0, "ada")}  # x > 500
    strict = welcomed(decode_entities=True)
    with pytest.raises(ProtocolError):
        strict.receive(snapshot(8, bad), 0.1)  # refused as it arrives
    lazy = welcomed()
    lazy.receive(snapshot(8, bad), 0.1)
    with pytest.raises(ProtocolError):
        lazy.world[1]  # refused where it is read


def test_events_arrive_typed_with_their_tick() -> None:
    session = welcomed()
    session.receive(snapshot(8, {1: crab(1, 1)}, events=((8, 0, 3, 4),)), 0.1)
    (received,) = session.events
    assert (received.tick, received.name) == (8, "Pinched")
    assert (received.event.by, received.event.victim) == (3, 4)


def test_inputs_and_commands_are_encoded_with_the_schema() -> None:
    session = welcomed()
    session.receive(snapshot(8, {1: crab(1, 1)}), 0.1)
    claw = session.make_input(dx=-1)  # pinch left out: neutral (False)
    assert (claw.dx, claw.pinch) == (-1, False)
    frame = decode_client_message(session.input_message(claw))
    assert frame == Input(1, (-1, 0), 8, 0)
    frame = decode_client_message(session.input_message(claw, view_tick=7.5))
    assert frame == Input(2, (-1, 0), 8, 7 * 256 + 128)
    assert session.input_from_wire((1, 1)) == session.make_input(dx=1, pinch=True)
    rename = session.make_command("Rename", name="bo")
    assert decode_client_message(session.command_message(rename)) == Command((0, "bo"))
    with pytest.raises(TypeError):
        session.make_input(dz=1)
    with pytest.raises(TypeError):
        session.make_command("Fly")


def test_join_resume_pong_error_and_chat() -> None:
    session = ClientSession(role=Role.PLAYER, name="ada")
    assert decode_client_message(session.join_message()) == Join(Role.PLAYER, "ada", "")
    session.receive(welcome(), 0.0)
    assert session.resume == "r" * 24
    session.start_connection()  # the connection dropped: a new one offers the token back
    assert session.welcome is None and session.tick == 0 and not session.world
    assert decode_client_message(session.join_message()) == Join(Role.PLAYER, "ada", "r" * 24)
    assert decode_client_message(session.ping_message(2.5)) == Ping(2500)
    session.receive(encode(Pong(2500, 10_000)), 2.6)
    assert session.clock.rtt_s == pytest.approx(0.1)
    assert session.clock.server_now(2.6) == pytest.approx(10.05)
    session.receive(encode(Error(2, "resume token unknown")), 2.7)
    session.receive(encode(Chat(0, "bo", "hi")), 2.8)
    assert [e.reason for e in session.errors] == ["resume token unknown"]
    assert [c.text for c in session.chat] == ["hi"]
    assert session.stats.messages_received == 4


def test_remote_entities_are_interpolated_by_the_description() -> None:
    session = welcomed()
    session.receive(snapshot(8, {1: crab(10, 10, facing=62), 2: (1, 400, 400)}), 0.0)
    session.receive(snapshot(9, {1: crab(20, 10, facing=2)}), 0.0)
    interpolator = session.interpolator
    assert interpolator is not None
    mid = interpolator.sample((8 * 33 + 9 * 33) / 2000)
    assert set(mid) == {1}  # rocks have nothing interpolated
    assert mid[1].x == pytest.approx(15.0)
    assert mid[1].facing == pytest.approx(0.0, abs=1e-9)  # 62 -> 2 of 64 passes through 0


def arena_welcome(prediction: str | None, game: str = "arena") -> bytes:
    params = ArenaRules(ArenaSettings(obstacle_count=0), seed=1).client_params()
    return welcome(ARENA_SCHEMA, game, 1, prediction, dict(params))


def test_the_installed_game_s_prediction_moves_the_own_entity_at_once() -> None:
    session = ClientSession()
    session.receive(arena_welcome(ArenaRules.prediction), 0.0)
    assert session.predictor is not None
    me = (0, 1600, 1600, 0, 100, 0, 1)
    session.receive(snapshot(8, {1: me}), 0.0)
    session.input_message(session.input_from_wire((8,)))  # RIGHT
    assert session.predicted_position() == (106.625, 100.0)  # before the server answers
    session.receive(snapshot(9, {1: (0, 1706, 1600, 0, 100, 0, 1)}, {1: me}, 8, 1), 0.03)
    assert session.predictor.corrections == 0


@pytest.mark.parametrize(
    ("game", "path"),
    [
        ("arena", "os:system"),  # not what the installed arena declares
        ("elsewhere", "gameserver.games.arena.movement:predictor"),  # not installed here
    ],
)
def test_a_prediction_the_installed_game_does_not_declare_is_never_imported(
    game: str, path: str
) -> None:
    session = ClientSession()
    session.receive(arena_welcome(path, game), 0.0)
    assert session.predictor is None


def test_a_load_bot_s_session_decodes_nothing_it_does_not_read() -> None:
    session = welcomed(role=Role.SPECTATOR, interpolate=False, event_history=0)
    session.receive(snapshot(8, {1: crab(10, 10)}, events=((8, 0, 3, 4),)), 0.0)
    assert session.interpolator is None and session.predictor is None
    assert not session.events and session.stats.snapshots_received == 1
    assert session.world.wire == {1: crab(10, 10)}
    assert session.world[1].x == 10.0  # decoded when read


SANS_IO = ("session", "_world", "_interpolation", "_prediction", "_clock", "_stats")


@pytest.mark.parametrize("module", SANS_IO)
def test_the_session_and_its_parts_do_no_io(module: str) -> None:
    source = (Path(__file__).resolve().parents[2] / "clients" / f"{module}.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported.add(node.module.split(".")[0])
    assert not imported & {"trio", "trio_websocket", "socket", "asyncio", "time", "ssl"}


def test_a_snapshot_before_the_welcome_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError) as caught:
        ClientSession().receive(encode(Snapshot(3, 0, 100, 0, (), (), ())), 0.0)
    assert caught.value.code == CloseCode.UNEXPECTED_MESSAGE
