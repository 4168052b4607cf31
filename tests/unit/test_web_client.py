"""The browser SDK and the arena page (clients/web) against the Python code they port.

Two parts: the JavaScript unit tests (``node --test tests/js/``) must pass, and the JS
modules, driven through ``tests/js/harness.mjs``, must agree with the Python reference
(codec, movement, deltas, the client's session, prediction, interpolation, clock) on many
seeded random cases. Each test sends one batch to one node process.
"""

from __future__ import annotations

import collections
import json
import math
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import cbor2
import pytest
import trio

from gameserver import rules
from gameserver.clients import GameClient
from gameserver.clients._clock import ClockEstimator
from gameserver.clients._interpolation import Interpolator
from gameserver.games.arena import ArenaSettings
from gameserver.games.arena.movement import make_mover, push_out_of_circle, resolve_obstacles
from gameserver.protocol import (
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
    apply,
    decode_client_message,
    decode_server_message,
    diff,
    encode,
)

from .arena_prediction import ArenaPredictor as Predictor
from .arena_world import ArenaWorld

ROOT = Path(__file__).resolve().parents[2]
JS_TESTS = ROOT / "tests" / "js"
HARNESS = JS_TESTS / "harness.mjs"
NODE = shutil.which("node")
SAFE_MAX = 2**53 - 1


def require_node() -> str:
    if NODE is None:
        if os.environ.get("CI"):
            pytest.fail("node is not on PATH, and CI is set: the browser client goes untested")
        pytest.skip("node is not on PATH")
    return NODE


def run_harness(cases: list[dict[str, Any]]) -> list[Any]:
    """Run every case in one node process; returns each case's value (raises on a JS error)."""
    node = require_node()
    proc = subprocess.run(
        [node, str(HARNESS)],
        input=json.dumps({"cases": cases}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, f"harness failed:\n{proc.stdout}\n{proc.stderr}"
    results = json.loads(proc.stdout)["results"]
    assert len(results) == len(cases)
    return results


def ok(result: dict[str, Any], case: dict[str, Any]) -> Any:
    assert "ok" in result, f"JS raised {result.get('error')} for {case}"
    return result["ok"]


# ----------------------------------------------------------------------- node tests


def test_node_unit_tests_pass() -> None:
    node = require_node()
    proc = subprocess.run(
        [node, "--test", str(JS_TESTS) + os.sep],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    if proc.returncode != 0:
        print(proc.stdout)
        print(proc.stderr)
    assert proc.returncode == 0, "node --test tests/js/ failed (output above)"
    assert "# fail 0" in proc.stdout


# ----------------------------------------------------------------------- CBOR values


def random_value(rng: random.Random, depth: int = 0, *, floats: str = "any") -> Any:
    """A random CBOR-able value. floats: "any", or "fractional" (what JS can encode: an
    integral float is an integer to JavaScript)."""
    kinds = ["uint", "nint", "big", "text", "bytes", "bool", "none", "simple", "float"]
    if depth < 3:
        kinds += ["list", "dict"]
    kind = rng.choice(kinds)
    if kind == "uint":
        boundary = rng.choice([23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, SAFE_MAX - 1])
        return rng.choice([0, boundary, boundary + 1, rng.randrange(2 ** rng.randrange(1, 54))])
    if kind == "nint":
        return -1 - rng.randrange(2 ** rng.randrange(1, 54))
    if kind == "big":
        return rng.choice([1, -1]) * rng.randrange(2**53, 2**64)
    if kind == "text":
        alphabet = "abcXYZ 019~é中😀\u00a0\n"
        return "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 5, 23, 24, 40, 300])))
    if kind == "bytes":
        return rng.randbytes(rng.choice([0, 1, 23, 24, 255, 256]))
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "simple":
        return rng.choice(
            [cbor2.undefined, cbor2.CBORSimpleValue(rng.choice([0, 16, 19, 32, 255]))]
        )
    if kind == "float":
        if floats == "fractional":
            return rng.choice([0.5, -1.25, 1e-300, 3.14159, -2.5e100]) * rng.random() + 0.1
        special = [0.0, -0.0, 1.0, 1.5, -2.0, 65504.0, 1e-7, 3.4e38, 1e300, math.inf, -math.inf]
        subnormals = [2.0**-24, -(2.0**-24) * 1023, 2.0**-14, 2.0**-149, 2.0**-126 * 0.75]
        return rng.choice([*special, *subnormals, rng.uniform(-1e6, 1e6), math.nan])
    n = rng.choice([0, 1, 3, 23, 24])
    if kind == "list":
        return [random_value(rng, depth + 1, floats=floats) for _ in range(n)]
    return {f"k{i}": random_value(rng, depth + 1, floats=floats) for i in range(n)}


def tag(value: Any) -> Any:
    """Python value -> the harness's tagged JSON (see tests/js/harness.mjs)."""
    if value is None or isinstance(value, bool | str):
        return value
    if value is cbor2.undefined:
        return {"undefined": True}
    if isinstance(value, cbor2.CBORSimpleValue):
        return {"simple": value.value}
    if isinstance(value, int):
        return {"big": str(value)} if abs(value) > SAFE_MAX else {"n": str(value)}
    if isinstance(value, float):
        return {"n": repr(value)}
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, list):
        return [tag(v) for v in value]
    if isinstance(value, dict):
        return {"map": [[tag(k), tag(v)] for k, v in value.items()]}
    raise TypeError(value)


def same(py: Any, js: Any) -> bool:
    """Whether the JS decoder's tagged output equals what cbor2 decoded."""
    if py is None or isinstance(py, bool | str):
        return py == js and type(py) is type(js)
    if py is cbor2.undefined:
        return js == {"undefined": True}
    if isinstance(py, cbor2.CBORSimpleValue):
        return js == {"simple": py.value}
    if isinstance(py, int):
        return js == ({"big": str(py)} if abs(py) > SAFE_MAX else {"n": str(py)})
    if isinstance(py, float):
        if not isinstance(js, dict) or "n" not in js:
            return False
        got = float(js["n"])
        if math.isnan(py):
            return math.isnan(got)
        return got == py and math.copysign(1.0, got) == math.copysign(1.0, py)
    if isinstance(py, bytes):
        return js == {"bytes": py.hex()}
    if isinstance(py, list):
        return isinstance(js, list) and len(js) == len(py) and all(map(same, py, js))
    if isinstance(py, dict):
        if not isinstance(js, dict) or "map" not in js or len(js["map"]) != len(py):
            return False
        return all(
            same(k, jk) and same(v, jv)
            for (k, v), (jk, jv) in zip(py.items(), js["map"], strict=True)
        )
    raise TypeError(py)


def test_js_decodes_what_cbor2_encodes() -> None:
    rng = random.Random(1)
    encodings: list[bytes] = []
    for _ in range(300):
        value = random_value(rng)
        # canonical=True writes floats in their shortest exact form: float16 and float32 too.
        encodings.append(cbor2.dumps(value, canonical=rng.random() < 0.5))
    cases = [{"op": "cbor_decode", "hex": data.hex()} for data in encodings]
    truncated = [data[: rng.randrange(len(data))] for data in encodings if len(data) > 1]
    cases += [{"op": "cbor_decode", "hex": data.hex()} for data in truncated]
    results = run_harness(cases)
    n = len(encodings)
    for data, case, result in zip(encodings, cases[:n], results[:n], strict=True):
        assert same(cbor2.loads(data), ok(result, case)), f"{data.hex()} -> {result}"
    for data, result in zip(truncated, results[n:], strict=True):
        with pytest.raises(cbor2.CBORDecodeError):
            cbor2.loads(data)
        assert result["error"]["name"] == "CborError", f"truncated {data.hex()} accepted: {result}"


def test_js_encodes_like_cbor2() -> None:
    rng = random.Random(2)
    values = [random_value(rng, floats="fractional") for _ in range(300)]
    cases = [{"op": "cbor_encode", "value": tag(v)} for v in values]
    for value, case, result in zip(values, cases, run_harness(cases), strict=True):
        assert ok(result, case) == cbor2.dumps(value).hex(), value


# ----------------------------------------------------------------------- messages


def test_js_decodes_server_messages_like_python() -> None:
    rng = random.Random(3)
    messages: list[Welcome | Snapshot | Pong | Error] = []

    def uint(bits: int = 32) -> int:
        return rng.choice([0, 23, 24, 255, 256, 65535, 65536, rng.randrange(2**bits)])

    def tuples(n: int, signed: bool) -> tuple[tuple[int, ...], ...]:
        low = -(2**40) if signed else 0
        return tuple(
            tuple(rng.randint(low, 2**40) for _ in range(rng.randint(1, 9))) for _ in range(n)
        )

    for _ in range(120):
        params: dict[str, float] = {
            f"p{i}": rng.choice([rng.randrange(1000), rng.uniform(-1e3, 1e3), 0.4])
            for i in range(rng.randint(0, 14))
        }
        messages.append(
            Welcome(
                1,
                uint(),
                uint(8) + 1,
                uint(8) + 1,
                uint(16),
                uint(16),
                uint(40),
                "arena",
                params,
                rng.choice(["", "Qx3Vf2mK9pLw7sTz1aB4cD8e"]),
            )
        )
        messages.append(
            Snapshot(
                uint(40) + 1,
                uint(40),
                uint(40),
                uint(32),
                tuples(rng.randint(0, 30), True),
                tuple(uint() for _ in range(rng.randint(0, 5))),
                tuples(rng.randint(0, 4), False),
            )
        )
        messages.append(Pong(rng.randrange(SAFE_MAX + 1), uint(40)))
        messages.append(
            Error(
                rng.randint(0, 2**32 - 1), rng.choice(["", "spectators cannot send input", "é中"])
            )
        )
    cases = [{"op": "decode_server", "hex": encode(m).hex()} for m in messages]
    for message, case, result in zip(messages, cases, run_harness(cases), strict=True):
        got = ok(result, case)
        expected = decode_server_message(encode(message))
        if isinstance(expected, Welcome):
            assert got == {
                "type": 16,
                "protocolVersion": expected.protocol_version,
                "entityId": expected.entity_id,
                "tickRate": expected.tick_rate,
                "snapshotRate": expected.snapshot_rate,
                "worldWidth": expected.world_width,
                "worldHeight": expected.world_height,
                "tick": expected.tick,
                "game": expected.game,
                "params": expected.params,
                "resume": expected.resume,
                "description": None,
            }
        elif isinstance(expected, Snapshot):
            assert got == {
                "type": 17,
                "tick": expected.tick,
                "baselineTick": expected.baseline_tick,
                "serverTimeMs": expected.server_time_ms,
                "ackSeq": expected.ack_seq,
                "changes": [list(c) for c in expected.changes],
                "removed": list(expected.removed),
                "events": [list(e) for e in expected.events],
            }
        elif isinstance(expected, Pong):
            assert got == {
                "type": 18,
                "nonce": expected.nonce,
                "serverTimeMs": expected.server_time_ms,
            }
        else:
            assert got == {"type": 19, "code": expected.code, "reason": expected.reason}


def test_js_refuses_what_python_refuses_in_server_messages() -> None:
    """Malformed messages: JS raises the close code the Python client would close with."""
    bad = [
        b"\x83\x12\x01",  # truncated pong
        cbor2.dumps([18, 1, "x"]),  # wrong type
        cbor2.dumps([18, 1]),  # wrong arity
        cbor2.dumps([99, 1, 2]),  # unknown type
        cbor2.dumps({"a": 1}),  # not an array
        cbor2.dumps([17, 1, 0, 0, 0, [[1, 1, [2]]], [], []]),  # nesting too deep
        cbor2.dumps(cbor2.CBORTag(1, [18, 1, 2])),  # a tag
        cbor2.dumps([19, 1.5, "x"]),  # float where an int belongs
        bytes.fromhex("9f1201 02ff".replace(" ", "")),  # indefinite-length array
    ]
    cases = [{"op": "decode_server", "hex": data.hex()} for data in bad]
    for data, result in zip(bad, run_harness(cases), strict=True):
        with pytest.raises(ProtocolError) as refused:
            decode_server_message(data)
        assert "error" in result, f"JS accepted {data.hex()}: {result}"
        assert result["error"]["code"] == refused.value.code, data.hex()


def test_js_refuses_trailing_bytes_after_a_server_message() -> None:
    """Stricter than the Python client, whose cbor2.loads ignores them: a message is exactly
    one CBOR item (section 2.2), so anything after it means the stream is not understood."""
    data = cbor2.dumps([18, 1, 2]) + b"\x00"
    [result] = run_harness([{"op": "decode_server", "hex": data.hex()}])
    assert result["error"]["code"] == 1007


def test_js_client_messages_pass_the_strict_decoder() -> None:
    rng = random.Random(4)
    alphabet = "abcxyzABC0189 _-.~éßøЖ中文😀🎮"
    boundaries = [0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1]
    expected: list[Join | Input | Ping] = []
    cases: list[dict[str, Any]] = []
    for _ in range(200):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 32)))
        resume = "".join(rng.choice("abcXYZ019-_") for _ in range(rng.choice([0, 1, 24, 64])))
        role = rng.choice([Role.PLAYER, Role.SPECTATOR])
        expected.append(Join(role, name, resume))
        cases.append({"op": "encode_join", "role": int(role), "name": name, "resume": resume})
        seq = rng.choice([b for b in boundaries if b] + [rng.randint(1, 2**32 - 1)])
        buttons = rng.choice([0, 23, 24, 255, rng.randrange(256)])
        aim = rng.choice([0, 23, 24, 255, 256, 65535, rng.randrange(65536)])
        ack_tick = rng.choice([*boundaries, rng.randrange(2**32)])
        view = rng.choice([0, 0, 1, 255, 256, 65536, 2**32 * 256 - 1, rng.randrange(2**40)])
        expected.append(Input(seq, (buttons, aim), ack_tick, view))
        cases.append(
            {"op": "encode_input", "seq": seq, "buttons": buttons, "aim": aim,
             "ack_tick": ack_tick, "view": view}
        )  # fmt: skip
        nonce = rng.choice([*boundaries, 2**32, SAFE_MAX, rng.randrange(SAFE_MAX)])
        expected.append(Ping(nonce))
        cases.append({"op": "encode_ping", "nonce": nonce})
    for message, case, result in zip(expected, cases, run_harness(cases), strict=True):
        data = bytes.fromhex(ok(result, case))
        assert decode_client_message(data) == message  # the server's strict decoder
        assert data == encode(message)  # byte for byte what the Python client sends


# ----------------------------------------------------------------------- movement


def test_js_movement_matches_python() -> None:
    rng = random.Random(5)
    cases: list[dict[str, Any]] = []
    for _ in range(1500):
        width = rng.choice([1000.0, 640.0, rng.uniform(40, 2000), 30.0])
        height = rng.choice([1000.0, 480.0, rng.uniform(40, 2000)])
        radius = rng.choice([16.0, 12.5, rng.uniform(1, 40)])

        # Grid points, half-grid points (round-half-even ties) and arbitrary floats.
        def coord(size: float) -> float:
            return rng.choice(
                [
                    rng.randrange(int(size * 16)) / 16,
                    rng.randrange(int(size * 32)) / 32,
                    rng.uniform(-20, size + 20),
                ]
            )

        obstacles = []
        for _ in range(rng.randint(0, 4)):
            o = (
                coord(width),
                coord(height),
                rng.choice([50.0, rng.randint(30 * 16, 70 * 16) / 16]),
            )
            obstacles.append(o)
        x, y = coord(width), coord(height)
        if obstacles and rng.random() < 0.5:  # start on or next to an obstacle
            cx, cy, cr = rng.choice(obstacles)
            x, y = rng.choice(
                [(cx, cy), (cx + cr, cy), (cx, cy - cr / 2), (cx + rng.uniform(-cr, cr), cy)]
            )
        cases.append(
            {
                "op": "move",
                "tick_rate": rng.choice([10, 20, 30, 60, 64, 7]),
                "speed": rng.choice([200.0, 137.5, rng.uniform(1, 900)]),
                "width": width,
                "height": height,
                "radius": radius,
                "x": x,
                "y": y,
                "buttons": rng.randrange(32),
                "obstacles": obstacles,
            }
        )
    for _ in range(800):
        cx, cy, cr, radius = rng.uniform(0, 500), rng.uniform(0, 500), rng.uniform(1, 80), 16.0
        reach = radius + cr
        x, y = rng.choice(
            [
                (cx, cy),  # dead centre
                (cx + rng.uniform(-reach, reach), cy),  # n has a zero component
                (cx, cy + rng.uniform(-reach, reach)),
                (cx + rng.uniform(-reach, reach), cy + rng.uniform(-reach, reach)),
                (round(cx * 16) / 16 + rng.randint(-40, 40) / 32, round(cy * 16) / 16),
            ]
        )
        cases.append({"op": "push", "x": x, "y": y, "radius": radius, "cx": cx, "cy": cy, "cr": cr})
    ties = [k + 0.5 for k in range(-20, 21)] + [rng.uniform(-1e6, 1e6) for _ in range(200)]
    ties += [2.0**52 + 1, -(2.0**52) - 1, 0.49999999999999994, -0.5, 1e300]
    cases.append({"op": "round", "values": ties})
    results = run_harness(cases)
    moved = pushed = 0
    for case, result in zip(cases, results, strict=True):
        got = ok(result, case)
        if case["op"] == "move":
            mover = make_mover(
                1.0 / case["tick_rate"],
                case["speed"],
                case["width"],
                case["height"],
                case["radius"],
            )
            step = mover(case["x"], case["y"], case["buttons"])
            resolved = resolve_obstacles(*step, case["radius"], case["obstacles"])
            assert got == {"moved": list(step), "resolved": list(resolved)}, case
            moved += step != (case["x"], case["y"])
            pushed += resolved != step
        elif case["op"] == "push":
            expected = push_out_of_circle(
                case["x"], case["y"], case["radius"], case["cx"], case["cy"], case["cr"]
            )
            assert got == list(expected), case
        else:
            assert got == [round(v) for v in case["values"]]
    assert moved > 500 and pushed > 50  # the cases exercised what they are meant to


# ----------------------------------------------------------------------- deltas


def random_world(rng: random.Random, ids: range) -> dict[int, tuple[int, ...]]:
    world = {}
    for eid in ids:
        if rng.random() < 0.6:
            world[eid] = tuple(rng.randint(-5, 2**20) for _ in range(rng.choice([4, 5, 7])))
    return world


def test_js_delta_application_matches_python() -> None:
    rng = random.Random(6)
    cases: list[dict[str, Any]] = []
    for _ in range(600):
        baseline = random_world(rng, range(1, 30))
        current = random_world(rng, range(1, 30))
        for eid in list(current)[: rng.randint(0, 8)]:  # small edits of kept entities
            if eid in baseline:
                old = list(baseline[eid])
                old[rng.randrange(len(old))] += 1
                current[eid] = tuple(old)
        changes, removed = diff(baseline, current)
        if rng.random() < 0.3:  # spoil it: every kind of mismatch section 6.2 names
            spoil = rng.choice(["mask", "high", "removed", "short", "unknown", "duplicate"])
            if spoil == "mask" and changes:
                changes[rng.randrange(len(changes))][1] ^= 1 << rng.randrange(8)
            elif spoil == "high" and changes:  # same bit count, one bit past the last field
                change = changes[rng.randrange(len(changes))]
                change[1] = (change[1] & (change[1] - 1)) | 1 << 7
            elif spoil == "removed":
                removed.append(rng.choice([999, *removed[:1]]))
            elif spoil == "short" and changes:
                changes[0] = changes[0][:2]
            elif spoil == "unknown":
                changes.append([rng.randint(100, 110), 3, 1, 2, 3])
            elif spoil == "duplicate" and changes:
                changes.append(list(changes[0]))
        cases.append(
            {
                "op": "delta",
                "baseline": [[k, list(v)] for k, v in baseline.items()],
                "changes": changes,
                "removed": removed,
            }
        )
    errors = 0
    for case, result in zip(cases, run_harness(cases), strict=True):
        baseline = {k: tuple(v) for k, v in case["baseline"]}
        try:
            expected = apply(baseline, case["changes"], case["removed"])
        except DeltaError:
            errors += 1
            assert result.get("error", {}).get("code") == 4002, f"JS accepted {case}: {result}"
            continue
        assert ok(result, case) == sorted([k, list(v)] for k, v in expected.items()), case
    assert 50 < errors < 400


# ----------------------------------------------------------------------- the client session


def arena_session(seed: int) -> list[tuple[Any, ...]]:
    """A real arena driven tick by tick; the steps a client sees: server messages (hex) and
    its own inputs. Snapshots are full, deltas, skipped (conflation) or, rarely, against a
    wrong baseline."""
    rng = random.Random(seed)
    tick_rate = rng.choice([20, 30, 60])
    settings = ArenaSettings(
        obstacle_count=rng.randint(0, 12),
        width=rng.choice([400.0, 1000.0]),
        height=rng.choice([300.0, 1000.0]),
    )
    arena = ArenaWorld(settings, seed=seed, tick_rate=tick_rate)
    me = arena.join("me")
    others = [arena.join(f"bot{i}") for i in range(rng.randint(0, 5))]
    welcome = Welcome(
        1,
        me,
        tick_rate,
        tick_rate,
        int(settings.width),
        int(settings.height),
        arena.tick,
        "arena",
        arena.rules.client_params(),
        "resume",
    )
    steps: list[tuple[Any, ...]] = [("message", encode(welcome).hex())]
    baseline: dict[int, tuple[int, ...]] = {}
    baseline_tick = 0
    in_flight: collections.deque[tuple[int, int]] = collections.deque()
    lag = rng.randint(0, 3)  # ticks between sending a frame and the server consuming it
    seq = ack = buttons = 0
    events: list[list[int]] = []
    for _ in range(rng.randint(60, 150)):
        if rng.random() < 0.15:
            buttons = rng.randrange(32)
        seq += 1
        steps.append(("input", seq, buttons))
        in_flight.append((seq, buttons))
        if len(in_flight) > lag:
            ack, consumed = in_flight.popleft()
            arena.send(me, consumed, 8192)
        for bot in others:
            arena.send(bot, rng.randrange(32), rng.randrange(65536))
        events += [e.wire(arena.rules) for e in arena.step()]
        if rng.random() < 0.2:
            continue  # conflated: this snapshot is skipped, the baseline stays
        state = arena.wire_state()
        full = baseline_tick == 0 or rng.random() < 0.1
        changes, removed = diff({} if full else baseline, state)
        wrong = not full and rng.random() < 0.03
        snapshot = Snapshot(
            arena.tick,
            baseline_tick - 1 if wrong else (0 if full else baseline_tick),
            arena.tick * 33,
            ack,
            tuple(map(tuple, changes)),
            tuple(removed),
            tuple(map(tuple, events)),
        )
        steps.append(("message", encode(snapshot).hex()))
        if not wrong:
            baseline, baseline_tick, events = dict(state), arena.tick, []
        if rng.random() < 0.1:
            steps.append(("message", encode(Pong(seq, arena.tick * 33)).hex()))
        if rng.random() < 0.05:
            steps.append(("message", encode(Error(2, "resume token unknown")).hex()))
    return steps


def python_session(steps: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    client = GameClient("ws://unused", role=Role.PLAYER, name="me")
    out: list[dict[str, Any]] = []

    async def main() -> None:
        for kind, *args in steps:
            try:
                if kind == "message":
                    client.handle(bytes.fromhex(args[0]))
                elif client.predictor is not None:
                    session = client.session
                    assert session.seq + 1 == args[0]
                    session.input_message(session.input_from_wire((args[1],)))
            except ProtocolError as exc:
                out.append({"error": {"name": type(exc).__name__, "code": int(exc.code)}})
                continue
            p = client.predictor
            out.append(
                {
                    "tick": client.tick,
                    "ack_seq": client.ack_seq,
                    "entity_id": client.entity_id,
                    "world": sorted([k, list(v)] for k, v in client.world.items()),
                    "predicted": list(p.position or ()) if p is not None and p.known else None,
                }
            )

    trio.run(main)
    return out


def test_js_session_follows_a_real_arena_like_the_python_client() -> None:
    sessions = [arena_session(seed) for seed in range(12)]
    cases = [{"op": "session", "role": 0, "steps": steps} for steps in sessions]
    mismatches = 0
    for steps, case, result in zip(sessions, cases, run_harness(cases), strict=True):
        expected = python_session(steps)
        got = ok(result, case)
        assert len(got) == len(expected)
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert g == e, f"step {i} ({steps[i][0]}) differs"
        mismatches += sum("error" in e for e in expected)
    assert mismatches > 0  # the wrong-baseline snapshots were refused on both sides


# ----------------------------------------------------------------------- client helpers


def test_js_prediction_matches_python() -> None:
    rng = random.Random(7)
    cases: list[dict[str, Any]] = []
    for _ in range(60):
        settings = ArenaSettings(
            width=rng.choice([1000.0, 500.0]),
            height=1000.0,
            player_radius=rng.choice([16.0, 10.0]),
            player_speed=rng.choice([200.0, 333.0]),
        )
        tick_rate = rng.choice([20, 30, 60])
        obstacles = [
            [2, rng.randrange(16000), rng.randrange(16000), rng.randrange(480, 1120)]
            for _ in range(rng.randint(0, 6))
        ]
        # A twin predictor tells where the prediction is, so reconciles can land near it:
        # no error, one grid step (not a correction), a few steps (smoothed) or far (snap).
        twin = Predictor(settings, tick_rate, obstacles=[tuple(o) for o in obstacles])
        ops: list[list[Any]] = []
        seq = 0
        for _ in range(rng.randint(20, 80)):
            r = rng.random()
            if r < 0.55:
                seq += rng.choice([1, 1, 1, 2])
                ops.append(["input", seq, rng.randrange(256)])
                twin.apply_input(seq, ops[-1][2])
            elif r < 0.85:
                if twin.known and rng.random() < 0.7:
                    dx, dy = rng.choice([(0, 0), (1, 0), (0, -1), (1, 1), (3, -2), (-40, 9)])
                    x_q, y_q, ack = twin.x_q + dx, twin.y_q + dy, seq  # nothing left to replay
                else:
                    x_q, y_q = rng.randrange(16000), rng.randrange(16000)
                    ack = rng.randint(max(0, seq - 5), seq)
                ops.append(["reconcile", x_q, y_q, ack, rng.random() < 0.9])
                twin.reconcile(*ops[-1][1:])
            else:
                ops.append(["render", rng.choice([0.0, 0.005, 0.016, 0.1, rng.random()])])
                twin.render_position(ops[-1][1])
        cases.append(
            {
                "op": "predict",
                "params": {
                    "width": settings.width,
                    "height": settings.height,
                    "player_radius": settings.player_radius,
                    "player_speed": settings.player_speed,
                },
                "tick_rate": tick_rate,
                "obstacles": obstacles,
                "smoothing_s": rng.choice([0.1, 0.0, 0.25]),
                "snap_distance": rng.choice([100.0, 20.0]),
                "ops": ops,
            }
        )
    corrections = snaps = 0
    for case, result in zip(cases, run_harness(cases), strict=True):
        settings = ArenaSettings(**case["params"])
        p = Predictor(
            settings,
            case["tick_rate"],
            obstacles=[tuple(o) for o in case["obstacles"]],
            smoothing_s=case["smoothing_s"],
            snap_distance=case["snap_distance"],
        )
        for op, got in zip(case["ops"], ok(result, case), strict=True):
            if op[0] == "input":
                p.apply_input(op[1], op[2])
            elif op[0] == "reconcile":
                p.reconcile(*op[1:])
            else:
                rx, ry = p.render_position(op[1])
                assert got["render"] == pytest.approx([rx, ry], rel=1e-12, abs=1e-12)
            assert (got["x"], got["y"]) == (p.x, p.y)
            assert (got["ox"], got["oy"]) == pytest.approx(p.offset, rel=1e-12, abs=1e-12)
            assert (got["known"], got["alive"], got["pending"]) == (p.known, p.alive, p.pending)
            assert (got["corrections"], got["snaps"]) == (p.corrections, p.snaps)
        corrections += p.corrections
        snaps += p.snaps
    assert corrections > snaps > 0  # smoothed corrections and snaps both happened


@rules.entity
class Runner:
    x: float = rules.fixed(16, -(2**40), 2**40, interpolate=True, position="x")
    y: float = rules.fixed(16, -(2**40), 2**40, interpolate=True, position="y")
    heading: float = rules.angle(256, interpolate=True)


@rules.entity
class Flyer:
    x: float = rules.fixed(16, -(2**40), 2**40, interpolate=True, position="x")
    y: float = rules.fixed(16, -(2**40), 2**40, interpolate=True, position="y")
    heading: float = rules.angle(256, interpolate=True)


@rules.entity
class Rock:
    x: float = rules.fixed(16, 0, 2**40, position="x")
    y: float = rules.fixed(16, 0, 2**40, position="y")
    radius: float = rules.fixed(16, 0, 2**40)


# The browser's interpolation moves kinds 0 and 1 as (x, y, angle) and skips kind 2: a
# game declaring just that, as a client rebuilds it.
MOVING_SCHEMA = rules.GameSchema.from_description(
    rules.GameSchema(entities=[Runner, Flyer, Rock]).describe()
)


def steps(radians: float) -> float:
    return radians * 256 / (2 * math.pi)


def test_js_interpolation_matches_python() -> None:
    rng = random.Random(8)
    cases: list[dict[str, Any]] = []
    for _ in range(60):
        ops: list[list[Any]] = []
        t = rng.uniform(0, 100)
        entities = {
            eid: [
                rng.choice([0, 1]),
                rng.randrange(16000),
                rng.randrange(16000),
                rng.randrange(256),
            ]
            for eid in range(1, 8)
        }
        for _ in range(rng.randint(5, 60)):
            if rng.random() < 0.5:
                t += rng.choice([1 / 30, 1 / 20, 0.0, -0.01, rng.uniform(0, 0.2)])
                for e in entities.values():
                    e[1] += rng.choice([0, 53, -106, 75, 20000])  # 20000: a teleport
                    e[3] = rng.randrange(300)
                world = [[k, list(v)] for k, v in entities.items() if rng.random() < 0.9]
                world.append([99, [2, 100, 100, 800]])  # an obstacle: never buffered
                ops.append(["push", t, world])
            else:
                ops.append(["sample", t + rng.uniform(-0.5, 0.2), None])
        cases.append(
            {
                "op": "interpolate",
                "delay_s": 0.1,
                "max_extrapolation_s": rng.choice([0.05, 0.0, 0.2]),
                "capacity": rng.choice([2, 4, 32]),
                "teleport_speed": rng.choice([1000.0, 100.0]),
                "ops": ops,
            }
        )
    for case, result in zip(cases, run_harness(cases), strict=True):
        interp = Interpolator(
            MOVING_SCHEMA,
            case["delay_s"],
            case["max_extrapolation_s"],
            case["capacity"],
            teleport_speed=case["teleport_speed"],
        )
        for (kind, time, world), got in zip(case["ops"], ok(result, case), strict=True):
            if kind == "push":
                interp.push(time, {k: tuple(v) for k, v in world})
                assert got == len(interp)
            else:
                views = interp.sample(time)
                expected = [[k, v.x, v.y, steps(v.heading)] for k, v in sorted(views.items())]
                assert [row[0] for row in got] == [row[0] for row in expected]
                for g, e in zip(got, expected, strict=True):
                    assert g[1:] == pytest.approx(e[1:], rel=1e-12, abs=1e-9)


def test_js_clock_matches_python() -> None:
    rng = random.Random(9)
    cases: list[dict[str, Any]] = []
    for _ in range(40):
        ops: list[list[Any]] = []
        local = rng.uniform(0, 1000)
        for _ in range(rng.randint(1, 60)):
            local += rng.uniform(0, 1)
            if rng.random() < 0.5:
                rtt = rng.choice([rng.uniform(0.001, 0.3), -0.01, 2.0])
                ops.append(["pong", local - rtt, local, local + 5000 + rng.uniform(-0.01, 0.01)])
            else:
                ops.append(["snapshot", local, local + 5000 - rng.uniform(0, 0.1)])
        cases.append({"op": "clock", "window": rng.choice([1, 4, 16]), "ops": ops})
    for case, result in zip(cases, run_harness(cases), strict=True):
        clock = ClockEstimator(case["window"])
        for (kind, a, b, *rest), got in zip(case["ops"], ok(result, case), strict=True):
            if kind == "pong":
                clock.on_pong(a, b, rest[0])
            else:
                clock.on_snapshot(a, b)
            assert got["samples"] == clock.samples
            for key, value in (("rtt", clock.rtt_s), ("offset", clock.offset_s)):
                assert got[key] == (None if value is None else pytest.approx(value, rel=1e-12))
            assert got["now"] == pytest.approx(clock.server_now(a), rel=1e-12)
