"""Playing any game from a connection: a rules-API bot driven by the Welcome's schema.

Theory of operation: a game's bot (``gameserver.rules.Bot``) is written against what a
client decodes, so the swarm needs no game-specific code to run it. The Welcome names the
game and describes it; ``GameSchema.from_description`` rebuilds the decoding from that
description alone, as a client in any language would. After each new snapshot the
driver hands the bot (``BotView``) the connection's decoded entities and the events
that are new since it last asked, and encodes its answer: the input, kept and sent every
tick until the bot replaces it (``input_fields``), with the input schema; each command,
by its class name, with the command schema.

Sans-I/O: the trio swarm and the lean loop both decode with the client session's
``World`` (``gameserver.clients.session``), which decodes an entity only when the bot
reads it, and drive the bot through the same driver.

Which bot: ``--bot package.module:Class``, or the game's own ``Bot``, found next to the
game's rules class by the game's name (``gameserver.rules.loading``): each shipped game
exports one, and so does a game made with ``gameserver new-game``. ``--behaviour NAME``
names one of the load patterns a game may ship beside its rules: the ``BEHAVIOURS``
mapping (name -> bot class) of its package's ``behaviours`` module.

A bot whose connection does not decode (most of a lean swarm's load bots) is asked with
an empty world (``on_blind_snapshot``): patterns that need no world cost no decoding.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gameserver.protocol import Command, Welcome, encode
from gameserver.rules import Act, Bot, BotView, GameSchema, SchemaError
from gameserver.rules.loading import available_games

from .session import ReceivedEvent, schema_of

BotFactory = Callable[[int], Bot]  # Bot(seed)
_NO_ENTITIES: Mapping[int, Any] = {}


class BotLoadError(Exception):
    """No bot can be made for the game: the message says what to give instead."""


def load_bot(spec: str) -> BotFactory:
    """The bot class ``spec`` names (``package.module:Class``)."""
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise BotLoadError(f"a bot is given as package.module:Class, not {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise BotLoadError(f"cannot import {module_name!r} for bot {spec!r}: {error}") from None
    cls = getattr(module, attribute, None)
    if cls is None or not callable(getattr(cls, "act", None)):
        raise BotLoadError(f"{spec!r} is not a bot class (one with an act(view) method)")
    factory: BotFactory = cls
    return factory


def _rules_module(game: str) -> str:
    """The module of the installed game ``game``'s rules class."""
    rules = available_games().get(game)
    if rules is None:
        raise BotLoadError(f"no game named {game!r} is installed here: give --bot")
    return rules.partition(":")[0]


def game_bot(game: str) -> BotFactory:
    """The bot the game ``game`` (its name, as the Welcome gives it) ships with."""
    module = _rules_module(game)
    try:
        return load_bot(f"{module}:Bot")
    except BotLoadError:
        raise BotLoadError(f"game {game!r} ships no Bot next to its rules: give --bot") from None


def behaviour_bot(game: str, name: str) -> BotFactory:
    """The load pattern ``name`` the game ``game`` ships (its package's ``behaviours``)."""
    module_name = _rules_module(game)
    try:
        module = importlib.import_module(f"{module_name}.behaviours")
    except ImportError:
        raise BotLoadError(f"game {game!r} ships no behaviours: give --bot") from None
    offered: Mapping[str, BotFactory] = getattr(module, "BEHAVIOURS", {})
    factory = offered.get(name)
    if factory is None:
        choices = ", ".join(offered) or "none"
        raise BotLoadError(f"game {game!r} has no behaviour {name!r} (it has: {choices})")
    return factory


def choose_bot(game: str, *, bot: str | None = None, behaviour: str | None = None) -> BotFactory:
    """The bot for ``game``: ``bot`` (package.module:Class), else the game's behaviour
    ``behaviour``, else the game's own bot."""
    if bot is not None:
        return load_bot(bot)
    if behaviour is not None:
        return behaviour_bot(game, behaviour)
    return game_bot(game)


def schema_from_welcome(description: Mapping[str, Any] | None) -> GameSchema:
    """The decoding schema of the Welcome's game description (protocol 2), rebuilt once
    per description in a process (``session.schema_of``), not once per bot."""
    if description is None:
        raise BotLoadError("the server sent no game description (protocol 1): no bot can play")
    try:
        return schema_of(dict(description))
    except SchemaError as error:
        raise BotLoadError(f"the server's game description is not usable: {error}") from None


class BotDriver:
    """One connection's bot: decoded entities and events in, input fields and command
    payloads out."""

    __slots__ = (
        "_commands",
        "_input_to_wire",
        "_params",
        "_tick_rate",
        "_world_size",
        "bot",
        "input_fields",
        "last_event_tick",
        "me",
    )

    def __init__(
        self, bot: Bot, schema: GameSchema, me: int, welcome: Welcome | None = None
    ) -> None:
        """``welcome``: the connection's, for what the bot's view says of the room (its
        tick rate, world size and the game's client parameters)."""
        self.bot = bot
        self.me = me
        # What the view says of the room (BotView's defaults without a Welcome).
        self._tick_rate = 30
        self._world_size: tuple[float, float] | None = None
        self._params: dict[str, float] = {}
        if welcome is not None:
            size = (float(welcome.world_width), float(welcome.world_height))
            self._tick_rate = welcome.tick_rate
            self._world_size = size if welcome.world_width or welcome.world_height else None
            self._params = dict(welcome.params)
        self.input_fields: tuple[int | str, ...] | None = None  # sent every tick once set
        self._commands = {message.name: message for message in schema.commands.messages}
        self._input_to_wire = None if schema.input is None else schema.input.to_wire
        self.last_event_tick = 0

    def on_decoded_snapshot(
        self, tick: int, entities: Mapping[int, Any], events: Sequence[ReceivedEvent]
    ) -> list[bytes]:
        """Ask the bot about the world at ``tick``; the encoded Commands to send now.

        ``entities``: the connection's decoded entities by id (a session's ``World``), and
        ``events`` the events it keeps, oldest first; those after the last one seen are
        handed to the bot. ``entities`` reaches the bot as it is: a ``World`` decodes only
        the entities the bot reads, so a bot that reads none costs no decoding (the mapping
        changes with the next snapshot)."""
        fresh = []
        seen = self.last_event_tick
        for received in reversed(events):  # the new ones are at the end
            if received.tick <= seen:
                break
            fresh.append(received.event)
        if fresh:
            fresh.reverse()
            self.last_event_tick = events[-1].tick
        return self._act(tick, entities, fresh)

    def on_blind_snapshot(self, tick: int) -> list[bytes]:
        """As ``on_decoded_snapshot``, for a connection that does not decode: an empty
        world."""
        return self._act(tick, _NO_ENTITIES, ())

    def _act(self, tick: int, entities: Mapping[int, Any], events: Sequence[Any]) -> list[bytes]:
        view = BotView(
            tick,
            self.me,
            entities,
            events,
            tick_rate=self._tick_rate,
            world_size=self._world_size,
            params=self._params,
        )
        act: Act = self.bot.act(view)
        if act.input is not None:
            self.input_fields = self._input(act.input)
        if not act.commands:
            return []
        return [self._command(command) for command in act.commands]

    def _input(self, value: object) -> tuple[int | str, ...]:
        to_wire = self._input_to_wire
        if to_wire is None:
            raise TypeError("this game takes no input: its bot should send commands")
        return tuple(to_wire(value))

    def _command(self, command: object) -> bytes:
        message = self._commands.get(type(command).__name__)
        if message is None:
            raise TypeError(f"the game declares no command named {type(command).__name__}")
        return encode(Command(tuple(message.to_wire(command))))
