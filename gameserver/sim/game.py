"""The contract between the server and a game's rules, plus the wire constants both sides share."""

from __future__ import annotations

import enum
from typing import Protocol

import attrs


class Buttons(enum.IntFlag):
    UP = 1  # -y
    DOWN = 2  # +y
    LEFT = 4  # -x
    RIGHT = 8  # +x
    FIRE = 16
    HITSCAN = 32  # an instant shot along the aim, judged where the shooter saw its target


ALL_BUTTONS = 63

AIM_STEPS = 65536  # aim angle on the wire: 0..65535 maps to [0, 2*pi), 0 = +x, increasing toward +y
POSITION_SCALE = 16  # positions travel as round(value * 16): 1/16 world unit
ANGLE_WIRE_STEPS = 256  # entity angle in snapshots: aim >> 8


class EntityKind(enum.IntEnum):
    PLAYER = 0
    PROJECTILE = 1
    OBSTACLE = 2


class EventKind(enum.IntEnum):
    HIT = 0  # args: (shooter_id, target_id, damage, target_hp_after)
    DEATH = 1  # args: (victim_id, killer_id)   the shooter's id, even if it has left
    RESPAWN = 2  # args: (player_id, x_q, y_q)
    SCORE = 3  # args: (player_id, new_score)
    SHOT = 4  # args: (shooter_id, target_id or 0, end_x_q, end_y_q)   a hitscan shot's path


@attrs.frozen
class Event:
    tick: int
    kind: EventKind
    args: tuple[int, ...]


class Game(Protocol):
    """What the server needs from a game's rules. A second game implements this too."""

    name: str  # short rules name sent in the welcome, e.g. "arena"
    tick_rate: int
    tick: int  # number of steps taken so far
    world_width: float
    world_height: float

    def join(self, name: str) -> int:
        """New player entity; returns its id (positive, never reused within a world)."""
        ...

    def leave(self, entity_id: int) -> None:
        """Remove the player (no error if unknown)."""
        ...

    def apply_input(
        self, entity_id: int, buttons: int, aim: int, view_tick: float | None = None
    ) -> None:
        """Set the control used by the next step(); unknown ids are ignored.

        ``view_tick``: the (fractional) tick the player was looking at when it sent this,
        for lag-compensated shots; None when the input carries none.
        """
        ...

    def step(self) -> list[Event]:
        """Advance one tick of 1/tick_rate seconds; return this tick's events."""
        ...

    def wire_state(self) -> dict[int, tuple[int, ...]]:
        """Entity id -> integer tuple; element 0 is the EntityKind."""
        ...

    def state_hash(self) -> str:
        """Hex blake2b (16 bytes) over the full quantized state incl. tick, rng, cooldowns."""
        ...

    def client_params(self) -> dict[str, float]:
        """Rule parameters a client needs to predict its own movement (sent in the welcome)."""
        ...

    def entity_position(self, entity_id: int) -> tuple[float, float] | None:
        """World position of any entity, or None if unknown (for interest management)."""
        ...

    def score(self, entity_id: int) -> int | None:
        """A player's score, or None if unknown (for scoreboards and the monitor)."""
        ...
