"""The rules API: the class a game developer writes, and what the server hands it.

Theory of operation
-------------------
A game is a subclass of ``Rules``. The class declares what travels (``schema``: entity
types, the input, commands and events, see ``game.py``), its identity (``id`` and
``version``, checked by recordings), its settings class (an attrs class, validated by
attrs, set per mode) and, for games in a plane, ``world_size``. The server makes one
instance per room with the mode's settings and a seed, and from then on drives it
synchronously, always in the same order, so the same calls give the same world:

1. ``join(player)`` / ``leave(player)`` as players arrive and go (a player dropped by
   the network is first ``disconnected`` and either ``reconnected`` within the grace
   period or then ``leave``-d); ``join`` returns the entity the player controls (0:
   none), which is the player's own entity on the wire (Welcome item 2), or that and
   events: ``(entity_id, events)``. ``leave``, ``disconnected`` and ``reconnected`` may
   return events too. Such events go out with the next step's, before them, stamped
   with that step's tick (the tick whose snapshot first shows the joined player).
2. Once per tick, ``step(inputs, commands)``: ``inputs`` holds one ``TickInput`` per
   player that has ever sent an input (the newest Input; the previous one repeated when
   none arrived this tick), ``commands`` every ``TickCommand`` that arrived since the
   last tick, in arrival order. ``step`` returns this tick's events (declared event
   objects; wrap one in ``Private`` to send it only to some players).
3. After a step the server reads the world: ``entities()`` (id -> declared entity
   object, everything that exists), and for each viewer ``view(viewer)``: what that
   viewer may see (default: everything). Hidden information (a hand of cards, fog of
   war) is simply left out of other viewers' views; it never leaves the server for
   them.
4. ``result()`` says when the match is over, and how it ended.

Rules are pure: no I/O, no clocks, no randomness but ``self.random`` (seeded by the
server). ``save()``/``restore()`` capture the whole state as plain data (for
recordings' periodic snapshots and for moving a room; restoring never runs code from the
data), and ``state_hash()`` summarises it so replays can prove they re-simulated the
same match.
"""

from __future__ import annotations

import enum
import hashlib
import random
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

import attrs

from ._game import GameSchema
from ._savedstate import StateError, game_modules, load_state, save_state
from ._wiretypes import WireValue

InputT = TypeVar("InputT")
SettingsT = TypeVar("SettingsT")
WireTuple = tuple[WireValue, ...]


@attrs.frozen
class NoSettings:
    """The settings of a game that has none."""


@attrs.frozen
class Player:
    """A player as the rules see it.

    ``id`` is stable for as long as the player plays in this room: it survives a
    reconnect, and with authentication on it is the identity's ``sub`` claim. ``claims``
    are the identity's other claims (empty without authentication).
    """

    id: str
    name: str
    claims: Mapping[str, Any] = attrs.field(factory=dict, eq=False, hash=False)


@attrs.frozen
class Viewer:
    """Who is looking: a player, or a spectator (``player`` is None)."""

    player: Player | None = None

    @property
    def is_spectator(self) -> bool:
        return self.player is None


SPECTATOR = Viewer()


class TickInput(Generic[InputT]):
    """One player's input for this tick.

    ``fresh`` is False when no Input arrived this tick and the previous one is repeated.
    ``view_tick`` is the (fractional) tick the player was looking at when it sent the
    Input, for lag compensation; None when the client sent none. The server reuses
    these objects from tick to tick (a player's input is usually the same): read them
    during ``step``, do not keep them.
    """

    __slots__ = ("entity_id", "fresh", "player", "value", "view_tick")

    def __init__(
        self,
        player: Player,
        entity_id: int,
        value: InputT,
        fresh: bool = True,
        view_tick: float | None = None,
    ) -> None:
        self.player = player
        self.entity_id = entity_id
        self.value = value
        self.fresh = fresh
        self.view_tick = view_tick

    def __repr__(self) -> str:
        return (
            f"TickInput({self.player.id!r}, entity {self.entity_id}, {self.value!r}, "
            f"fresh={self.fresh}, view_tick={self.view_tick})"
        )


@attrs.frozen
class TickCommand:
    """A command a player sent (a declared command object, validated by the schema)."""

    player: Player
    command: Any


@attrs.frozen
class Private:
    """An event only the players named in ``to`` receive (spectators never do)."""

    event: Any
    to: frozenset[str]


@attrs.frozen
class MatchResult:
    """How a match ended: player ids in finishing order, scores, and a line for humans."""

    ranking: tuple[str, ...] = ()
    scores: Mapping[str, int] = attrs.field(factory=dict)
    summary: str = ""


class Rules(Generic[InputT, SettingsT]):
    """Subclass this to write a game (``docs/games.md``).

    Class attributes every game sets: ``id`` (short, lowercase: the name clients and
    recordings know the game by), ``version`` (bump it whenever a rule changes, so old
    recordings are refused rather than replayed wrongly) and ``schema``. Optional:
    ``settings_type`` (an attrs class; its instance arrives in ``__init__``),
    ``world_size`` (a spatial game's width and height in world units: interest
    management then uses the schema's position fields), ``prediction`` (the dotted
    path ``package.module:function`` of a pure prediction function clients may run),
    ``tick_rate`` (the rate the game is meant for; a room may run it at another, given
    to ``__init__``), ``max_players``.
    """

    id: ClassVar[str] = ""
    version: ClassVar[int] = 1
    schema: ClassVar[GameSchema]
    settings_type: ClassVar[type] = NoSettings
    tick_rate: ClassVar[int] = 30
    max_players: ClassVar[int] = 16
    prediction: ClassVar[str | None] = None

    def __init__(self, settings: SettingsT, seed: int, *, tick_rate: int | None = None) -> None:
        """A new world. Subclasses take the same arguments and pass them on.

        ``tick_rate`` is the room's rate (None: the class's); turn durations in seconds
        into ticks with ``self.tick_rate``.
        """
        self.settings = settings
        self.seed = seed
        rate = type(self).tick_rate if tick_rate is None else tick_rate
        if type(rate) is not int or rate <= 0:
            raise ValueError(f"tick_rate must be a positive integer, got {rate!r}")
        self.tick_rate: int = rate  # type: ignore[misc]  # the room's, for this instance
        self.random = random.Random(seed)
        self.tick = 0  # steps completed; the server adds one after each step()

    # -- the world's extent (spatial games) -------------------------------------------

    @property
    def world_size(self) -> tuple[float, float] | None:
        """(width, height) in world units, or None for a game without space."""
        return None

    # -- membership ----------------------------------------------------------------

    def join(self, player: Player) -> int | tuple[int, Sequence[Any]]:
        """A player arrives; return the id of the entity it controls (0: none), or
        ``(entity_id, events)`` to send events as well (declared events or ``Private``;
        they go out with the next step's)."""
        return 0

    def leave(self, player: Player) -> Sequence[Any] | None:
        """A player is gone for good (left, or not back within the grace period); may
        return events, as ``join`` may."""
        return None

    def disconnected(self, player: Player) -> Sequence[Any] | None:
        """A player's connection was lost; its seat is held for a while. May return
        events."""
        return None

    def reconnected(self, player: Player) -> Sequence[Any] | None:
        """A disconnected player is back, with the same id and entity. May return
        events."""
        return None

    # -- the tick ------------------------------------------------------------------------

    def step(
        self, inputs: Sequence[TickInput[InputT]], commands: Sequence[TickCommand]
    ) -> Sequence[Any]:
        """Advance one tick; return its events (declared event objects, or ``Private``).

        ``self.tick`` is the number of steps completed before this one; the server adds
        one when ``step`` returns, so events are stamped with ``self.tick + 1``.
        """
        raise NotImplementedError

    # -- reading the world ---------------------------------------------------------

    def entities(self) -> Mapping[int, Any]:
        """Every entity that exists, by id (positive, never reused within a world)."""
        raise NotImplementedError

    def wire_state(self) -> dict[int, WireTuple]:
        """Every entity's wire tuple. Override only to make it faster (same result)."""
        return self.schema.wire_state(self.entities())

    def view(self, viewer: Viewer) -> Mapping[int, Any] | None:
        """The entities ``viewer`` may see; None (the default) means all of them."""
        return None

    def score(self, player: Player) -> int | None:
        """A player's score for scoreboards and the monitor; None if the game has none."""
        return None

    def result(self) -> MatchResult | None:
        """The match's result once it is over; None while it goes on."""
        return None

    def client_params(self) -> Mapping[str, float]:
        """Numbers a client's prediction needs (sent in the Welcome)."""
        return {}

    # -- whole state ---------------------------------------------------------------------

    def save(self) -> bytes:
        """The whole state, to be given to ``restore``: the instance's attributes as data
        (``_savedstate.py``: containers, enums, random generators and instances of the
        game's own classes; ``StateError`` names anything else)."""
        return save_state(self.__dict__)

    @classmethod
    def restore(cls, data: bytes) -> Rules[InputT, SettingsT]:
        """A world in exactly the saved state (``StateError`` if ``data`` is not one).

        Safe on data from anyone: nothing in it is run, and it may only name the game's
        own classes. Override ``save`` and ``restore`` together (for example to leave out
        and then rebuild what is derived from the settings).
        """
        state = load_state(data, modules=game_modules(cls))
        if type(state) is not dict or not all(type(name) is str for name in state):
            raise StateError("a saved rules state is a map of attribute names")
        rules = cls.__new__(cls)
        rules.__dict__.update(state)
        return rules

    def state_hash(self) -> str:
        """Hex blake2b (16 bytes) over the whole state, random generator included.

        The default walks the instance's attributes by value (``canonical``), so a
        restored copy hashes like its original; override it with something faster
        when the state is large (it may run every tick while recording).
        """
        return hashlib.blake2b(canonical(self.__dict__).encode(), digest_size=16).hexdigest()


def canonical(value: object) -> str:
    """A text that depends only on ``value``'s contents (not on object identities)."""
    if value is None or isinstance(value, bool | int | float | str | bytes | enum.Enum):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{canonical(k)}:{canonical(v)}" for k, v in value.items()) + "}"
    if isinstance(value, set | frozenset):
        return "{" + ",".join(sorted(canonical(item) for item in value)) + "}"
    if isinstance(value, random.Random):
        return "Random" + canonical(value.getstate())
    name = type(value).__qualname__
    if attrs.has(type(value)):
        names = [f.name for f in attrs.fields(type(value))]  # type: ignore[arg-type]
        return name + canonical({n: getattr(value, n) for n in names})
    if hasattr(value, "__dict__"):
        return name + canonical(vars(value))
    slots = getattr(type(value), "__slots__", None)
    if slots is not None:
        names = [slots] if isinstance(slots, str) else list(slots)
        return name + canonical({n: getattr(value, n, None) for n in names})
    return repr(value)


def rules_class_problems(cls: type) -> list[str]:
    """What is wrong with a ``Rules`` subclass, in words a developer can act on."""
    problems: list[str] = []
    if not (isinstance(cls, type) and issubclass(cls, Rules)):
        return [f"{cls!r} is not a subclass of gameserver.rules.Rules"]
    if not cls.id or not all(c.isalnum() or c in "-_" for c in cls.id) or cls.id != cls.id.lower():
        problems.append(f"{cls.__name__}.id must be a short lowercase name, got {cls.id!r}")
    if not isinstance(getattr(cls, "schema", None), GameSchema):
        problems.append(f"{cls.__name__}.schema must be a gameserver.rules.GameSchema")
    if type(cls.version) is not int or cls.version < 1:
        problems.append(f"{cls.__name__}.version must be a positive integer")
    if not attrs.has(cls.settings_type):
        problems.append(f"{cls.__name__}.settings_type must be an attrs class")
    if cls.step is Rules.step:
        problems.append(f"{cls.__name__} must define step()")
    if cls.entities is Rules.entities and cls.wire_state is Rules.wire_state:
        problems.append(f"{cls.__name__} must define entities()")
    return problems
