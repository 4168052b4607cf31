"""The browser SDK decodes and encodes every shipped game from its Welcome alone.

For each game the server ships (``available_games()``), a real Welcome of protocol 2
(the game's description as its host makes it) goes to the SDK through
``tests/js/harness.mjs``, with entity tuples and events: those of a few real ticks, and
random ones in every field's range. What the SDK decodes must be what
``GameSchema.from_description`` decodes in Python; the commands and inputs it encodes
from decoded values must be the wire values they came from, and pass the server's strict
decoder and the game's own checks.
"""

from __future__ import annotations

import enum
import math
import random
import string
from typing import Any

import attrs
import pytest

from gameserver.core import GameHost
from gameserver.protocol import Command, Input, Welcome, decode_client_message, encode
from gameserver.rules import GameSchema, Player
from gameserver.rules.loading import available_games, load_rules, make_settings

from .test_web_client import ok, run_harness

GAMES = sorted(available_games())
TEXT = string.ascii_letters + string.digits + " éß中😀"


def host_of(game: str, seed: int) -> GameHost:
    rules_class = load_rules(game)
    return GameHost(rules_class(make_settings(rules_class, {}), seed), tick_rate=30)


def random_wire(field: dict[str, Any], rng: random.Random) -> int | str:
    """A random wire value in the range of a field's description."""
    kind = field["type"]
    if kind in ("int", "fixed"):
        lo, hi = field["min"], field["max"]
        return rng.choice([lo, hi, rng.randint(lo, hi)])
    if kind == "angle":
        return rng.randrange(field["steps"])
    if kind == "enum":
        return int(rng.choice(list(field["members"].values())))
    if kind == "flags":
        return sum(bit for bit in field["members"].values() if rng.random() < 0.5)
    if kind == "bool":
        return rng.randint(0, 1)
    assert kind == "text", kind
    return "".join(rng.choice(TEXT) for _ in range(rng.randint(1, min(12, field["max_chars"]))))


def js_value(field: dict[str, Any], wire: int | str) -> Any:
    """What a page passes to the SDK for a wire value, by the description's rules."""
    kind = field["type"]
    if kind == "fixed":
        return wire / field["scale"]
    if kind == "angle":
        assert isinstance(wire, int)
        return wire * 2 * math.pi / field["steps"]
    if kind == "enum":
        return next(name for name, value in field["members"].items() if value == wire)
    if kind == "flags":
        assert isinstance(wire, int)
        return [name for name, bit in field["members"].items() if wire & bit]
    if kind == "bool":
        return bool(wire)
    return wire


def py_decoded(value: Any) -> Any:
    """A Python-decoded field as the SDK shows it: members by name, flags as booleans."""
    if isinstance(value, enum.IntFlag):
        members = type(value).__members__
        return {name: bool(value & member) for name, member in members.items()}
    if isinstance(value, enum.Enum):
        return value.name
    return value


def same_fields(got: dict[str, Any], expected: dict[str, Any]) -> None:
    assert set(got) == set(expected), (got, expected)
    for name, value in expected.items():
        if isinstance(value, float):
            assert got[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name
        else:
            assert got[name] == value and type(got[name]) is type(value), (name, got, expected)


def game_case(game: str, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A harness case for ``game`` and what Python expects of it."""
    rng = random.Random(seed)
    host = host_of(game, seed)
    description = host.describe()
    schema = GameSchema.from_description(description)
    for n in range(3):
        host.join(Player(f"p{n}", f"player{n}"))
    entities: dict[int, tuple[Any, ...]] = {}
    events: list[list[Any]] = []
    for _ in range(20):
        for hosted, _to in host.step():
            events.append([host.tick, *hosted])
        entities.update(host.wire_state())
    entity_docs = description["entities"]
    for n in range(30):  # every entity type, every field anywhere in its range
        kind = n % len(entity_docs)
        fields = entity_docs[kind]["fields"]
        entities[1000 + n] = (kind, *(random_wire(f, rng) for f in fields))
    for kind, doc in enumerate(description["events"]):
        events.append(
            [rng.randrange(1, 10**6), kind, *(random_wire(f, rng) for f in doc["fields"])]
        )
    commands: list[tuple[str, dict[str, Any], list[Any]]] = []
    for kind, doc in enumerate(description["commands"]):
        for _ in range(3):
            wire = [random_wire(f, rng) for f in doc["fields"]]
            values = {f["name"]: js_value(f, w) for f, w in zip(doc["fields"], wire, strict=True)}
            commands.append((doc["name"], values, [kind, *wire]))
    inputs: list[tuple[dict[str, Any], list[Any]]] = []
    if description["input"] is not None:
        fields = description["input"]["fields"]
        for _ in range(10):
            wire = [random_wire(f, rng) for f in fields]
            values = {f["name"]: js_value(f, w) for f, w in zip(fields, wire, strict=True)}
            inputs.append((values, wire))
    welcome = Welcome(2, 1, 30, 30, 0, 0, 0, game, {}, "r" * 24, description)
    case = {
        "op": "game",
        "welcome": encode(welcome).hex(),
        "entities": [[eid, list(t)] for eid, t in entities.items()],
        "events": events,
        "commands": [[name, values] for name, values, _ in commands],
        "inputs": [values for values, _ in inputs],
    }
    expected = {
        "schema": schema,
        "host": host,
        "entities": entities,
        "events": events,
        "commands": [wire for _, _, wire in commands],
        "inputs": [wire for _, wire in inputs],
    }
    return case, expected


def test_every_shipped_game_decodes_and_encodes_as_python_does() -> None:
    assert {"arena", "crazyeights", "bench"} <= set(GAMES)
    pairs = [game_case(game, seed) for game in GAMES for seed in (1, 2)]
    cases = [case for case, _ in pairs]
    kinds_seen: set[str] = set()
    for (case, expected), result in zip(pairs, run_harness(cases), strict=True):
        got = ok(result, case)
        schema: GameSchema = expected["schema"]
        host: GameHost = expected["host"]
        for (eid, tuple_), decoded in zip(
            expected["entities"].items(), got["entities"], strict=True
        ):
            obj = schema.entity_from_wire(tuple_)
            assert decoded.pop("id") == eid and decoded.pop("kind") == tuple_[0]
            assert decoded.pop("type") == type(obj).__name__
            same_fields(decoded, {k: py_decoded(v) for k, v in vars_of(obj).items()})
        for event, decoded in zip(expected["events"], got["events"], strict=True):
            obj = schema.events.from_wire(event[1:])
            assert decoded.pop("tick") == event[0] and decoded.pop("kind") == event[1]
            assert decoded.pop("type") == type(obj).__name__
            same_fields(decoded, {k: py_decoded(v) for k, v in vars_of(obj).items()})
        for wire, data in zip(expected["commands"], got["commands"], strict=True):
            message = decode_client_message(bytes.fromhex(data))  # the strict decoder
            assert message == Command(tuple(wire))
            host.decode_command(message.fields)  # and the game's own checks
        for seq, (wire, data) in enumerate(zip(expected["inputs"], got["inputs"], strict=True)):
            message = decode_client_message(bytes.fromhex(data), input_fields=len(wire))
            assert message == Input(seq + 1, tuple(wire), 0)
            host.decode_input(message.fields)
        kinds_seen |= {f["type"] for t in schema_docs(host) for f in t["fields"]}
    # Between them the shipped games use every kind of field a description may hold.
    assert kinds_seen == {"int", "fixed", "angle", "enum", "flags", "bool", "text"}


def vars_of(obj: Any) -> dict[str, Any]:
    return attrs.asdict(obj, recurse=False) if attrs.has(type(obj)) else dict(vars(obj))


def schema_docs(host: GameHost) -> list[dict[str, Any]]:
    description = host.describe()
    docs = [*description["entities"], *description["commands"], *description["events"]]
    return docs + ([description["input"]] if description["input"] else [])


def test_out_of_range_values_are_refused_before_anything_is_sent() -> None:
    """The server would close the connection for them (4002): the SDK refuses to encode."""
    host = host_of("crazyeights", 1)
    welcome = Welcome(2, 1, 30, 30, 0, 0, 0, "crazyeights", {}, "r" * 24, host.describe())
    case = {
        "op": "game",
        "welcome": encode(welcome).hex(),
        "entities": [[1, [9, 0]], [2, [1, 0, 7, 3, 0, 0, 0, 0]]],  # unknown kind; text as int
        "events": [[1, 99]],
        "commands": [
            ["Play", {"suit": "HEARTS", "rank": 14, "named": "NONE"}],
            ["Play", {"suit": "ROSES", "rank": 2, "named": "NONE"}],
            ["Play", {"suit": "HEARTS", "rank": 2}],
            ["Fold", {}],
        ],
        "inputs": [{"dx": 1}],
    }
    [result] = run_harness([case])
    got = ok(result, case)
    assert [e["error"]["code"] for e in got["entities"]] == [4002, 4002]
    assert got["events"][0]["error"]["code"] == 4002
    assert all(c["error"]["name"] == "RangeError" for c in got["commands"])
    assert "no command Fold" in got["commands"][3]["error"]["message"]
    assert "takes no input" in got["inputs"][0]["error"]["message"]
