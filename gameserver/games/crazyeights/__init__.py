"""Crazy Eights for 2 to 4 players with hidden hands, written against gameserver.rules only."""

from __future__ import annotations

from ._bot import Bot
from ._cards import Suit
from ._rules import CrazyEights
from ._schema import (
    Card,
    Draw,
    Drew,
    DrewCard,
    EndReason,
    Forfeited,
    MatchOver,
    NoSeat,
    NoSeatReason,
    Pass,
    PassReason,
    Phase,
    Play,
    Played,
    Ready,
    Reason,
    Refused,
    Reshuffled,
    Seat,
    Started,
    SuitChosen,
    Table,
    TurnPassed,
)
from ._settings import CrazyEightsSettings

__all__ = [
    "Bot",
    "Card",
    "CrazyEights",
    "CrazyEightsSettings",
    "Draw",
    "Drew",
    "DrewCard",
    "EndReason",
    "Forfeited",
    "MatchOver",
    "NoSeat",
    "NoSeatReason",
    "Pass",
    "PassReason",
    "Phase",
    "Play",
    "Played",
    "Ready",
    "Reason",
    "Refused",
    "Reshuffled",
    "Seat",
    "Started",
    "Suit",
    "SuitChosen",
    "Table",
    "TurnPassed",
]
