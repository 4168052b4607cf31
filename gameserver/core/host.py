"""The room's side of the rules API: one game's rules, driven as the API promises.

Theory of operation: a room talks to its game only through a ``GameHost``. The host
keeps what the rules API says the server keeps for the rules: the players (a stable
``Player`` per player id, and the entity each controls), the newest input of each
player (repeated, marked not fresh, on ticks when none arrived), and the commands that
arrived since the last step, in order. Untrusted wire values are validated against
the game's schema here (``SchemaError``: close 4002 naming the field) before the rules
ever see them. ``step()`` calls the rules once, advances ``rules.tick`` and turns the
events into wire lists (``[kind, *args]``), each with the set of player ids that may
receive it (None: everyone). Events that ``join``, ``leave``, ``disconnected`` or
``reconnected`` returned wait (encoded) for the next step and go out before its own.

Everything is synchronous and pure: no clock, no I/O. The same calls in the same order
give the same world, which recordings rely on (``gameserver/server/rooms/recorder.py``
wraps a host).

``save()`` is that whole state as data between two steps (``savedgame.py``: the rules'
own ``save()`` and the host's players, held inputs, pending commands and events);
``GameHost.restored`` builds a host that continues exactly where the saved one stood.
Recordings carry it as their periodic snapshots, so it is read as untrusted data: every
part is checked, inputs, commands and events through the schema, and the rules' part by
``Rules.restore``, which runs none of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gameserver.rules import (
    SPECTATOR,
    Bool,
    Enum,
    Flags,
    GameSchema,
    Int,
    MatchResult,
    Player,
    Private,
    Rules,
    SchemaError,
    TickCommand,
    TickInput,
    Viewer,
    WireTuple,
    WireValue,
)
from gameserver.rules.hosting import hook_events, joined

from .savedgame import SavedGame, checked

HostedEvent = tuple[list[WireValue], frozenset[str] | None]  # ([kind, *args], who may see it)
INPUT_CACHE_SIZE = 4096  # distinct decoded inputs kept per room


def _value_count(wire_types: Sequence[Any]) -> int:
    """How many distinct wire values a record of these types can take (big: no bound)."""
    count = 1
    for wire_type in wire_types:
        if isinstance(wire_type, Int):
            count *= wire_type.hi - wire_type.lo + 1
        elif isinstance(wire_type, Bool):
            count *= 2
        elif isinstance(wire_type, Enum):
            count *= len(wire_type.enum_class.__members__)
        elif isinstance(wire_type, Flags):
            mask = 0
            for member in wire_type.flag_class:
                mask |= int(member)
            count *= mask + 1
        else:
            return 1 << 62  # angles, fixed-point numbers, text: too many to keep
    return count


class GameHost:
    def __init__(self, rules: Rules[Any, Any], *, tick_rate: int) -> None:
        self.rules = rules
        self.schema: GameSchema = rules.schema
        self.tick_rate = tick_rate
        self.name = rules.id
        size = rules.world_size
        self.world_width, self.world_height = size if size is not None else (0.0, 0.0)
        self.spatial = size is not None
        input_schema = self.schema.input
        self.input_fields = len(input_schema.field_names) if input_schema is not None else 0
        self._decode_input = input_schema.from_wire if input_schema is not None else None
        # Decoded inputs by their wire fields, for games whose inputs take few values (a
        # stick of -1/0/1 per axis): each is then decoded once. A game with many (an aim
        # in 65536 steps) decodes every Input: kept values would only feed the collector.
        self._input_values: dict[tuple[WireValue, ...], Any] = {}
        self._cache_inputs = (
            input_schema is not None and _value_count(input_schema.wire_types) <= INPUT_CACHE_SIZE
        )
        self.has_views = type(rules).view is not Rules.view
        self.players: dict[str, Player] = {}
        self.entity_of: dict[str, int] = {}
        self._inputs: dict[str, TickInput[Any]] = {}
        self._commands: list[TickCommand] = []
        self._hook_events: list[HostedEvent] = []  # from join & co., for the next step
        self._description: dict[str, Any] | None = None
        self._entities: Mapping[int, Any] = {}  # rules.entities() of _entities_tick
        self._entities_tick = -1
        self.result: MatchResult | None = None  # set once, at the tick the match ended
        self.result_tick = 0

    @property
    def tick(self) -> int:
        return self.rules.tick

    # -- membership ------------------------------------------------------------------

    def join(self, player: Player) -> int:
        """The player arrives; the entity it controls (0: none)."""
        self.players[player.id] = player
        entity_id, events = joined(self.rules.join(player))
        self.entity_of[player.id] = entity_id
        self._hook_events += self._hosted(events)
        return entity_id

    def leave(self, player_id: str) -> None:
        player = self.players.pop(player_id, None)
        self.entity_of.pop(player_id, None)
        self._inputs.pop(player_id, None)
        if player is not None:
            self._hook_events += self._hosted(hook_events(self.rules.leave(player), "leave"))

    def disconnected(self, player_id: str) -> None:
        """The player's connection was lost: it stands still (its input is forgotten)."""
        self._inputs.pop(player_id, None)
        player = self.players.get(player_id)
        if player is not None:
            answer = self.rules.disconnected(player)
            self._hook_events += self._hosted(hook_events(answer, "disconnected"))

    def reconnected(self, player_id: str) -> None:
        player = self.players.get(player_id)
        if player is not None:
            answer = self.rules.reconnected(player)
            self._hook_events += self._hosted(hook_events(answer, "reconnected"))

    # -- what players send -----------------------------------------------------------------

    def decode_input(self, fields: Sequence[WireValue]) -> Any:
        """An Input's game fields as the rules' input object; ``SchemaError`` if invalid."""
        if self._decode_input is None:
            raise SchemaError("this game takes no input; send commands")
        if not self._cache_inputs:
            return self._decode_input(fields)
        key = fields if type(fields) is tuple else tuple(fields)
        value = self._input_values.get(key)
        if value is None:
            value = self._input_values[key] = self._decode_input(key)  # at most the count
        return value

    def set_input(self, player_id: str, value: Any, view_tick: float | None = None) -> None:
        """The player's input from this tick on (decoded already by ``decode_input``)."""
        given = self._inputs.get(player_id)
        if given is not None:  # the player's TickInput is reused: one per player, not per tick
            given.value, given.fresh, given.view_tick = value, True, view_tick
            return
        player = self.players.get(player_id)
        if player is not None:
            self._inputs[player_id] = TickInput(
                player, self.entity_of.get(player_id, 0), value, True, view_tick
            )

    def decode_command(self, fields: Sequence[WireValue]) -> Any:
        """A Command's ``[kind, *args]`` as the declared command; ``SchemaError`` if invalid."""
        return self.schema.commands.from_wire(list(fields))

    def command(self, player_id: str, command: Any) -> None:
        player = self.players.get(player_id)
        if player is not None:
            self._commands.append(TickCommand(player, command))

    # -- the tick ------------------------------------------------------------------------

    def step(self) -> list[HostedEvent]:
        inputs = list(self._inputs.values())
        commands, self._commands = self._commands, []
        events = self.rules.step(inputs, commands)
        self.rules.tick += 1
        if self.result is None:
            self.result = self.rules.result()
            self.result_tick = self.rules.tick
        for given in inputs:
            given.fresh = False  # repeated from now on, until the next Input
        if self._hook_events:
            hosted, self._hook_events = self._hook_events, []
            return hosted + self._hosted(events)
        return self._hosted(events) if events else []

    def _hosted(self, events: Sequence[Any]) -> list[HostedEvent]:
        """Events as wire lists, each with who may see it (None: everyone)."""
        to_wire = self.schema.events.to_wire
        hosted: list[HostedEvent] = []
        for event in events:
            if isinstance(event, Private):
                hosted.append((to_wire(event.event), event.to))
            else:
                hosted.append((to_wire(event), None))
        return hosted

    # -- reading the world ---------------------------------------------------------

    def wire_state(self) -> dict[int, WireTuple]:
        return self.rules.wire_state()

    def view_state(
        self, player_id: str | None, full: Mapping[int, WireTuple]
    ) -> Mapping[int, WireTuple]:
        """What a viewer (None: a spectator) may see, as wire tuples; ``full`` is this
        tick's ``wire_state``, returned as it is for a game without views. An entity the
        view shows unchanged (the same object the rules hold) reuses its tuple from ``full``.
        """
        if not self.has_views:
            return full
        player = self.players.get(player_id) if player_id is not None else None
        viewer = SPECTATOR if player is None else Viewer(player)
        seen = self.rules.view(viewer)
        if seen is None:
            return full
        if self._entities_tick != self.rules.tick:  # once per tick, not once per viewer
            self._entities, self._entities_tick = self.rules.entities(), self.rules.tick
        everything = self._entities
        encode = self.schema.entity_to_wire
        return {
            entity_id: (
                full[entity_id]
                if everything.get(entity_id) is entity and entity_id in full
                else encode(entity)
            )
            for entity_id, entity in seen.items()
        }

    def score(self, player_id: str) -> int | None:
        player = self.players.get(player_id)
        return self.rules.score(player) if player is not None else None

    def client_params(self) -> dict[str, float]:
        return dict(self.rules.client_params())

    def state_hash(self) -> str:
        return self.rules.state_hash()

    def describe(self) -> dict[str, Any]:
        """The game's description for the Welcome (protocol 2), made once."""
        if self._description is None:
            self._description = {
                "id": self.rules.id,
                "version": self.rules.version,
                "prediction": self.rules.prediction,
                **self.schema.describe(),
            }
        return self._description

    # -- whole state ---------------------------------------------------------------------

    def save(self) -> bytes:
        """The game between two steps, as data ``GameHost.restored`` continues from."""
        input_schema = self.schema.input
        return SavedGame(
            rules=self.rules.save(),
            players=tuple((p, self.entity_of.get(p.id, 0)) for p in self.players.values()),
            inputs=tuple(
                (pid, list(input_schema.to_wire(g.value)), g.fresh, g.view_tick)
                for pid, g in self._inputs.items()
                if input_schema is not None
            ),
            commands=tuple(
                (c.player.id, self.schema.commands.to_wire(c.command)) for c in self._commands
            ),
            events=tuple(self._hook_events),
            result=None if self.result is None else (self.result_tick, self.result),
        ).encode()

    @classmethod
    def restored(
        cls, rules_class: type[Rules[Any, Any]], data: bytes, *, tick_rate: int
    ) -> GameHost:
        """A host whose game continues exactly where ``save()`` left it (``StateError``
        naming what is wrong when ``data`` is not such a state)."""
        saved = SavedGame.decode(data)
        host = cls(rules_class.restore(saved.rules), tick_rate=tick_rate)
        for player, entity_id in saved.players:
            host.players[player.id] = player
            host.entity_of[player.id] = entity_id
        for player_id, fields, fresh, view_tick in saved.inputs:
            host.set_input(player_id, checked(host.decode_input, fields), view_tick)
            host._inputs[player_id].fresh = fresh
        for player_id, wire in saved.commands:
            host.command(player_id, checked(host.decode_command, wire))
        events = host.schema.events
        for wire, to in saved.events:
            host._hook_events.append((events.to_wire(checked(events.from_wire, wire)), to))
        if saved.result is not None:
            host.result_tick, host.result = saved.result
        return host
