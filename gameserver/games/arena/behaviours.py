"""The arena's load patterns: bots the swarm runs by name (``gameserver swarm --behaviour``).

Each is a rules-API bot (``Bot(seed)``, ``act(view)``) that answers in a client's form
(aim in radians, as the game's description declares it), so any client or the swarm can
drive it. They need no world except ``chase``: a bot that does not decode is shown an
empty one, and then ``chase`` wanders. ``bench`` is the benchmarks' workload: a random walk
whose direction changes about once a second and whose aim changes at every snapshot, so
every player entity changes every tick.

``BEHAVIOURS`` (name -> bot class) is what the swarm looks up in a game's package.
"""

from __future__ import annotations

import random

from gameserver.rules import Act, BotView

from ._bot import _DIRECTIONS, _TURN, Bot, ClientControls, aim_towards, direction_buttons
from ._schema import Buttons

FIRE_CHANCE = 0.05  # per snapshot, for wander
# Flag arithmetic on an IntFlag is slow; a load bot asked thousands of times a second
# looks its buttons up instead, as plain integers (which encode without a check of class).
_STEP_BUTTONS = {d: int(direction_buttons(*d)) for d in _DIRECTIONS}
_FIRING = {d: b | Buttons.FIRE.value for d, b in _STEP_BUTTONS.items()}


class Idle:
    """Stands still and never fires: it sends one input and then keeps it."""

    def __init__(self, seed: int) -> None:
        self.sent = False

    def act(self, view: BotView) -> Act:
        if self.sent:
            return Act()
        self.sent = True
        return Act(ClientControls(0, 0.0))


class RandomWalk:
    """Changes direction about every ``change_s`` seconds; ``spin``: a new random aim at
    every snapshot, else it faces where it goes; ``fire``: fires now and then."""

    __slots__ = ("aim", "direction", "random")
    spin = False
    fire = False
    change_s = 1.0

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.direction = self.random.choice(_DIRECTIONS)
        self.aim = self.random.random() * _TURN

    def act(self, view: BotView) -> Act:
        rng = self.random
        if rng.random() < 1.0 / (self.change_s * view.tick_rate):
            self.direction = rng.choice(_DIRECTIONS)
            if not self.spin and self.direction != (0, 0):
                self.aim = aim_towards(*self.direction)
        if self.spin:
            self.aim = rng.random() * _TURN
        firing = self.fire and rng.random() < FIRE_CHANCE
        buttons = (_FIRING if firing else _STEP_BUTTONS)[self.direction]
        return Act(ClientControls(buttons, self.aim))


class Wander(RandomWalk):
    """Walks at random facing its way, firing now and then."""

    __slots__ = ()
    fire = True


class Bench(RandomWalk):
    """The benchmarks' workload: walks at random, aims somewhere new every snapshot."""

    __slots__ = ()
    spin = True


Chase = Bot  # the arena's own bot: after the nearest living player, firing in range

_MIXED_CYCLE: tuple[type[Wander | Chase | Idle], ...] = (Wander, Chase, Wander, Idle)


def mixed(seed: int) -> Wander | Chase | Idle:
    """A swarm of every kind: bot ``seed`` (the swarm's seed plus the bot's number) is
    wander, chase, wander, idle in turn."""
    return _MIXED_CYCLE[seed % len(_MIXED_CYCLE)](seed)


BEHAVIOURS = {
    "wander": Wander,
    "chase": Chase,
    "idle": Idle,
    "bench": Bench,
    "mixed": mixed,
}
