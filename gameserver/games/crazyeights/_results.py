"""Who sits where, and how a match's end is ranked, scored and summed up in a line."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from gameserver.rules import MatchResult, Player

from ._cards import Face, penalty
from ._schema import Card, EndReason, Seat

HOW = {
    EndReason.EMPTIED_HAND: "played the last card",
    EndReason.LAST_PLAYER: "everyone else left",
    EndReason.BLOCKED: "play was blocked, fewest cards left",
}


@attrs.define
class Place:
    """A seat as the rules keep it: who sits there and the hand, which never travels whole."""

    player: Player
    seat_id: int
    seat: Seat
    hand: dict[int, Card] = attrs.Factory(dict)  # card entity id -> card, in the order received
    forfeit_penalty: int = 0  # penalty points of the hand given up on leaving

    def faces(self) -> list[Face]:
        return [(card.suit, card.rank) for card in self.hand.values()]


def ranked(active: Sequence[Place], start: int, seats: int) -> list[Place]:
    """Fewest cards first, then fewest penalty points, then turn order from ``start``."""
    return sorted(
        active,
        key=lambda p: (len(p.hand), penalty(p.faces()), (p.seat.index - start) % seats),
    )


def match_result(
    places: Sequence[Place], winner: Place, why: EndReason, forfeited: Sequence[str]
) -> MatchResult:
    """The winner, the others still seated by ``ranked``, then the forfeited, last out first.

    Scores are penalty points of the cards left (a forfeited player's: of the hand it gave up).
    """
    active = [p for p in places if not p.seat.out and p is not winner]
    by_id = {p.player.id: p for p in places}
    gone = [by_id[player_id] for player_id in reversed(forfeited)]
    ranking = [winner, *ranked(active, winner.seat.index, len(places)), *gone]
    scores = {p.player.id: p.forfeit_penalty if p.seat.out else penalty(p.faces()) for p in ranking}
    others = [
        f"{p.seat.name} forfeited"
        if p.seat.out
        else f"{p.seat.name} {_count(len(p.hand), 'card')} ({_count(scores[p.player.id], 'point')})"
        for p in ranking[1:]
    ]
    return MatchResult(
        ranking=tuple(p.player.id for p in ranking),
        scores=scores,
        summary=f"{winner.seat.name} won ({HOW[why]}); " + ", ".join(others),
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
