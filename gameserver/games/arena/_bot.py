"""The arena's bot: chase the nearest living player and shoot it; wander when alone.

It decides from what a client decodes (``BotView``: entities by their described names
and fields, in world units and radians), never from the rules' internals, and answers in
a client's form too (``ClientControls``: the aim in radians, as the game's description
declares it), so the same bot plays headless (``Headless.act``) and through any client.
"""

from __future__ import annotations

import math
import random
from typing import Any, NamedTuple

from gameserver.rules import Act, BotView

from ._schema import Buttons

FIRE_RANGE = 350.0  # world units: closer than this, the bot fires
CLOSE_ENOUGH = 20.0  # world units per axis: closer than this, it stops walking on that axis
# The wander changes direction on average once in this many snapshots (a second at 30 Hz).
WANDER_CHANGE_SNAPSHOTS = 30
_DIRECTIONS = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
_TURN = 2 * math.pi


class ClientControls(NamedTuple):
    """The arena's input as a client holds it: the buttons, and the aim in radians (the
    description's angle; the rules hold ``Controls.aim`` in 1/65536 turn). Encoded with
    the game's description it travels as ``Controls`` does."""

    buttons: int  # Buttons bits
    aim: float  # radians, 0 = +x, increasing toward +y


def direction_buttons(dx: int, dy: int) -> Buttons:
    """The direction buttons for a step of signs ``(dx, dy)`` (+y is down)."""
    buttons = Buttons(0)
    if dx < 0:
        buttons |= Buttons.LEFT
    elif dx > 0:
        buttons |= Buttons.RIGHT
    if dy < 0:
        buttons |= Buttons.UP
    elif dy > 0:
        buttons |= Buttons.DOWN
    return buttons


def aim_towards(dx: float, dy: float) -> float:
    """The aim in radians, in [0, 2pi), pointing along ``(dx, dy)``."""
    return math.atan2(dy, dx) % _TURN


def _alive_player(entity: Any) -> bool:
    return type(entity).__name__ == "Player" and bool(entity.flags & 1)  # flags bit 0: alive


class Bot:
    """Walks toward the nearest other living player and fires when in range."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.direction = self.random.choice(_DIRECTIONS)
        self.aim = self.random.random() * _TURN

    def act(self, view: BotView) -> Act:
        me = view.entities.get(view.me)
        if me is None:
            return self._wander()
        best: tuple[float, float, float] | None = None
        for entity_id, entity in view.entities.items():
            if entity_id == view.me or not _alive_player(entity):
                continue
            dx, dy = entity.x - me.x, entity.y - me.y
            distance = math.hypot(dx, dy)
            if best is None or distance < best[0]:
                best = (distance, dx, dy)
        if best is None:
            return self._wander()
        distance, dx, dy = best
        buttons = direction_buttons(
            (dx > CLOSE_ENOUGH) - (dx < -CLOSE_ENOUGH), (dy > CLOSE_ENOUGH) - (dy < -CLOSE_ENOUGH)
        )
        if distance < FIRE_RANGE:
            buttons |= Buttons.FIRE
        return Act(ClientControls(int(buttons), aim_towards(dx, dy)))

    def _wander(self) -> Act:
        """A random walk, facing where it goes; changes direction about once a second."""
        if self.random.random() < 1.0 / WANDER_CHANGE_SNAPSHOTS:
            self.direction = self.random.choice(_DIRECTIONS)
            if self.direction != (0, 0):
                self.aim = aim_towards(*self.direction)
        return Act(ClientControls(int(direction_buttons(*self.direction)), self.aim))
