"""What the arena sends and receives: its entity types, its input and its events.

The declarations reproduce ``docs/protocol.md`` section 7 exactly: entity kinds are the
order of ``ENTITIES`` (player 0, projectile 1, obstacle 2), event kinds the order of
``EVENTS`` (HIT 0, DEATH 1, RESPAWN 2, SCORE 3, SHOT 4), and each field encodes to the
integer the arena has always sent (positions ``round(v * 16)``, angles ``aim >> 8``).

Ranges are fixed per class while world sizes and hit points are settings, so every bound
here is a ceiling that ``ArenaSettings`` validation keeps the rules under.
"""

from __future__ import annotations

import enum

from gameserver import rules

POSITION_SCALE = 16  # positions travel as round(value * 16): 1/16 world unit
AIM_STEPS = 65536  # aim on the wire: 0..65535 over a turn, 0 = +x, increasing toward +y
ANGLE_WIRE_STEPS = 256  # entity angles in snapshots: aim >> 8
MAX_WORLD = 1_000_000.0  # the largest width or height a world may have, units
MAX_HP = 1_000_000  # the largest max_hp (and damage) a mode may set
ID_MAX = 2**53 - 1  # entity ids only grow; this is what every wire integer stays within
SCORE_MAX = 2**53 - 1


class Buttons(enum.IntFlag):
    """The input's held buttons. Bits 64 and 128 are accepted and ignored by the arena."""

    UP = 1  # -y
    DOWN = 2  # +y
    LEFT = 4  # -x
    RIGHT = 8  # +x
    FIRE = 16
    HITSCAN = 32  # an instant shot along the aim, judged where the shooter saw its target
    SPARE6 = 64
    SPARE7 = 128


ARENA_BUTTONS = 63  # the bits the arena acts on


class EntityKind(enum.IntEnum):
    """Entity kinds on the wire (item 0 of an entity's tuple): the order of ``ENTITIES``."""

    PLAYER = 0
    PROJECTILE = 1
    OBSTACLE = 2


class EventKind(enum.IntEnum):
    """Event kinds on the wire (item 1 of ``[tick, kind, *args]``): the order of ``EVENTS``."""

    HIT = 0
    DEATH = 1
    RESPAWN = 2
    SCORE = 3
    SHOT = 4


class PlayerFlags(enum.IntFlag):
    ALIVE = 1
    COOLDOWN = 2  # the fire cooldown is running: FIRE has no effect yet


@rules.entity
class Player:
    """A player: a circle of ``player_radius``. Dead players stay where they fell."""

    x: float = rules.fixed(POSITION_SCALE, 0, MAX_WORLD, interpolate=True, position="x")
    y: float = rules.fixed(POSITION_SCALE, 0, MAX_WORLD, interpolate=True, position="y")
    aim: int = rules.binary_angle(ANGLE_WIRE_STEPS, AIM_STEPS, interpolate=True)
    hp: int = rules.integer(0, MAX_HP)
    score: int = rules.integer(0, SCORE_MAX)
    # Brought up to date from alive and cooldown by ArenaRules.entities(); the fast
    # wire_state() computes it directly.
    flags: PlayerFlags = rules.flags(PlayerFlags, default=PlayerFlags.ALIVE)
    # The rules' own, never sent:
    id: int = 0
    name: str = ""
    alive: bool = True
    buttons: int = 0  # the arena's bits of the newest input
    cooldown: int = 0  # ticks until the next projectile may be fired
    respawn: int = 0  # while dead: ticks until respawn
    hitscan_cooldown: int = 0
    view_tick: float | None = None  # the tick the player saw when it sent its input


@rules.entity
class Projectile:
    """A projectile in flight; it keeps its exact float position, rounded on the wire."""

    x: float = rules.fixed(POSITION_SCALE, 0, MAX_WORLD, interpolate=True, position="x")
    y: float = rules.fixed(POSITION_SCALE, 0, MAX_WORLD, interpolate=True, position="y")
    aim: int = rules.binary_angle(ANGLE_WIRE_STEPS, AIM_STEPS)
    owner: int = rules.integer(1, ID_MAX)  # the shooter, who may have left
    id: int = 0
    vx: float = 0.0  # displacement per tick
    vy: float = 0.0
    life: int = 0  # moves left


@rules.entity
class Obstacle:
    """A round obstacle, placed when the world is made; it never changes."""

    x: float = rules.fixed(POSITION_SCALE, 0, MAX_WORLD, position="x")
    y: float = rules.fixed(POSITION_SCALE, 0, MAX_WORLD, position="y")
    radius: float = rules.fixed(POSITION_SCALE, 0, MAX_WORLD)
    id: int = 0


@rules.message
class Controls:
    """The input: the buttons held and the aim (0..65535 over a turn)."""

    buttons: Buttons = rules.flags(Buttons)
    aim: int = rules.binary_angle(AIM_STEPS, AIM_STEPS)


@rules.message
class Hit:
    """A projectile or a hitscan shot hit a player."""

    shooter: int = rules.integer(1, ID_MAX)
    target: int = rules.integer(1, ID_MAX)
    damage: int = rules.integer(0, MAX_HP)
    hp_after: int = rules.integer(0, MAX_HP)


@rules.message
class Death:
    """A player's hp reached 0; ``killer`` is the shooter's id, even if it has left."""

    victim: int = rules.integer(1, ID_MAX)
    killer: int = rules.integer(1, ID_MAX)


@rules.message
class Respawn:
    """A dead player came back at this position."""

    player: int = rules.integer(1, ID_MAX)
    x: float = rules.fixed(POSITION_SCALE, 0, MAX_WORLD)
    y: float = rules.fixed(POSITION_SCALE, 0, MAX_WORLD)


@rules.message
class Score:
    """The killer's score changed (only while the killer is in the game)."""

    player: int = rules.integer(1, ID_MAX)
    score: int = rules.integer(0, SCORE_MAX)


@rules.message
class Shot:
    """A hitscan shot's path: from the shooter to its end (the target's edge, or its range).

    ``target`` is 0 for a miss. The end may lie outside the world.
    """

    shooter: int = rules.integer(1, ID_MAX)
    target: int = rules.integer(0, ID_MAX)
    end_x: float = rules.fixed(POSITION_SCALE, -2 * MAX_WORLD, 2 * MAX_WORLD)
    end_y: float = rules.fixed(POSITION_SCALE, -2 * MAX_WORLD, 2 * MAX_WORLD)


ENTITIES = (Player, Projectile, Obstacle)
EVENTS = (Hit, Death, Respawn, Score, Shot)
SCHEMA = rules.GameSchema(entities=ENTITIES, input=Controls, events=EVENTS)
