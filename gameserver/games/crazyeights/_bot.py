"""A Crazy Eights bot: legal, sensible play from what a client sees.

It reads its own view only (the table, the seats, its own cards, as a client decodes them
from the game's description) and answers with at most one command per state of the
table: ``Ready`` in the lobby; on its turn a matching card (an ordinary one of the suit it
holds most of, the costlier first, before any eight), else an eight naming the suit it
holds most of, else ``Draw``; after drawing, the drawn card if it fits, else ``Pass``.
It remembers the table state it answered, so it does not repeat a command while the
answer is on its way (on a real network several snapshots may pass first).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from gameserver.rules import Act, BotView

from ._cards import EIGHT, SUITS, Face, Suit, penalty, playable
from ._schema import Draw, Pass, Phase, Play, Ready


class Bot:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self._answered: tuple[int, ...] | None = None  # the table state last answered

    def act(self, view: BotView) -> Act:
        table: Any = None
        hand: list[tuple[Face, bool]] = []
        for entity in view.entities.values():
            kind = type(entity).__name__
            if kind == "Table":
                table = entity
            elif kind == "Card":
                hand.append(((Suit(int(entity.suit)), entity.rank), entity.drawn))
        seat: Any = view.entities.get(view.me)
        if table is None or seat is None or seat.out:
            return Act()
        phase = Phase(int(table.phase))
        if phase is Phase.LOBBY:
            return self._once((0,), Ready()) if not seat.ready else Act()
        if phase is not Phase.PLAYING or table.turn != seat.index:
            return Act()
        state = (1, table.deadline, int(table.drawn), len(hand))
        return self._once(state, self._choose(table, hand))

    def _once(self, state: tuple[int, ...], command: object) -> Act:
        if state == self._answered:
            return Act()
        self._answered = state
        return Act(commands=(command,))

    def _choose(self, table: Any, hand: list[tuple[Face, bool]]) -> object:
        top: Face = (Suit(int(table.top_suit)), table.top_rank)
        named = Suit(int(table.named))
        fits = [face for face, drawn in hand if (drawn or not table.drawn)]
        fits = [face for face in fits if playable(face, top, named)]
        held = Counter(suit for (suit, rank), _ in hand if rank != EIGHT)
        ordinary = [face for face in fits if face[1] != EIGHT]
        if ordinary:
            best = max(ordinary, key=lambda f: (held[f[0]], penalty([f]), self.random.random()))
            return Play(suit=best[0], rank=best[1])
        if fits:
            suit, rank = fits[0]
            choice = max(SUITS, key=lambda s: (held[s], s == suit))
            return Play(suit=suit, rank=rank, named=choice)
        return Pass() if table.drawn else Draw()
