"""The rules API as a room drives it, through the headless kit: a tiny game with secrets."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import pytest

from gameserver import rules
from gameserver.rules import MatchResult, Player, Private, Rules, TickCommand, TickInput, Viewer
from gameserver.testing import Headless, run_seeded


class Move(enum.IntEnum):
    STAY = 0
    UP = 1


@rules.entity
class Token:
    owner: int = rules.integer(0, 64)
    height: int = rules.integer(0, 1000)
    secret: int = rules.integer(0, 99)  # only its owner sees the real value


@rules.message
class Controls:
    move: Move = rules.enum(Move)


@rules.message
class Guess:
    number: int = rules.integer(0, 99)


@rules.message
class Guessed:
    player: int = rules.integer(0, 64)
    right: bool = rules.boolean()


@rules.message
class Told:
    number: int = rules.integer(0, 99)


@attrs.frozen
class Settings:
    goal: int = attrs.field(default=5, validator=attrs.validators.gt(0))


class Climb(Rules[Controls, Settings]):
    """Climb to the goal; guess another token's secret to win at once."""

    id = "climb"
    schema = rules.GameSchema(
        entities=[Token], input=Controls, commands=[Guess], events=[Guessed, Told]
    )
    settings_type = Settings

    def __init__(self, settings: Settings, seed: int, *, tick_rate: int | None = None) -> None:
        super().__init__(settings, seed, tick_rate=tick_rate)
        self.tokens: dict[int, Token] = {}
        self.by_player: dict[str, int] = {}
        self.fresh_seen: list[bool] = []
        self.winner: str | None = None

    def join(self, player: Player) -> int:
        entity_id = len(self.tokens) + 1
        self.tokens[entity_id] = Token(owner=entity_id, height=0, secret=self.random.randrange(100))
        self.by_player[player.id] = entity_id
        return entity_id

    def leave(self, player: Player) -> None:
        del self.tokens[self.by_player.pop(player.id)]

    def step(
        self, inputs: Sequence[TickInput[Controls]], commands: Sequence[TickCommand]
    ) -> list[Any]:
        events: list[Any] = []
        for given in inputs:
            self.fresh_seen.append(given.fresh)
            if given.value.move is Move.UP:
                self.tokens[given.entity_id].height += 1
                if self.tokens[given.entity_id].height >= self.settings.goal:
                    self.winner = self.winner or given.player.id
        for sent in commands:
            mine = self.by_player[sent.player.id]
            right = any(
                t.secret == sent.command.number for e, t in self.tokens.items() if e != mine
            )
            events.append(Guessed(player=mine, right=right))
            events.append(
                Private(Told(number=self.tokens[mine].secret), frozenset({sent.player.id}))
            )
            if right:
                self.winner = sent.player.id
        return events

    def entities(self) -> Mapping[int, Token]:
        return self.tokens

    def view(self, viewer: Viewer) -> Mapping[int, Token]:
        mine = self.by_player.get(viewer.player.id) if viewer.player is not None else None
        return {e: t if e == mine else attrs.evolve(t, secret=0) for e, t in self.tokens.items()}

    def result(self) -> MatchResult | None:
        return None if self.winner is None else MatchResult((self.winner,), summary="won")


def test_inputs_repeat_until_replaced_and_are_marked_not_fresh() -> None:
    game: Headless[Controls] = Headless(Climb, seed=1)
    ada = game.join("ada")
    game.input(ada, Controls(move=Move.UP))
    game.step(3)
    assert game.rules.fresh_seen == [True, False, False]
    assert game.tick == 3
    assert game.wire_state()[1] == (0, 1, 3, game.rules.tokens[1].secret)


def test_hidden_values_never_reach_other_viewers() -> None:
    game: Headless[Controls] = Headless(Climb, seed=2)
    ada, bob = game.join("ada"), game.join("bob")
    game.step()
    secrets = {e: t.secret for e, t in game.rules.tokens.items()}
    assert game.view(ada)[1][3] == secrets[1] and game.view(ada)[2][3] == 0
    assert game.view(bob)[2][3] == secrets[2] and game.view(bob)[1][3] == 0
    assert all(wire[3] == 0 for wire in game.view(None).values())
    decoded = game.decoded_view(bob)
    assert decoded[2].secret == secrets[2] and decoded[1].height == 0


def test_commands_and_private_events() -> None:
    game: Headless[Controls] = Headless(Climb, seed=3)
    ada, bob = game.join("ada"), game.join("bob")
    game.command(ada, Guess(number=game.rules.tokens[2].secret))
    sent = game.step()
    assert [type(e.event) for e in sent] == [Guessed, Told]
    assert sent[0].wire(game.rules) == [1, 0, 1, 1]  # tick 1, kind 0, player 1, right
    assert [type(e.event) for e in game.events_for(bob)] == [Guessed]
    assert [type(e.event) for e in game.events_for(ada)] == [Guessed, Told]
    result = game.rules.result()
    assert result is not None and result.ranking == ("p1",)


def test_bad_values_are_refused_as_the_server_would() -> None:
    game: Headless[Controls] = Headless(Climb)
    ada = game.join("ada")
    with pytest.raises(rules.EncodeError):  # what the rules' own code gets
        game.command(ada, Guess(number=100))
    with pytest.raises(rules.SchemaError):  # what a client sending it gets (close 4002)
        game.rules.schema.commands.from_wire([0, 100])


def test_same_script_same_hash_and_save_restore() -> None:
    script = [(0, "ada", Controls(move=Move.UP)), (2, "bob", Controls(move=Move.UP))]
    assert run_seeded(Climb, script, seed=5, ticks=10) == run_seeded(
        Climb, script, seed=5, ticks=10
    )
    assert run_seeded(Climb, script, seed=5, ticks=10) != run_seeded(
        Climb, script, seed=6, ticks=10
    )
    game: Headless[Controls] = Headless(Climb, seed=9)
    game.input(game.join("ada"), Controls(move=Move.UP))
    game.step(2)
    copy = Climb.restore(game.rules.save())
    assert copy.state_hash() == game.rules.state_hash()
    assert copy.wire_state() == game.wire_state()


def test_settings_are_validated_and_problems_named() -> None:
    with pytest.raises(ValueError):
        Settings(goal=0)

    class Broken(Rules[Any, Any]):
        id = "Not OK"

    problems = " ".join(rules.rules_class_problems(Broken))
    assert "lowercase" in problems and "schema" in problems and "step()" in problems
    with pytest.raises(TypeError, match="schema"):
        Headless(Broken)
