"""The generic client prediction driven the way the arena's tests speak: grid steps, buttons.

``ArenaPredictor`` feeds the client library's ``Predictor`` with the arena's own prediction
function (``ArenaRules.prediction``) and with entities of the classes a client rebuilds
from the arena's description, as ``ClientSession`` does; positions go in and come out
on the wire's 1/16 grid, so the arena's tests can compare them with the server's tuples.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gameserver.clients import World
from gameserver.clients._prediction import Predictor
from gameserver.games.arena import POSITION_SCALE, SCHEMA, ArenaRules, ArenaSettings, predictor
from gameserver.rules import Flags, GameSchema

CLIENT_SCHEMA = GameSchema.from_description(SCHEMA.describe())  # what a client rebuilds
PLAYER = CLIENT_SCHEMA.entities[0]
OBSTACLE_KIND = 2
assert CLIENT_SCHEMA.input is not None
CONTROLS = CLIENT_SCHEMA.input.cls
_FLAGS = PLAYER.wire_types[PLAYER.field_names.index("flags")]
assert isinstance(_FLAGS, Flags)
PLAYER_FLAGS = _FLAGS.flag_class
_BUTTONS = CLIENT_SCHEMA.input.wire_types[0]
assert isinstance(_BUTTONS, Flags)
BUTTONS = _BUTTONS.flag_class


def world_of(wire: Mapping[int, tuple[Any, ...]]) -> World:
    """A client's world holding exactly these wire tuples."""
    world = World(CLIENT_SCHEMA)
    changes = [(eid, (1 << len(t)) - 1, *t) for eid, t in wire.items()]
    world.apply(1, 0, 0, changes, ())
    return world


def client_params(settings: ArenaSettings, tick_rate: int) -> dict[str, float]:
    return dict(ArenaRules(settings, seed=0, tick_rate=tick_rate).client_params())


def player(x_q: int, y_q: int, alive: bool = True) -> Any:
    """The own entity as a client decodes it, at grid position (x_q, y_q)."""
    flags = PLAYER_FLAGS(1 if alive else 0)
    return PLAYER.cls(
        x=x_q / POSITION_SCALE, y=y_q / POSITION_SCALE, aim=0.0, hp=100, score=0, flags=flags
    )


def controls(buttons: int) -> Any:
    return CONTROLS(buttons=BUTTONS(buttons & 0xFF), aim=0.0)


class ArenaPredictor:
    """``Predictor`` with the arena's step; positions as grid integers, input as buttons."""

    def __init__(
        self,
        settings: ArenaSettings,
        tick_rate: int,
        *,
        obstacles: Iterable[tuple[int, ...]] = (),
        smoothing_s: float = 0.1,
        snap_distance: float = 100.0,
        max_pending: int = 256,
    ) -> None:
        step = predictor(client_params(settings, tick_rate), tick_rate)
        self.p = Predictor(
            step,
            idle_input=controls(0),
            smoothing_s=smoothing_s,
            snap_distance=snap_distance,
            max_pending=max_pending,
        )
        self.world = World(CLIENT_SCHEMA)
        self.set_obstacles(obstacles)

    def set_obstacles(self, wire: Iterable[tuple[int, ...]]) -> None:
        """The world holds the obstacles among ``wire`` (entity wire tuples) and nothing else."""
        tuples = [t for t in wire if t and t[0] == OBSTACLE_KIND]
        self.world = world_of(dict(enumerate(tuples, start=1)))

    def set_obstacles_from_world(self, wire_state: Mapping[int, tuple[int, ...]]) -> None:
        self.set_obstacles(wire_state[k] for k in sorted(wire_state))

    def reset(self) -> None:
        self.p.reset()

    def apply_input(self, seq: int, buttons: int) -> None:
        self.p.apply_input(seq, controls(buttons), self.world)

    def reconcile(self, x_q: int, y_q: int, ack_seq: int, alive: bool) -> None:
        self.p.reconcile(player(x_q, y_q, alive), ack_seq, self.world)

    def render_position(self, elapsed_s: float) -> tuple[float, float]:
        drawn = self.p.render_position(elapsed_s)
        return (0.0, 0.0) if drawn is None else drawn  # nothing known yet: the origin

    @property
    def x(self) -> float:
        position = self.p.position
        return 0.0 if position is None else position[0]

    @property
    def y(self) -> float:
        position = self.p.position
        return 0.0 if position is None else position[1]

    @property
    def x_q(self) -> int:
        return round(self.x * POSITION_SCALE)

    @property
    def y_q(self) -> int:
        return round(self.y * POSITION_SCALE)

    @property
    def known(self) -> bool:
        return self.p.known

    @property
    def alive(self) -> bool:
        return self.p.active

    @property
    def pending(self) -> int:
        return self.p.pending

    @property
    def offset(self) -> tuple[float, float]:
        return self.p.offset

    @property
    def corrections(self) -> int:
        return self.p.corrections

    @property
    def snaps(self) -> int:
        return self.p.snaps
