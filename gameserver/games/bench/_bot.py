"""The benchmark game's bot: the Colyseus peer's ``bots.mjs`` input pattern, seeded.

``bots.mjs`` gives each bot a direction ``(dx, dy)``, each drawn as
``floor(random * 3) - 1``, and a phase ``nextChange = joined + random * 1000`` ms, in that
order; a shared drift-free 30 Hz loop then, for every bot, re-draws both when
``now >= nextChange`` (and adds 1000 ms to ``nextChange``) and sends ``{dx, dy}``. This
bot does the same from its own seeded generator, with the snapshot's tick as its clock:
it joined one tick before its first snapshot (as a peer bot whose join lands on a loop
tick), so ``now`` is ``(tick - joined_tick) * 1000 / 30`` ms. It sends its input every
tick, like the peer's loop, and never reads the world (the peer's bots do not either).
"""

from __future__ import annotations

import math
import random

from gameserver.rules import Act, BotView

from ._game import TICK_RATE, BenchInput

INPUT_MS = 1000 / TICK_RATE  # bots.mjs INPUT_MS
CHANGE_EVERY_MS = 1000.0  # bots.mjs re-draws once per second


class Bot:
    """Sends ``BenchInput`` every tick; a new random direction once a second, random phase."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        dx = self._direction()
        dy = self._direction()
        self._next_change_ms = self._random.random() * CHANGE_EVERY_MS
        self._act = Act(input=BenchInput(dx=dx, dy=dy))
        self._joined_tick: int | None = None

    def _direction(self) -> int:
        return math.floor(self._random.random() * 3) - 1  # bots.mjs randDir()

    def act(self, view: BotView) -> Act:
        if self._joined_tick is None:
            self._joined_tick = view.tick - 1
        now_ms = (view.tick - self._joined_tick) * INPUT_MS
        if now_ms >= self._next_change_ms:
            dx = self._direction()
            dy = self._direction()
            self._next_change_ms += CHANGE_EVERY_MS
            self._act = Act(input=BenchInput(dx=dx, dy=dy))
        return self._act
