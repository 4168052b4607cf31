"""Cards as the rules hold them: a face is ``(suit, rank)``; what matches, what a hand costs.

Pure functions over plain tuples. Ranks run 1 (ace) to 13 (king); ``Suit.NONE`` is no
suit at all (an empty table, an ordinary card's play that names none) and never a card's.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

EIGHT = 8
RANKS = range(1, 14)


class Suit(enum.IntEnum):
    NONE = 0
    CLUBS = 1
    DIAMONDS = 2
    HEARTS = 3
    SPADES = 4


SUITS = (Suit.CLUBS, Suit.DIAMONDS, Suit.HEARTS, Suit.SPADES)
Face = tuple[Suit, int]


def full_deck() -> list[Face]:
    """The 52 faces in a fixed order (the rules shuffle it with their own generator)."""
    return [(suit, rank) for suit in SUITS for rank in RANKS]


def playable(face: Face, top: Face, named: Suit) -> bool:
    """Whether ``face`` may go on ``top``: an eight always; else the suit in play or the rank.

    The suit in play is the one named with the eight on top, or the top card's own suit.
    """
    suit, rank = face
    top_suit, top_rank = top
    if rank == EIGHT:
        return True
    return suit == (named if top_rank == EIGHT else top_suit) or rank == top_rank


def penalty(faces: Iterable[Face]) -> int:
    """Penalty points of cards left in a hand: eight 50, court cards 10, ace 1, else pips."""
    points = 0
    for _, rank in faces:
        points += 50 if rank == EIGHT else 10 if rank > 10 else rank
    return points
