"""A game's saved state is data: it round-trips, keeps what is shared, and runs nothing."""

from __future__ import annotations

import collections
import enum
import pickle
import random
from typing import Any, NamedTuple

import attrs
import cbor2
import pytest

from gameserver.games.arena import ArenaRules
from gameserver.games.bench import Bench
from gameserver.games.crazyeights import CrazyEights
from gameserver.rules import (
    Player,
    Rules,
    StateError,
    game_modules,
    load_state,
    save_state,
)
from gameserver.rules.loading import load_rules
from gameserver.testing import Headless

HERE = (__name__,)
RAN: list[str] = []  # what a hostile payload would append to


class Colour(enum.IntEnum):
    RED = 1
    BLUE = 2


class Point(NamedTuple):
    x: float
    y: float


@attrs.define
class Unit:
    id: int
    at: Point
    colour: Colour
    tags: set[str] = attrs.field(factory=set)


@attrs.frozen
class Frozen:
    name: str


class Plain:
    def __init__(self) -> None:
        self.count = 3


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self) -> None:
        self.a = 1  # b stays unset


def test_everything_a_state_holds_round_trips_and_what_is_shared_stays_shared() -> None:
    unit = Unit(1, Point(1.5, -0.0), Colour.BLUE, {"fast"})
    rng = random.Random(42)
    rng.random()
    state: dict[str, Any] = {
        "units": {1: unit},
        "by_player": {"p1": unit},  # the same object
        "order": [unit, (1, "x", b"\x00")],
        "frozen": frozenset({Frozen("a")}),
        "history": collections.deque([(1, {2: (3.0, 4.0)})], maxlen=5),
        "random": rng,
        "plain": Plain(),
        "slotted": Slotted(),
        "player": Player("p1", "Ada", {"role": "admin"}),
        "big": 2**80,
        "none": None,
    }
    back = load_state(save_state(state), modules=HERE)
    assert back["units"][1] == unit and back["units"][1] is back["by_player"]["p1"]
    assert back["order"][0] is back["units"][1]
    back["units"][1].tags.add("slow")  # mutated through one path, seen through the other
    assert back["by_player"]["p1"].tags == {"fast", "slow"}
    assert type(back["units"][1].at) is Point and back["units"][1].colour is Colour.BLUE
    assert back["history"].maxlen == 5 and back["history"][0] == (1, {2: (3.0, 4.0)})
    assert back["random"].random() == rng.random()
    assert back["plain"].count == 3 and back["slotted"].a == 1
    assert not hasattr(back["slotted"], "b")
    assert back["player"] == state["player"] and back["player"].claims == {"role": "admin"}
    assert back["frozen"] == state["frozen"] and back["big"] == 2**80


def test_what_cannot_be_data_is_refused_when_saving_naming_where() -> None:
    with pytest.raises(StateError, match=r"state\[.hook.\]"):
        save_state({"hook": print})
    with pytest.raises(StateError, match="top level"):

        class Local:
            pass

        save_state({"x": [Local()]})


@pytest.mark.parametrize(
    "tree",
    [
        [6, "os:system", []],  # a function, not a class of the game
        [6, "subprocess:Popen", []],  # a class outside the game's package
        [7, "os:SEEK_SET", 0],
        [6, f"{__name__}:collections.OrderedDict", []],  # reached through a re-export
        [6, f"{__name__}:Colour", []],  # an enum made without its value
        [6, f"{__name__}:Plain", ["__class__", [1]]],  # a dunder
        [6, f"{__name__}:Slotted", ["c", 1]],  # no such slot
        [0, 5],  # a reference to nothing
        [99],
        [2, [0, 0]],  # a tuple containing itself
    ],
)
def test_a_hostile_or_damaged_state_is_refused(tree: Any) -> None:
    with pytest.raises(StateError):
        load_state(cbor2.dumps(tree), modules=HERE)


class Pickled:
    """Unpickling this runs code: what a pickle-based restore would do with a bad file."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (f"import sys; sys.modules[{__name__!r}].RAN.append('ran')",))


@pytest.mark.parametrize("rules_class", [ArenaRules, CrazyEights, Bench])
def test_restore_never_runs_code_from_the_data(rules_class: type[Rules[Any, Any]]) -> None:
    payload = pickle.dumps({"tick": Pickled()})
    with pytest.raises(StateError):
        rules_class.restore(payload)
    assert RAN == []


@pytest.mark.parametrize("rules_class", [ArenaRules, CrazyEights, Bench])
def test_every_shipped_game_saves_data_that_names_only_its_own_classes(
    rules_class: type[Rules[Any, Any]],
) -> None:
    game: Headless[Any] = Headless(rules_class, seed=3)
    for name in ("a", "b", "c"):
        game.join(name)
    game.step(40)
    saved = game.rules.save()
    assert rules_class.restore(saved).state_hash() == game.rules.state_hash()
    names: list[str] = []

    def walk(node: Any) -> None:
        if type(node) is list and node and node[0] in (6, 7, 10):
            names.append(node[1])
        if type(node) is list:
            for item in node:
                walk(item)

    walk(cbor2.loads(saved))
    package = game_modules(rules_class)[0]
    assert all(n.startswith(package) or n.startswith("gameserver.rules._api:") for n in names)


@pytest.mark.parametrize("rules_class", [ArenaRules, CrazyEights, Bench])
def test_a_state_saved_before_the_modules_became_private_still_restores(
    rules_class: type[Rules[Any, Any]],
) -> None:
    """Recordings written before name classes by their old modules (``...arena.rules``,
    ``gameserver.rules.api``): a replay of them restores the same game."""
    game: Headless[Any] = Headless(rules_class, seed=5)
    for name in ("a", "b", "c"):
        game.join(name)
    game.step(30)
    renamed: list[str] = []

    def old_names(node: Any) -> Any:
        if type(node) is list and node and node[0] in (6, 7, 10) and type(node[1]) is str:
            module, _, qualname = node[1].partition(":")
            package, _, last = module.rpartition(".")
            old = f"{package}.{last.removeprefix('_')}:{qualname}"
            renamed.append(old) if old != node[1] else None
            return [node[0], old, *(old_names(item) for item in node[2:])]
        if type(node) is list:
            return [old_names(item) for item in node]
        if type(node) is dict:
            return {key: old_names(value) for key, value in node.items()}
        return node

    before = cbor2.dumps(old_names(cbor2.loads(game.rules.save())))
    assert renamed  # the saved state named classes in modules that are private now
    assert rules_class.restore(before).state_hash() == game.rules.state_hash()
    module = {ArenaRules: "arena", CrazyEights: "crazyeights", Bench: "bench"}[rules_class]
    old_spec = f"gameserver.games.{module}.{'game' if module == 'bench' else 'rules'}"
    assert load_rules(f"{old_spec}:{rules_class.__name__}") is rules_class  # a game named so


def test_an_old_module_name_reaches_only_its_own_private_successor() -> None:
    with pytest.raises(StateError, match="no such module"):
        load_state(
            cbor2.dumps([6, "gameserver.games.arena.nothing:X", []]),
            modules=("gameserver.games.arena",),
        )
