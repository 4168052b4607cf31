"""Step a game's rules without a server, exactly as a room would.

Theory of operation: ``Headless`` makes the rules with settings and a seed, and keeps
what a room keeps for them: the players, the newest input of each (repeated on ticks
when none is given, marked not fresh), and the commands given since the last step. Each
``step()`` calls ``rules.step`` with them in join order, advances ``rules.tick``, and
checks what a room would send: every entity and every event must encode with the
game's schema (a rule that produces an unencodable value fails here, in the developer's
test, not in production). Views are encoded the same way, so a test can assert what a
given player's connection would receive.

Same calls, same seed: same world (``state_hash``), which is what ``replay --verify``
relies on. ``save()`` and ``Headless.restored`` take a match between two steps and
continue it, in the format of the room's own snapshots (``gameserver/core/savedgame.py``):
a headless save restores in a room's ``GameHost`` and a recording's snapshot here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

import attrs

from gameserver.core.savedgame import SavedGame, checked
from gameserver.rules import (
    SPECTATOR,
    Act,
    BotView,
    GameSchema,
    Player,
    Private,
    Rules,
    TickCommand,
    TickInput,
    Viewer,
    WireTuple,
    WireValue,
    rules_class_problems,
)
from gameserver.rules.hosting import hook_events, joined

InputT = TypeVar("InputT")
# A game's schema as a client rebuilds it from the description, made once per schema
# (building its classes is slow): the schema itself is kept, so its id is never reused.
_client_schemas: dict[int, tuple[GameSchema, GameSchema]] = {}


@attrs.frozen
class SentEvent:
    """An event as a room would send it: the tick, the event, who gets it (None: all)."""

    tick: int
    event: Any
    to: frozenset[str] | None = None

    def wire(self, rules: Rules[Any, Any]) -> list[WireValue]:
        """``[tick, kind, *args]``, as it rides in a snapshot."""
        return [self.tick, *rules.schema.events.to_wire(self.event)]


class Headless(Generic[InputT]):
    """One room's worth of rules, stepped by hand."""

    def __init__(
        self,
        rules_class: type[Rules[InputT, Any]],
        settings: object | None = None,
        *,
        seed: int = 0,
        tick_rate: int | None = None,
    ) -> None:
        problems = rules_class_problems(rules_class)
        if problems:
            raise TypeError("; ".join(problems))
        if settings is None:
            settings = rules_class.settings_type()
        self.rules: Rules[InputT, Any] = rules_class(settings, seed, tick_rate=tick_rate)
        self.players: dict[str, Player] = {}
        self.entity_of: dict[str, int] = {}
        self._inputs: dict[str, TickInput[InputT]] = {}
        self._commands: list[TickCommand] = []
        self.events: list[SentEvent] = []  # every event so far
        self._hook_events: list[Any] = []  # returned by join & co., sent with the next step
        self._next_id = 1

    @property
    def tick(self) -> int:
        return self.rules.tick

    # -- membership ------------------------------------------------------------------

    def join(
        self, name: str, *, player_id: str | None = None, claims: Mapping[str, Any] | None = None
    ) -> Player:
        if player_id is None:
            player_id = f"p{self._next_id}"
            self._next_id += 1
        if player_id in self.players:
            raise ValueError(f"player {player_id!r} is already in the game")
        player = Player(player_id, name, dict(claims or {}))
        self.players[player_id] = player
        self.entity_of[player_id], events = joined(self.rules.join(player))
        self._hook_events += events
        return player

    def leave(self, player: Player) -> None:
        del self.players[player.id]
        self.entity_of.pop(player.id, None)
        self._inputs.pop(player.id, None)
        self._hook_events += hook_events(self.rules.leave(player), "leave")

    def disconnect(self, player: Player) -> None:
        """As a room does when a connection is lost: its input stops until it is back."""
        self._inputs.pop(player.id, None)
        self._hook_events += hook_events(self.rules.disconnected(player), "disconnected")

    def reconnect(self, player: Player) -> None:
        self._hook_events += hook_events(self.rules.reconnected(player), "reconnected")

    # -- what players send -----------------------------------------------------------------

    def input(self, player: Player, value: InputT, *, view_tick: float | None = None) -> None:
        """The player's input from the next step on (repeated until another is given)."""
        schema = self.rules.schema.input
        if schema is None:
            raise TypeError(f"{type(self.rules).__name__} declares no input")
        # Through the wire and back, as the server would see it.
        value = schema.from_wire(schema.to_wire(value))
        self._inputs[player.id] = TickInput(
            player, self.entity_of.get(player.id, 0), value, True, view_tick
        )

    def act(self, player: Player, act: Act) -> None:
        """A bot's answer, as the server receives it from the bot's client: its input and
        commands encoded with the game's description (a client's form: world units,
        radians), decoded with the rules' schema, then given as ``input`` and ``command``."""
        client, rules = self._client_schema(), self.rules.schema
        if act.input is not None:
            if client.input is None or rules.input is None:
                raise TypeError(f"{type(self.rules).__name__} declares no input")
            self.input(player, rules.input.from_wire(client.input.to_wire(act.input)))
        by_name = {message.name: message for message in client.commands.messages}
        for command in act.commands:
            message = by_name.get(type(command).__name__)  # as a client finds it: by name
            if message is None:
                raise TypeError(f"the game declares no command named {type(command).__name__}")
            self.command(player, rules.commands.from_wire(message.to_wire(command)))

    def command(self, player: Player, command: object) -> None:
        """A command for the next step, checked through the wire as the server would."""
        commands = self.rules.schema.commands
        self._commands.append(TickCommand(player, commands.from_wire(commands.to_wire(command))))

    # -- stepping ------------------------------------------------------------------------

    def step(self, ticks: int = 1) -> list[SentEvent]:
        """Run ``ticks`` steps; the events they produced."""
        produced: list[SentEvent] = []
        for _ in range(ticks):
            inputs = [self._inputs[pid] for pid in self.players if pid in self._inputs]
            commands, self._commands = self._commands, []
            events = self.rules.step(inputs, commands)
            if self._hook_events:  # join & co. returned them: they go out first
                events, self._hook_events = [*self._hook_events, *events], []
            self.rules.tick += 1
            for given in self._inputs.values():
                given.fresh = False
            for event in events:
                sent = (
                    SentEvent(self.rules.tick, event.event, event.to)
                    if isinstance(event, Private)
                    else SentEvent(self.rules.tick, event)
                )
                sent.wire(self.rules)  # must encode
                produced.append(sent)
            self.wire_state()  # must encode
        self.events += produced
        return produced

    # -- whole state ---------------------------------------------------------------------

    def save(self) -> bytes:
        """The match now (between two steps): the rules' saved state, the players, their
        held inputs, and the commands and events waiting for the next step."""
        rules = self.rules
        schema = rules.schema
        inputs = schema.input
        return SavedGame(
            rules=rules.save(),
            players=tuple((p, self.entity_of.get(pid, 0)) for pid, p in self.players.items()),
            inputs=tuple(
                (pid, list(inputs.to_wire(g.value)), g.fresh, g.view_tick)
                for pid, g in self._inputs.items()
                if inputs is not None
            ),
            commands=tuple(
                (c.player.id, schema.commands.to_wire(c.command)) for c in self._commands
            ),
            events=tuple(
                (schema.events.to_wire(e.event), e.to)
                if isinstance(e, Private)
                else (schema.events.to_wire(e), None)
                for e in self._hook_events
            ),
        ).encode()

    @classmethod
    def restored(cls, rules_class: type[Rules[InputT, Any]], data: bytes) -> Headless[InputT]:
        """A headless match that continues exactly where ``save()`` (or a room's snapshot)
        left it; ``StateError`` if ``data`` is not one. Its ``events`` log starts empty."""
        problems = rules_class_problems(rules_class)
        if problems:
            raise TypeError("; ".join(problems))
        saved = SavedGame.decode(data)
        game: Headless[InputT] = cls.__new__(cls)
        game.rules = rules_class.restore(saved.rules)
        game.players = {p.id: p for p, _ in saved.players}
        game.entity_of = {p.id: entity_id for p, entity_id in saved.players}
        schema = game.rules.schema
        game._inputs = {}
        for player_id, fields, fresh, view_tick in saved.inputs:
            if schema.input is None:
                raise TypeError(f"{rules_class.__name__} declares no input")
            value = checked(schema.input.from_wire, fields)
            game._inputs[player_id] = TickInput(
                game.players[player_id], game.entity_of[player_id], value, fresh, view_tick
            )
        game._commands = [
            TickCommand(game.players[pid], checked(schema.commands.from_wire, wire))
            for pid, wire in saved.commands
        ]
        game._hook_events = [
            event if to is None else Private(event, to)
            for event, to in (
                (checked(schema.events.from_wire, wire), to) for wire, to in saved.events
            )
        ]
        game.events = []
        numbers = [int(pid[1:]) for pid in game.players if pid[:1] == "p" and pid[1:].isdigit()]
        game._next_id = max(numbers, default=0) + 1
        return game

    # -- reading -------------------------------------------------------------------------

    def wire_state(self) -> dict[int, WireTuple]:
        return self.rules.wire_state()

    def view(self, player: Player | None) -> dict[int, WireTuple]:
        """What ``player``'s connection would hold (None: a spectator's)."""
        viewer = SPECTATOR if player is None else Viewer(player)
        seen = self.rules.view(viewer)
        if seen is None:
            return self.wire_state()
        schema = self.rules.schema
        return {entity_id: schema.entity_to_wire(entity) for entity_id, entity in seen.items()}

    def events_for(self, player: Player | None) -> list[SentEvent]:
        """Every event so far that ``player`` (None: a spectator) would have received."""
        return [
            e for e in self.events if e.to is None or (player is not None and player.id in e.to)
        ]

    def bot_view(self, player: Player, events: Sequence[Any] = ()) -> BotView:
        """What ``player``'s bot would be given now (``events``: those it received since
        its last view, as objects), with the room's tick rate, world size and parameters."""
        rules = self.rules
        return BotView(
            rules.tick,
            self.entity_of.get(player.id, 0),
            self.decoded_view(player),
            list(events),
            tick_rate=rules.tick_rate,
            world_size=rules.world_size,
            params=dict(rules.client_params()),
        )

    def decoded_view(self, player: Player | None) -> dict[int, Any]:
        """The view as a client decodes it from the game's description (named objects)."""
        decode = self._client_schema().entity_from_wire
        return {eid: decode(w) for eid, w in self.view(player).items()}

    def _client_schema(self) -> GameSchema:
        """The game's schema as a client rebuilds it from the description."""
        schema = self.rules.schema
        client_schema = _client_schemas.get(id(schema))
        if client_schema is None or client_schema[0] is not schema:
            client_schema = _client_schemas[id(schema)] = (
                schema,
                type(schema).from_description(schema.describe()),
            )
        return client_schema[1]


def run_seeded(
    rules_class: type[Rules[Any, Any]],
    script: Sequence[tuple[int, str, Any]],
    *,
    seed: int = 0,
    settings: object | None = None,
    ticks: int = 0,
) -> str:
    """Run a script of (tick, player name, input) on fresh rules; the final state hash.

    Players join when first named. Two runs of the same script must give the same hash.
    """
    game: Headless[Any] = Headless(rules_class, settings, seed=seed)
    by_name: dict[str, Player] = {}
    for tick, name, value in sorted(script, key=lambda item: item[0]):
        while game.tick < tick:
            game.step()
        if name not in by_name:
            by_name[name] = game.join(name)
        game.input(by_name[name], value)
    game.step(max(0, ticks - game.tick))
    return game.rules.state_hash()
