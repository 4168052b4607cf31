"""A game's bot driven through the schema the Welcome describes, as a client decodes it."""

from __future__ import annotations

import math
from typing import Any

import cbor2
import pytest

from gameserver.clients import ReceivedEvent
from gameserver.clients.botdriver import (
    BotDriver,
    BotLoadError,
    behaviour_bot,
    game_bot,
    load_bot,
    schema_from_welcome,
)
from gameserver.games import arena, crazyeights
from gameserver.games.arena import behaviours
from gameserver.protocol import Command, decode_client_message
from gameserver.rules import Act, BotView

ARENA = arena.ArenaRules.schema


class Recorder:
    """A bot that remembers what it was shown and answers as told."""

    def __init__(self, answer: Act) -> None:
        self.answer = answer
        self.views: list[BotView] = []

    def act(self, view: BotView) -> Act:
        self.views.append(view)
        return self.answer


def welcome_description(schema: Any) -> dict[str, Any]:
    # As it arrives: through CBOR, with the Welcome's extra keys.
    return dict(cbor2.loads(cbor2.dumps({**schema.describe(), "id": "x", "version": 1})))


def test_entities_and_new_events_reach_the_bot_and_its_input_is_encoded() -> None:
    # A client's angles are radians (the description's Angle), whatever the rules hold.
    bot = Recorder(Act(input=arena.Controls(buttons=arena.Buttons.FIRE, aim=math.pi)))  # type: ignore[arg-type]
    schema = schema_from_welcome(welcome_description(ARENA))
    driver = BotDriver(bot, schema, me=5)
    me = arena.Player(x=10.0, y=20.0, aim=0, hp=100, score=3)
    entities = {5: schema.entity_from_wire(ARENA.entity_to_wire(me))}
    hit = [0, *ARENA.events.to_wire(arena.Hit(shooter=5, target=6, damage=10, hp_after=90))[1:]]
    events = [ReceivedEvent(7, schema.events.from_wire(hit))]
    assert driver.on_decoded_snapshot(7, entities, events) == []
    assert driver.on_decoded_snapshot(8, entities, events) == []  # the same event is not news
    later = [*events, ReceivedEvent(9, schema.events.from_wire(hit))]
    assert driver.on_decoded_snapshot(9, entities, later) == []
    first, second, third = bot.views
    assert first.me == 5 and type(first.entities[5]).__name__ == "Player"
    assert (first.entities[5].x, first.entities[5].score) == (10.0, 3)
    assert [type(e).__name__ for e in first.events] == ["Hit"] and second.events == []
    assert len(third.events) == 1  # only the one after the last seen
    assert driver.input_fields == (int(arena.Buttons.FIRE), 32768)


def test_commands_are_encoded_by_their_class_name() -> None:
    schema = crazyeights.CrazyEights.schema
    driver = BotDriver(Recorder(Act(commands=(crazyeights.Ready(),))), schema_from_welcome(
        welcome_description(schema)), me=2)  # fmt: skip
    (payload,) = driver.on_decoded_snapshot(1, {}, [])
    message = decode_client_message(payload)
    assert isinstance(message, Command)
    assert message.fields == tuple(schema.commands.to_wire(crazyeights.Ready()))
    assert driver.input_fields is None  # the card game takes commands only


def test_bots_are_found_by_game_name_or_given_and_refused_clearly() -> None:
    assert game_bot("crazyeights") is crazyeights.Bot
    assert load_bot("gameserver.games.arena:Bot") is arena.Bot
    for spec, words in (
        ("no_colon", "package.module:Class"),
        ("no.such.module:Bot", "cannot import"),
        ("gameserver.games.arena:ArenaSettings", "not a bot class"),
    ):
        with pytest.raises(BotLoadError, match=words):
            load_bot(spec)
    with pytest.raises(BotLoadError, match="give --bot"):
        game_bot("unheard-of")
    with pytest.raises(BotLoadError, match="protocol 1"):
        schema_from_welcome(None)


def test_the_arena_bot_driven_through_the_description_aims_at_its_target() -> None:
    # Bob straight below Ada (+y): a quarter turn, 16384 of 65536 in the rules' units.
    rules_schema = arena.ArenaRules.schema
    schema = schema_from_welcome(welcome_description(ARENA))
    driver = BotDriver(arena.Bot(0), schema, me=1)
    ada = arena.Player(x=100.0, y=100.0, aim=0, hp=100, score=0)
    bob = arena.Player(x=100.0, y=300.0, aim=0, hp=100, score=0)
    entities = {
        eid: schema.entity_from_wire(ARENA.entity_to_wire(p)) for eid, p in ((1, ada), (2, bob))
    }
    driver.on_decoded_snapshot(1, entities, [])
    assert driver.input_fields is not None
    assert rules_schema.input is not None
    received = rules_schema.input.from_wire(list(driver.input_fields))
    assert received.aim == arena.AIM_STEPS // 4
    assert received.buttons & arena.Buttons.FIRE and received.buttons & arena.Buttons.DOWN


def test_behaviours_are_found_in_the_games_package_by_name() -> None:
    assert behaviour_bot("arena", "bench") is behaviours.Bench
    with pytest.raises(BotLoadError, match=r"no behaviour 'nope'.*bench"):
        behaviour_bot("arena", "nope")
    with pytest.raises(BotLoadError, match="ships no behaviours"):
        behaviour_bot("crazyeights", "bench")


def test_a_bench_bot_without_a_world_changes_its_input_at_every_snapshot() -> None:
    schema = schema_from_welcome(welcome_description(ARENA))
    driver = BotDriver(behaviours.Bench(3), schema, me=1)
    seen = set()
    for tick in range(1, 31):
        assert driver.on_blind_snapshot(tick) == []
        assert driver.input_fields is not None
        seen.add(driver.input_fields)
    assert len(seen) == 30  # a new aim every time: every player changes every tick
    for name in ("wander", "chase", "idle", "mixed"):
        mixed = BotDriver(behaviours.BEHAVIOURS[name](0), schema, me=1)
        mixed.on_blind_snapshot(1)
        assert mixed.input_fields is not None  # each sends an input without a world
