"""One connection's client state machine, sans I/O: server bytes in, state and bytes out.

Theory of operation
-------------------
A ``ClientSession`` is what a client holds about one game connection, and the only
place that knows the protocol's receiver half; the trio client (``client.py``) and the
spectator view wrap it, moving bytes and time in and out. Nothing here blocks, sleeps or
reads a clock: every call that needs the time is given ``now_s`` (the caller's
monotonic clock, seconds).

States: *new* (``welcome`` is None: send ``join_message()`` or
``find_match_message(mode)``), then *welcomed* once a Welcome arrives: the game's
description becomes its ``schema`` (``GameSchema.from_description``; a protocol 1
Welcome has none, and then only a game installed here under the same id can be
followed, with its own description), and from then on
the session decodes the world (``world``: named entity objects), the events (typed
``ReceivedEvent``s) and encodes inputs and commands with that schema. A Welcome also
brings the resume token, kept across connections: ``start_connection()`` (called for
every new connection of the same client) clears the world and the input sequence but
keeps the resume token, the clock and the stats, and ``join_message()`` then offers the
token back to reclaim the same entity.

Snapshots are deltas against the mirror's tick (``World.apply``; a mismatch is a
``DeltaError``); each one also feeds the clock estimate (``ClockEstimator``), the
interpolation buffer (fields the game marks ``interpolate``) and the reconciliation of
the local player's prediction (``ack_seq``). A Pong feeds the round trip and the clock
offset; an Error is kept (``errors``); a Matched names the room's URL to (re)connect to.

Anything a server sends that does not decode raises ``ProtocolError`` (with the close
code to send); the session is then unusable for that connection.

A session that does not follow the world (``follow_world=False``: a load bot that only
counts) takes from each snapshot its tick and nothing else, and ``count_snapshot``
recognises one by its first bytes without decoding it at all: a lean swarm's thousands
of such bots cost little more than their sockets.
"""

from __future__ import annotations

import collections
import logging
import math
from typing import Any, Final

import attrs
import cbor2

from gameserver.protocol import (
    Chat,
    CloseCode,
    Command,
    Error,
    FindMatch,
    Input,
    Join,
    Matched,
    MessageType,
    Ping,
    Pong,
    ProtocolError,
    Role,
    Say,
    ServerMessage,
    Snapshot,
    Welcome,
    decode_server_message,
    encode,
)
from gameserver.rules import (
    Angle,
    Bool,
    Enum,
    Fixed,
    Flags,
    GameSchema,
    Int,
    MessageSchema,
    SchemaError,
    Text,
)
from gameserver.rules.loading import GameLoadError, available_games, load_rules

from ._clock import ClockEstimator
from ._interpolation import Interpolator, default_delay_s
from ._prediction import Prediction, Predictor, trusted_prediction
from ._stats import ClientStats
from ._world import World

__all__ = ["ClientSession", "ReceivedEvent"]

log = logging.getLogger(__name__)

EVENT_HISTORY = 256  # events kept
CHAT_HISTORY = 50  # chat messages kept
ERROR_HISTORY = 64  # Error messages kept
_VIEW_STEPS = 256  # an input's view tick travels in 1/256 tick
# A snapshot's first two bytes: an 8-item CBOR array, then its message type.
_SNAPSHOT_HEAD: Final = (0x88, MessageType.SNAPSHOT.value)
_INPUT: Final = MessageType.INPUT.value


@attrs.frozen
class ReceivedEvent:
    """An event as the client decoded it, with the tick it happened at."""

    tick: int
    event: Any  # an instance of the class the game's description names

    @property
    def name(self) -> str:
        return type(self.event).__name__


class ClientSession:
    """What one client knows about its game connection (see the module doc).

    ``predict``: run the game's prediction for the own entity (``prediction``, else the
    installed game's, see ``trusted_prediction``). ``interpolate``: buffer snapshots for
    ``remote_view``. ``decode_entities``: decode changed entities as each snapshot
    arrives (a bad tuple then fails ``receive``), rather than when read.
    ``event_history``: how many decoded events to keep (0: decode none).
    ``follow_world``: False keeps only each snapshot's tick (see ``count_snapshot``).
    """

    # A lean swarm holds thousands of sessions and touches each one every tick.
    __slots__ = (
        "_last_render_s",
        "_prediction",
        "ack_seq",
        "chat",
        "clock",
        "errors",
        "events",
        "follow_world",
        "interpolate",
        "interpolator",
        "matched",
        "name",
        "predict",
        "predictor",
        "resume",
        "role",
        "schema",
        "seq",
        "stats",
        "welcome",
        "world",
    )

    def __init__(
        self,
        *,
        role: Role = Role.PLAYER,
        name: str = "player",
        predict: bool = True,
        interpolate: bool = True,
        decode_entities: bool = False,
        prediction: Prediction | None = None,
        event_history: int = EVENT_HISTORY,
        follow_world: bool = True,
    ) -> None:
        self.role = role
        self.name = name
        self.predict = predict  # predict the own entity, when the game offers a prediction
        self.interpolate = interpolate
        self.follow_world = follow_world
        self._prediction = prediction  # given by the caller; else the installed game's
        self.stats = ClientStats()
        self.clock = ClockEstimator()
        self.welcome: Welcome | None = None
        self.schema: GameSchema | None = None
        self.world = World(eager=decode_entities)
        self.ack_seq = 0  # newest input seq the server says it consumed
        # The newest events, decoded; 0 keeps (and decodes) none, as a load bot wants.
        self.events: collections.deque[ReceivedEvent] = collections.deque(maxlen=event_history)
        self.errors: collections.deque[Error] = collections.deque(maxlen=ERROR_HISTORY)
        self.chat: collections.deque[Chat] = collections.deque(maxlen=CHAT_HISTORY)
        self.matched: Matched | None = None  # where matchmaking put this client
        self.resume = ""  # the newest Welcome's resume token (players)
        self.predictor: Predictor | None = None
        self.interpolator: Interpolator | None = None
        self.seq = 0  # the newest input's sequence number on this connection
        self._last_render_s = -math.inf

    # -- state ----------------------------------------------------------------

    @property
    def tick(self) -> int:
        """The tick of the mirrored world (0: no snapshot yet)."""
        return self.world.tick

    @property
    def entity_id(self) -> int:
        """The entity this player controls (0: none, a spectator, or not welcomed)."""
        return self.welcome.entity_id if self.welcome is not None else 0

    @property
    def me(self) -> Any:
        """The own entity as the server last sent it (None: none, or not in the world yet)."""
        eid = self.entity_id
        return self.world[eid] if eid and eid in self.world else None

    @property
    def input_type(self) -> type:
        """The game's input class, rebuilt from its description."""
        schema = self._schema()
        if schema.input is None:
            raise TypeError(f"{self.welcome.game if self.welcome else 'this game'} takes no input")
        return schema.input.cls

    def start_connection(self) -> None:
        """A new connection begins: forget the world and the sequence; keep resume and stats."""
        self.welcome = None
        self.schema = None
        self.world.clear()
        self.ack_seq = 0
        self.seq = 0
        if self.predictor is not None:
            self.predictor.reset()
        if self.interpolator is not None:
            self.interpolator.clear()

    # -- messages out ---------------------------------------------------------

    def join_message(self) -> bytes:
        """The Join (offering the resume token of an earlier Welcome, for a player)."""
        resume = self.resume if self.role is Role.PLAYER else ""
        return encode(Join(self.role, self.name, resume))

    def find_match_message(self, mode: str, unreachable_room: str = "") -> bytes:
        """FindMatch in ``mode``; ``unreachable_room``: the room (of an earlier Matched)
        whose node this client could not reach, so matchmaking checks that node and stops
        offering it at once if it is dead, rather than after its registration runs out."""
        return encode(FindMatch(mode, self.name, unreachable_room))

    def make_input(self, **fields: object) -> Any:
        """An input of the game's class; fields not given take their neutral value.

        The neutral value is 0 (or the range's end nearest to it) for numbers, no bits for
        flags, the first member for an enum, False, "".
        """
        schema = self._schema().input
        if schema is None:
            raise TypeError("this game takes no input")
        values = {
            name: fields.pop(name) if name in fields else neutral_value(wire_type)
            for name, wire_type in zip(schema.field_names, schema.wire_types, strict=True)
        }
        if fields:
            raise TypeError(f"{schema.name} has no field {', '.join(sorted(fields))}")
        return schema.cls(**values)

    def input_from_wire(self, values: tuple[int | str, ...]) -> Any:
        """The game's input from wire values in field order (missing ones: neutral)."""
        schema = self._schema().input
        if schema is None:
            raise TypeError("this game takes no input")
        types = schema.wire_types
        if len(values) > len(types):
            raise TypeError(f"{schema.name} has {len(types)} fields, got {len(values)} values")
        # An IntFlag or IntEnum member is its integer on the wire.
        given = [int(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in values]
        wire = [*given, *(t.to_wire(neutral_value(t)) for t in types[len(values) :])]
        try:
            return schema.from_wire(wire)
        except SchemaError as exc:
            raise ValueError(str(exc)) from None

    def input_message(self, value: object, *, view_tick: float | None = None) -> bytes:
        """The next input carrying ``value`` (the game's input, or any object with its
        fields); the own entity's prediction takes the step at once.

        ``view_tick``: the (fractional) tick the player is looking at (``view_tick()``), for
        rules that judge an action where the player saw its target (lag compensation).
        """
        schema = self._schema().input
        if schema is None:
            raise TypeError("this game takes no input; send commands")
        fields = tuple(schema.to_wire(value))
        self.seq += 1
        view = 0
        if view_tick is not None and view_tick > 0:
            view = max(1, round(view_tick * _VIEW_STEPS))
        data = encode(Input(self.seq, fields, self.world.tick, view))
        predictor = self.predictor
        if predictor is not None:
            predictor.apply_input(self.seq, value, self.world)
        return data

    def make_command(self, type_name: str, /, **fields: object) -> Any:
        """The game's command called ``type_name`` with these fields (all of them)."""
        return self._command(type_name).cls(**fields)

    def command_message(self, command: object) -> bytes:
        """A command: the game's declared command of the same class name and fields."""
        message = self._command(type(command).__name__)
        return encode(Command(tuple(message.to_wire(command))))

    def wire_input_message(self, fields: tuple[int | str, ...]) -> bytes:
        """The next input carrying ``fields``, already in wire form (a ``BotDriver``
        keeps its bot's input so); nothing is predicted. A load bot's hot path: the bytes
        of ``encode(Input(seq, fields, tick))`` without building the message."""
        self.seq += 1
        return cbor2.dumps([_INPUT, self.seq, *fields, self.world.tick])

    def ping_message(self, now_s: float) -> bytes:
        """A Ping carrying ``now_s`` (ms): the Pong's answer then measures the round trip."""
        return encode(Ping(max(0, round(now_s * 1000))))

    def say_message(self, text: str) -> bytes:
        return encode(Say(text))

    # -- messages in ----------------------------------------------------------

    def receive(self, data: bytes | str, now_s: float) -> ServerMessage:
        """Apply one server message; returns it decoded. ``ProtocolError`` if it is bad."""
        stats = self.stats
        stats.messages_received += 1
        stats.bytes_received += len(data)
        message = decode_server_message(data)
        if isinstance(message, Snapshot):
            self._on_snapshot(message, now_s)
        elif isinstance(message, Pong):
            sent_s = message.nonce / 1000
            stats.rtts_s.append(now_s - sent_s)
            self.clock.on_pong(sent_s, now_s, message.server_time_ms / 1000)
        elif isinstance(message, Welcome):
            self._on_welcome(message)
        elif isinstance(message, Error):
            self.errors.append(message)
        elif isinstance(message, Chat):
            self.chat.append(message)
        elif isinstance(message, Matched):
            self.matched = message
        return message

    def count_snapshot(
        self, data: bytes | bytearray, start: int, stop: int, now_s: float
    ) -> int | None:
        """For a session that does not follow the world, once welcomed: if
        ``data[start:stop]`` is a snapshot, count it and keep its tick without decoding
        it, and return that tick; None for anything else, which then goes to ``receive``."""
        if (
            self.follow_world
            or self.welcome is None
            or stop - start < 3
            or data[start] != _SNAPSHOT_HEAD[0]
            or data[start + 1] != _SNAPSHOT_HEAD[1]
        ):
            return None
        stats = self.stats
        stats.messages_received += 1
        stats.bytes_received += stop - start
        stats.on_snapshot(now_s)
        info = data[start + 2]
        tick = info if info < 24 else cbor_uint_at(data, start + 2)
        self.world.tick = tick
        return tick

    def _on_welcome(self, welcome: Welcome) -> None:
        description = welcome.schema
        if description is None:
            description = installed_description(welcome.game)
        schema = schema_of(description)
        self.welcome = welcome
        self.schema = schema
        self.world.clear(schema)
        if welcome.resume:
            self.resume = welcome.resume  # offered back when reconnecting after a drop
        self.interpolator = (
            Interpolator(schema, default_delay_s(welcome.snapshot_rate))
            if self.interpolate
            else None
        )
        self.predictor = None
        if self.predict and self.role is Role.PLAYER and welcome.entity_id:
            prediction = self._prediction or trusted_prediction(
                welcome.game, description.get("prediction")
            )
            if prediction is not None:
                try:
                    step = prediction(welcome.params, welcome.tick_rate)
                except (KeyError, TypeError, ValueError) as exc:
                    log.warning("the server's parameters do not suit the prediction: %s", exc)
                else:
                    idle = self.make_input() if schema.input is not None else None
                    self.predictor = Predictor(step, idle_input=idle)

    def _on_snapshot(self, snapshot: Snapshot, now_s: float) -> None:
        if self.schema is None:
            raise ProtocolError(CloseCode.UNEXPECTED_MESSAGE, "snapshot before the welcome")
        schema = self.schema
        world = self.world
        if not self.follow_world:
            world.tick = snapshot.tick
            self.stats.on_snapshot(now_s)
            return
        world.apply(
            snapshot.tick,
            snapshot.baseline_tick,
            snapshot.server_time_ms,
            snapshot.changes,
            snapshot.removed,
        )
        self.ack_seq = snapshot.ack_seq
        if self.events.maxlen != 0:
            events = schema.events
            for event in snapshot.events:
                if len(event) < 2:
                    raise SchemaError("an event is [tick, kind, ...]")
                self.events.append(ReceivedEvent(event[0], events.from_wire(event[1:])))
        self.stats.on_snapshot(now_s)
        server_time_s = snapshot.server_time_ms / 1000
        self.clock.on_snapshot(now_s, server_time_s)
        if self.interpolator is not None:
            self.interpolator.push(server_time_s, world.wire)
        predictor = self.predictor
        if predictor is not None:
            me = self.me
            if me is not None:
                predictor.reconcile(me, snapshot.ack_seq, world)
                self.stats.corrections = predictor.corrections

    def _schema(self) -> GameSchema:
        if self.schema is None:
            raise RuntimeError("no game description yet: wait for the Welcome")
        return self.schema

    def _command(self, name: str) -> MessageSchema[Any]:
        """The game's declared command called ``name`` (a client finds commands by name)."""
        for message in self._schema().commands.messages:
            if message.name == name:
                return message
        raise TypeError(f"the game declares no command named {name}")

    # -- time-dependent views -------------------------------------------------

    def render_time_s(self, now_s: float) -> float:
        """Server time at which to draw remote entities at local ``now_s``; never goes back.

        The clock estimate moves as samples come and go; rendering holds still rather than
        rewinding when it moves back.
        """
        delay = self.interpolator.delay_s if self.interpolator is not None else 0.0
        target = self.clock.server_now(now_s) - delay
        if target < self._last_render_s:
            return self._last_render_s
        self._last_render_s = target
        return target

    def view_tick(self, now_s: float) -> float:
        """The (fractional) server tick of what the client renders at ``now_s``."""
        welcome = self.welcome
        if welcome is None or not self.world.tick:
            return 0.0
        behind_s = self.world.server_time_ms / 1000 - self.render_time_s(now_s)
        return max(0.0, self.world.tick - behind_s * welcome.tick_rate)

    def remote_view(self, now_s: float) -> dict[int, Any]:
        """Interpolated entities (types with interpolated fields) at ``render_time_s``."""
        if self.interpolator is None:
            return {}
        return self.interpolator.sample(self.render_time_s(now_s))

    def predicted_position(self, elapsed_s: float = 0.0) -> tuple[float, float] | None:
        """The own entity's smoothed predicted position (None: no prediction, or no state)."""
        predictor = self.predictor
        if predictor is None:
            return None
        return predictor.render_position(elapsed_s)


_SCHEMAS: dict[str, GameSchema] = {}
SCHEMA_CACHE_SIZE = 16  # descriptions whose rebuilt schema is kept (per process)


def schema_of(description: dict[str, Any]) -> GameSchema:
    """``GameSchema.from_description``, rebuilt once per distinct description.

    Every connection to a game gets the same description, and rebuilding it makes
    classes and compiles converters: a swarm of a thousand bots must not do it a
    thousand times. The schemas are immutable, so connections can share them.
    """
    key = repr(description)
    schema = _SCHEMAS.get(key)
    if schema is None:
        schema = GameSchema.from_description(description)
        if len(_SCHEMAS) >= SCHEMA_CACHE_SIZE:
            del _SCHEMAS[next(iter(_SCHEMAS))]  # the oldest
        _SCHEMAS[key] = schema
    return schema


def installed_description(game: str) -> dict[str, Any]:
    """The description of ``game`` as installed here, for a protocol 1 Welcome (which has
    none): such a server's game can only be followed if this machine has the same game."""
    if game not in available_games():
        raise ProtocolError(
            CloseCode.PROTOCOL_ERROR, f"no game description, and no game {game!r} here"
        )
    try:
        rules = load_rules(game)
    except GameLoadError as exc:
        raise ProtocolError(CloseCode.PROTOCOL_ERROR, str(exc)) from None
    return {"id": rules.id, "prediction": rules.prediction, **rules.schema.describe()}


def cbor_uint_at(data: bytes | bytearray, pos: int) -> int:
    """The CBOR unsigned integer whose head is at ``pos`` (no checks: a trusted layout)."""
    info = data[pos] & 0x1F
    if info < 24:
        return info
    size = 1 << (info - 24)  # 24 -> 1 byte, 25 -> 2, 26 -> 4, 27 -> 8
    return int.from_bytes(data[pos + 1 : pos + 1 + size], "big")


def neutral_value(wire_type: object) -> Any:
    """A wire type's value closest to nothing: 0 within range, no bits, first member."""
    if isinstance(wire_type, Int | Fixed):
        lo, hi = wire_type.lo, wire_type.hi
        zero = 0 if isinstance(wire_type, Int) else 0.0
        return min(max(zero, lo), hi)
    if isinstance(wire_type, Angle):
        return 0.0
    if isinstance(wire_type, Flags):
        return wire_type.flag_class(0)
    if isinstance(wire_type, Enum):
        return wire_type.from_wire(next(iter(wire_type.describe()["members"].values())))
    if isinstance(wire_type, Bool):
        return False
    if isinstance(wire_type, Text):
        return ""
    raise TypeError(f"no neutral value for {wire_type!r}")
