"""Crazy Eights' settings: how many players start a match, and how long a turn lasts."""

from __future__ import annotations

from typing import Any

import attrs

from ._schema import SEATS


def _whole(lo: int, hi: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
        if type(value) is not int or not lo <= value <= hi:
            raise ValueError(f"{attribute.name} must be an integer in [{lo}, {hi}], got {value!r}")

    return check


@attrs.frozen
class CrazyEightsSettings:
    # Seated players needed before the match may start (once they are all ready).
    min_players: int = attrs.field(default=2, validator=_whole(2, SEATS))
    # Seats at the table; the match starts at once when they are all taken.
    max_players: int = attrs.field(default=SEATS, validator=_whole(2, SEATS))
    # Time for one turn, in seconds (counted in ticks); then a card is drawn for the player.
    turn_seconds: int = attrs.field(default=20, validator=_whole(1, 3600))

    def __attrs_post_init__(self) -> None:
        if self.min_players > self.max_players:
            raise ValueError(
                f"min_players ({self.min_players}) exceeds max_players ({self.max_players})"
            )
