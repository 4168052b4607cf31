"""The rules API's schema layer: wire types, declared classes, game schemas, descriptions."""

from __future__ import annotations

import contextlib
import enum
import math
import random
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver import rules
from gameserver.games.arena import POSITION_SCALE, ArenaSettings, EntityKind
from gameserver.protocol import CloseCode, apply, diff

from .arena_world import ArenaWorld

# ---------------------------------------------------------------- an arena-like game


class PlayerFlags(enum.IntFlag):
    ALIVE = 1
    COOLDOWN = 2


class Buttons(enum.IntFlag):  # six bits, so that 64 is an undeclared one
    UP = 1
    DOWN = 2
    LEFT = 4
    RIGHT = 8
    FIRE = 16
    HITSCAN = 32


class Team(enum.IntEnum):
    RED = 0
    BLUE = 1


class Action(enum.IntEnum):
    NONE = 0
    PLAY_CARD = 1
    PICK_TEAM = 2


WORLD = 1000.0
ID_MAX = 2**53 - 1


@rules.entity
class Player:
    x: float = rules.fixed(POSITION_SCALE, 0, WORLD, interpolate=True, position="x")
    y: float = rules.fixed(POSITION_SCALE, 0, WORLD, interpolate=True, position="y")
    aim: int = rules.binary_angle(256, 65536, interpolate=True)
    hp: int = rules.integer(0, 100)
    score: int = rules.integer(0, 2**31 - 1)
    flags: PlayerFlags = rules.flags(PlayerFlags)
    cooldown: int = 0  # the rules' own: never sent


@rules.entity
class Projectile:
    x: float = rules.fixed(POSITION_SCALE, 0, WORLD, interpolate=True, position="x")
    y: float = rules.fixed(POSITION_SCALE, 0, WORLD, interpolate=True, position="y")
    aim: int = rules.binary_angle(256, 65536)
    owner: int = rules.integer(1, ID_MAX)


@rules.entity
class Obstacle:
    x: float = rules.fixed(POSITION_SCALE, 0, WORLD, position="x")
    y: float = rules.fixed(POSITION_SCALE, 0, WORLD, position="y")
    radius: float = rules.fixed(POSITION_SCALE, 0, WORLD)


@rules.entity
class Flag:  # no position; text and booleans, for a game with them
    label: str = rules.text(12)
    held: bool = rules.boolean()
    team: Team = rules.enum(Team)
    heading: float = rules.angle(64, interpolate=True)


@rules.message
class Controls:
    buttons: Buttons = rules.flags(Buttons)
    aim: int = rules.binary_angle(65536, 65536)
    action: Action = rules.enum(Action, default=Action.NONE)
    argument: int = rules.integer(0, 51, default=0)


@rules.message
class Ready:
    pass


@rules.message
class PickTeam:
    team: Team = rules.enum(Team)


@rules.message
class PlayCard:
    card: int = rules.integer(0, 51)


@rules.message
class Hit:
    shooter: int = rules.integer(1, ID_MAX)
    target: int = rules.integer(1, ID_MAX)
    damage: int = rules.integer(0, 100)
    hp_after: int = rules.integer(0, 100)


@rules.message
class Said:
    who: int = rules.integer(1, ID_MAX)
    text: str = rules.text(40)


GAME = rules.GameSchema(
    entities=[Player, Projectile, Obstacle, Flag],
    input=Controls,
    commands=[Ready, PickTeam, PlayCard],
    events=[Hit, Said],
)

# ---------------------------------------------------------------- strategies

anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=6)
    | st.binary(max_size=4),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=10,
)
positions = st.floats(0, WORLD, allow_nan=False)


def printable_text(max_chars: int) -> st.SearchStrategy[str]:
    characters = st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"))
    return st.text(characters | st.just(" "), max_size=max_chars)


printable = printable_text(12)

players = st.builds(
    Player,
    x=positions,
    y=positions,
    aim=st.integers(0, 65535),
    hp=st.integers(0, 100),
    score=st.integers(0, 2**31 - 1),
    flags=st.sampled_from([PlayerFlags(v) for v in range(4)]),
)
projectiles = st.builds(
    Projectile, x=positions, y=positions, aim=st.integers(-(2**20), 2**20), owner=st.integers(1, 99)
)
obstacles = st.builds(Obstacle, x=positions, y=positions, radius=st.floats(0, 70))
flags_entities = st.builds(
    Flag,
    label=printable,
    held=st.booleans(),
    team=st.sampled_from(Team),
    heading=st.floats(-10, 10, allow_nan=False),
)
entities = players | projectiles | obstacles | flags_entities


def wire_types() -> st.SearchStrategy[rules.WireType[Any]]:
    ints = st.integers(-(2**40), 2**40)
    return st.one_of(
        st.tuples(ints, ints).map(lambda b: rules.Int(min(b), max(b))),
        st.tuples(
            st.sampled_from([1, 10, 16, 100, 0.25]), st.floats(-1e4, 1e4), st.floats(0, 1e4)
        ).map(lambda a: rules.Fixed(a[0], a[1], a[1] + a[2])),
        st.integers(2, 65536).map(rules.Angle),
        st.integers(1, 16).flatmap(
            lambda bits: st.integers(2, 2**bits).map(lambda n: rules.BinaryAngle(n, 2**bits))
        ),
        st.just(rules.Enum(Team)),
        st.just(rules.Enum(Action)),
        st.just(rules.Flags(PlayerFlags)),
        st.just(rules.Flags(Buttons)),
        st.just(rules.Bool()),
        st.integers(1, 64).map(rules.Text),
    )


def valid_value(wire_type: rules.WireType[Any]) -> st.SearchStrategy[Any]:
    match wire_type:
        case rules.Int(lo=lo, hi=hi):
            return st.integers(lo, hi)
        case rules.Fixed(lo=lo, hi=hi):
            return st.floats(lo, hi)
        case rules.Angle():
            return st.floats(-100.0, 100.0)
        case rules.BinaryAngle():
            return st.integers(-(2**40), 2**40)
        case rules.Enum(enum_class=cls) | rules.Flags(flag_class=cls):
            return st.sampled_from(list(wire_type.describe()["members"].values())).map(cls)
        case rules.Bool():
            return st.booleans()
        case rules.Text(max_chars=n):
            return printable_text(n)
    raise AssertionError(wire_type)


# ---------------------------------------------------------------- field types


@given(st.data())
def test_every_field_type_round_trips_within_its_quantization(data: st.DataObject) -> None:
    wire_type = data.draw(wire_types())
    value = data.draw(valid_value(wire_type))
    raw = wire_type.to_wire(value)
    assert type(raw) in (int, str)
    back = wire_type.from_wire(raw)
    assert wire_type.to_wire(back) == raw  # decoding gives a value that encodes the same
    match wire_type:
        case rules.Fixed(scale=scale):
            assert abs(back - value) <= 0.5 / scale + 1e-9 * max(1.0, abs(value))
            assert type(raw) is int and wire_type.wire_lo <= raw <= wire_type.wire_hi
        case rules.Angle(steps=steps):
            assert 0.0 <= back < 2 * math.pi
            turn = (back - value) % (2 * math.pi)
            assert min(turn, 2 * math.pi - turn) <= math.pi / steps + 1e-9
        case rules.BinaryAngle(steps=steps, rules_steps=rules_steps):
            assert raw == (value % rules_steps) * steps // rules_steps
            assert 0 <= value % rules_steps - back < rules_steps / steps  # the same bucket
        case _:
            assert back == value and type(back) is type(value)


@given(st.data())
def test_every_wire_value_in_range_decodes_and_encodes_back_exactly(data: st.DataObject) -> None:
    wire_type = data.draw(wire_types())
    raw = wire_type.to_wire(data.draw(valid_value(wire_type)))
    assert wire_type.to_wire(wire_type.from_wire(raw)) == raw


@given(st.data(), anything)
def test_strict_decoding_raises_only_schema_error(data: st.DataObject, raw: object) -> None:
    wire_type = data.draw(wire_types())
    try:
        value = wire_type.from_wire(raw)
    except rules.SchemaError as exc:
        assert exc.code == CloseCode.INVALID_MESSAGE
    else:
        assert wire_type.to_wire(value) == raw  # only what to_wire could have produced


@pytest.mark.parametrize(
    ("wire_type", "raw"),
    [
        (rules.Int(0, 10), True),
        (rules.Int(0, 10), 1.0),
        (rules.Int(0, 10), 11),
        (rules.Fixed(16, 0, 10), 161),
        (rules.Fixed(16, 0, 10), 16.0),
        (rules.Angle(256), 256),
        (rules.Angle(256), -1),
        (rules.Enum(Team), 2),
        (rules.Enum(Team), False),
        (rules.Flags(PlayerFlags), 4),
        (rules.Flags(PlayerFlags), -1),
        (rules.Bool(), True),
        (rules.Bool(), 2),
        (rules.Text(4), "hello"),
        (rules.Text(4), "a\nb"),
        (rules.Text(4), b"ab"),
    ],
)
def test_strict_decoding_refuses(wire_type: rules.WireType[Any], raw: object) -> None:
    with pytest.raises(rules.SchemaError) as caught:
        wire_type.from_wire(raw)
    assert caught.value.code == CloseCode.INVALID_MESSAGE
    assert int(caught.value.code) == 4002


@pytest.mark.parametrize(
    ("wire_type", "value"),
    [
        (rules.Int(0, 10), 11),
        (rules.Int(0, 10), 2.0),
        (rules.Int(0, 10), True),
        (rules.Fixed(16, 0, 10), 10.1),
        (rules.Fixed(16, 0, 10), math.nan),
        (rules.Fixed(16, 0, 10), "1"),
        (rules.Angle(256), math.inf),
        (rules.BinaryAngle(256), 1.5),
        (rules.Enum(Team), 7),
        (rules.Flags(PlayerFlags), 4),
        (rules.Bool(), 1),
        (rules.Text(4), "hello"),
    ],
)
def test_out_of_range_values_from_the_rules_are_never_sent(
    wire_type: rules.WireType[Any], value: object
) -> None:
    with pytest.raises(rules.EncodeError):
        wire_type.to_wire(value)


def test_angles_wrap_and_binary_angles_send_their_top_bits() -> None:
    assert rules.Angle(256).to_wire(2 * math.pi) == 0
    assert rules.Angle(256).to_wire(-math.pi / 2) == 192
    assert rules.BinaryAngle(256).to_wire(65535) == 255
    assert [rules.BinaryAngle(256).to_wire(a) for a in (0, 255, 256, 40000)] == [0, 0, 1, 156]


def test_hints_are_checked_where_they_are_declared() -> None:
    with pytest.raises(ValueError, match="interpolated"):
        rules.Bool(interpolate=True)
    with pytest.raises(ValueError, match="position"):
        rules.Angle(256, position="x")
    with pytest.raises(ValueError, match="position"):
        rules.Int(0, 1, position="w")
    with pytest.raises(ValueError, match="lo <= hi"):
        rules.Int(5, 1)
    with pytest.raises(ValueError):
        rules.Int(0, 2**60)  # beyond what a JavaScript client holds exactly


# ---------------------------------------------------------------- declared classes


def test_fields_without_a_wire_type_stay_on_the_server() -> None:
    player = Player(x=1.0, y=2.0, aim=0, hp=100, score=0, flags=PlayerFlags.ALIVE, cooldown=9)
    wire = GAME.entity_to_wire(player)
    assert wire == (0, 16, 32, 0, 100, 0, 1)
    assert GAME.entity_from_wire(wire).cooldown == 0
    assert [name for name, _ in rules.wire_fields(Player)] == [
        "x", "y", "aim", "hp", "score", "flags"
    ]  # fmt: skip

    with pytest.raises(TypeError, match="needs a default"):

        @rules.entity
        class Broken:
            x: int = rules.integer(0, 1)
            secret: int


def test_a_position_needs_both_coordinates() -> None:
    @rules.entity
    class HalfPlaced:
        x: int = rules.integer(0, 10, position="x")

    with pytest.raises(ValueError, match="'x' and a 'y'"):
        rules.GameSchema(entities=[HalfPlaced])


@given(st.lists(entities, max_size=6))
def test_entities_round_trip_through_their_wire_tuples(objs: list[Any]) -> None:
    for obj in objs:
        wire = GAME.entity_to_wire(obj)
        schema = GAME.entity(type(obj))
        fields = zip(schema.field_names, schema.wire_types, strict=True)
        assert wire == (schema.kind, *(wt.to_wire(getattr(obj, name)) for name, wt in fields))
        assert GAME.entity_to_wire(GAME.entity_from_wire(wire)) == wire


@given(entities, st.data())
def test_the_compiled_encoder_agrees_with_the_field_types(obj: Any, data: st.DataObject) -> None:
    """Whatever the rules put in a field, the compiled encoder does what the field type does."""
    schema = GAME.entity(type(obj))
    name = data.draw(st.sampled_from(schema.field_names))
    wire_type = schema.wire_types[schema.field_names.index(name)]
    value = data.draw(anything | valid_value(wire_type) | st.integers(-3, 3) | st.floats(-1, 1))
    mutated = type(obj)(**{n: getattr(obj, n) for n in schema.field_names} | {name: value})
    try:
        expected = wire_type.to_wire(value)
    except rules.EncodeError:
        with pytest.raises(rules.EncodeError) as caught:
            schema.to_wire(mutated)
        assert caught.value.field == f"{schema.name}.{name}"
    else:
        wire = schema.to_wire(mutated)
        assert wire[1 + schema.field_names.index(name)] == expected
        assert all(type(v) in (int, str) for v in wire)


def test_positions_are_found_from_the_schema() -> None:
    obstacle = Obstacle(x=100.5, y=200.25, radius=30.0)
    wire = GAME.entity_to_wire(obstacle)
    assert GAME.position(wire) == (100.5, 200.25)
    layout = GAME.position_layout(GAME.entity(Obstacle).kind)
    assert layout == rules.PositionLayout(1, 2, 16.0, 16.0)
    flag = Flag(label="red", held=False, team=Team.RED, heading=0.0)
    assert GAME.position(GAME.entity_to_wire(flag)) is None


# ---------------------------------------------------------------- input, commands, events


def test_input_is_validated_into_a_typed_object() -> None:
    schema = GAME.input
    assert schema is not None
    controls = schema.from_wire([17, 40000, 1, 7])
    assert controls == Controls(
        buttons=Buttons.UP | Buttons.FIRE, aim=40000, action=Action.PLAY_CARD, argument=7
    )
    assert type(controls.buttons) is Buttons
    assert schema.to_wire(controls) == [17, 40000, 1, 7]


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        ([64, 0, 0, 0], "Controls.buttons", "bits 0x3f"),
        ([0, 65536, 0, 0], "Controls.aim", "[0, 65535]"),
        ([0, 0, 3, 0], "Controls.action", "one of [0, 1, 2]"),
        ([0, 0, 0, True], "Controls.argument", "[0, 51]"),
        ([0, 0, 0], "Controls", "4 items"),
        ({"aim": 0}, "Controls", "array"),
    ],
)
def test_bad_input_closes_with_4002_naming_the_field(raw: object, field: str, reason: str) -> None:
    assert GAME.input is not None
    with pytest.raises(rules.SchemaError) as caught:
        GAME.input.from_wire(raw)
    assert caught.value.code == 4002
    assert caught.value.field == field
    assert reason in str(caught.value) and field in str(caught.value)


def test_commands_and_events_are_named_typed_messages() -> None:
    assert GAME.commands.from_wire([0]) == Ready()
    assert GAME.commands.from_wire([1, 1]) == PickTeam(team=Team.BLUE)
    assert GAME.commands.from_wire([2, 7]) == PlayCard(card=7)
    assert GAME.commands.to_wire(PlayCard(card=7)) == [2, 7]
    assert GAME.events.to_wire(Hit(shooter=3, target=4, damage=25, hp_after=75)) == [
        0,
        3,
        4,
        25,
        75,
    ]
    assert GAME.events.from_wire([1, 9, "gg"]) == Said(who=9, text="gg")
    with pytest.raises(rules.SchemaError, match=r"PlayCard\.card"):
        GAME.commands.from_wire([2, 52])
    with pytest.raises(rules.SchemaError, match="unknown command kind 3"):
        GAME.commands.from_wire([3])
    with pytest.raises(rules.EncodeError, match=r"Hit\.damage"):
        GAME.events.to_wire(Hit(shooter=3, target=4, damage=101, hp_after=0))
    with pytest.raises(TypeError):
        GAME.commands.to_wire(Hit(shooter=3, target=4, damage=1, hp_after=0))


def test_an_entity_the_rules_got_wrong_is_named() -> None:
    with pytest.raises(rules.EncodeError, match=r"Player\.hp: must be an integer in \[0, 100\]"):
        GAME.entity_to_wire(Player(x=1.0, y=1.0, aim=0, hp=101, score=0, flags=PlayerFlags.ALIVE))


@given(anything)
def test_decoding_anything_raises_only_schema_error(raw: object) -> None:
    assert GAME.input is not None
    for decode in (
        GAME.entity_from_wire,
        GAME.input.from_wire,
        GAME.commands.from_wire,
        GAME.events.from_wire,
    ):
        with contextlib.suppress(rules.SchemaError):
            decode(raw)


@given(st.lists(st.integers(0, 3) | st.integers(-5, 2**33) | printable | st.booleans(), max_size=8))
def test_decoding_entity_like_arrays_raises_only_schema_error(raw: list[Any]) -> None:
    for wire in (raw, tuple(raw)):
        try:
            obj = GAME.entity_from_wire(wire)
        except rules.SchemaError:
            continue
        assert GAME.entity_to_wire(obj) == tuple(wire)


# ---------------------------------------------------------------- descriptions


def test_the_description_is_cbor_and_says_everything() -> None:
    doc = GAME.describe()
    assert cbor2.loads(cbor2.dumps(doc)) == doc
    player = doc["entities"][0]
    assert player["name"] == "Player"
    assert player["fields"][0] == {
        "name": "x",
        "type": "fixed",
        "scale": 16,
        "min": 0,
        "max": 16000,
        "interpolate": True,
        "position": "x",
    }
    assert player["fields"][2] == {
        "name": "aim", "type": "angle", "steps": 256, "interpolate": True
    }  # fmt: skip
    assert player["fields"][5] == {
        "name": "flags",
        "type": "flags",
        "class": "PlayerFlags",
        "members": {"ALIVE": 1, "COOLDOWN": 2},
        "interpolate": False,
    }
    assert [c["name"] for c in doc["commands"]] == ["Ready", "PickTeam", "PlayCard"]
    assert doc["input"]["fields"][1] == {
        "name": "aim", "type": "angle", "steps": 65536, "interpolate": False
    }  # fmt: skip


CLIENT = rules.GameSchema.from_description(cbor2.loads(cbor2.dumps(GAME.describe())))


def test_a_rebuilt_schema_describes_itself_identically() -> None:
    assert CLIENT.describe() == GAME.describe()


def _same_value(client_value: Any, server_value: Any, wire_type: rules.WireType[Any]) -> bool:
    if isinstance(wire_type, rules.BinaryAngle):
        return math.isclose(
            client_value, server_value * 2 * math.pi / wire_type.rules_steps, abs_tol=1e-12
        )
    if isinstance(wire_type, rules.Enum | rules.Flags):  # a generated class of the same shape
        return type(client_value).__name__ == type(server_value).__name__ and (
            client_value.name == server_value.name and int(client_value) == int(server_value)
        )
    return bool(client_value == server_value)


@given(st.lists(entities, max_size=6))
def test_a_rebuilt_schema_decodes_exactly_what_the_original_encodes(objs: list[Any]) -> None:
    for obj in objs:
        wire = GAME.entity_to_wire(obj)
        schema = GAME.entity(type(obj))
        server_view = schema.from_wire(wire)
        client_view = CLIENT.entity_from_wire(wire)
        assert type(client_view).__name__ == schema.name
        assert CLIENT.entity_to_wire(client_view) == wire
        assert GAME.position(wire) == CLIENT.position(wire)
        for name, wire_type in zip(schema.field_names, schema.wire_types, strict=True):
            assert _same_value(getattr(client_view, name), getattr(server_view, name), wire_type)


def test_a_rebuilt_schema_decodes_input_commands_and_events() -> None:
    assert CLIENT.input is not None and GAME.input is not None
    raw = [int(Buttons.LEFT), 16384, 2, 0]
    client_input = CLIENT.input.from_wire(raw)
    assert client_input.aim == pytest.approx(math.pi / 2)
    assert client_input.action.name == "PICK_TEAM"
    assert (
        CLIENT.input.to_wire(client_input) == raw == GAME.input.to_wire(GAME.input.from_wire(raw))
    )
    said = CLIENT.events.from_wire([1, 9, "gg"])
    assert (type(said).__name__, said.who, said.text) == ("Said", 9, "gg")
    with pytest.raises(rules.SchemaError, match=r"PlayCard\.card"):
        CLIENT.commands.from_wire([2, 52])


def _paths(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found += _paths(value, (*path, i))
    return found


DESCRIPTION = GAME.describe()
DESCRIPTION_PATHS = _paths(DESCRIPTION)


@settings(max_examples=300)
@given(st.sampled_from(DESCRIPTION_PATHS), anything)
def test_a_damaged_description_raises_only_schema_error(path: tuple[Any, ...], value: Any) -> None:
    doc = cbor2.loads(cbor2.dumps(DESCRIPTION))  # a deep copy
    if not path:
        doc = value
    else:
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value
    try:
        rebuilt = rules.GameSchema.from_description(doc)
    except rules.SchemaError as exc:
        assert exc.code == 4002
    else:
        assert (
            rebuilt.describe() == rules.GameSchema.from_description(rebuilt.describe()).describe()
        )


def test_a_welcome_description_with_keys_a_newer_server_adds_still_decodes() -> None:
    # docs/protocol.md 4.4.1: a client must ignore the description's keys it does not know,
    # so a client of this version keeps working against a server that adds one.
    doc = {
        "id": "game",
        "version": 3,
        "prediction": None,
        **cbor2.loads(cbor2.dumps(DESCRIPTION)),
        "rules_url": "https://example.com/rules",
        "teams": [{"name": "red"}],
    }
    client = rules.GameSchema.from_description(doc)
    assert client.describe() == DESCRIPTION


def test_private_enum_classes_describe_and_rebuild() -> None:
    class _Mood(enum.IntEnum):
        CALM = 0
        ANGRY = 1

    @rules.entity
    class Creature:
        mood: _Mood = rules.enum(_Mood)

    game = rules.GameSchema(entities=[Creature])
    client = rules.GameSchema.from_description(game.describe())
    assert client.describe() == game.describe()
    assert client.entity_from_wire((0, 1)).mood.name == "ANGRY"


@pytest.mark.parametrize(
    "name", ["self", "class", "_private", "not an identifier", "x", 3]
)  # fmt: skip
def test_a_description_with_unusable_names_is_refused(name: object) -> None:
    doc = cbor2.loads(cbor2.dumps(DESCRIPTION))
    doc["entities"][0]["fields"][1]["name"] = name  # "x" duplicates field 0
    with pytest.raises(rules.SchemaError):
        rules.GameSchema.from_description(doc)


# ---------------------------------------------------------------- the wire as today


ARENA_LIKE = rules.GameSchema(entities=[Player, Projectile, Obstacle])


def test_kinds_are_the_arenas() -> None:
    kinds = [ARENA_LIKE.entity(cls).kind for cls in (Player, Projectile, Obstacle)]
    assert kinds == [EntityKind.PLAYER, EntityKind.PROJECTILE, EntityKind.OBSTACLE]


def test_an_arena_like_schema_produces_the_arenas_wire_tuples() -> None:
    arena = ArenaWorld(ArenaSettings(projectile_damage=1), seed=5)  # nobody dies: aims apply
    ids = [arena.join(f"p{i}") for i in range(8)]
    rng = random.Random(3)
    aims: dict[int, int] = {}
    for _ in range(45):
        for pid in ids:
            aims[pid] = rng.randrange(65536)
            arena.send(pid, rng.randrange(16) | int(Buttons.FIRE), aims[pid])
        arena.step()
    state = arena.wire_state()
    assert {wire[0] for wire in state.values()} == {0, 1, 2}
    for wire in state.values():  # every tuple the arena sends fits the schema, and survives it
        assert ARENA_LIKE.entity_to_wire(ARENA_LIKE.entity_from_wire(wire)) == wire
    for pid in ids:  # and the schema quantizes the arena's own values as the arena does
        position = arena.position(pid)
        score = arena.rules.score(arena.player(pid))
        assert position is not None and score is not None
        sent = ARENA_LIKE.entity_from_wire(state[pid])
        player = Player(
            x=position[0],
            y=position[1],
            aim=aims[pid],
            hp=sent.hp,
            score=score,
            flags=sent.flags,
        )
        assert ARENA_LIKE.entity_to_wire(player) == state[pid]
    for obstacle in arena.obstacles:
        obstacle_wire = ARENA_LIKE.entity_to_wire(
            Obstacle(x=obstacle.x, y=obstacle.y, radius=obstacle.radius)
        )
        assert obstacle_wire == state[obstacle.id]


@given(
    st.dictionaries(st.integers(1, 30), entities, max_size=12),
    st.dictionaries(st.integers(1, 30), entities, max_size=12),
)
def test_protocol_deltas_work_on_schema_tuples(
    before: dict[int, Any], after: dict[int, Any]
) -> None:
    baseline, current = GAME.wire_state(before), GAME.wire_state(after)
    changes, removed = diff(baseline, current)  # type: ignore[arg-type]  # text values too
    # Over CBOR and back, as a snapshot body carries them.
    changes, removed = cbor2.loads(cbor2.dumps([changes, removed]))
    assert apply(baseline, changes, removed) == current  # type: ignore[arg-type]
