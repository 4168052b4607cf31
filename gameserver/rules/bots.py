"""Bots: code that plays a game as a player would, from what a client sees.

A bot is given what its connection holds after each snapshot (``BotView``: the tick, its
own entity, the entities it sees decoded into named objects, the events it received)
and answers with what to send: an input (sent every tick until replaced) and any
commands. The same bot runs headless next to the rules (``gameserver.testing``) and in
the swarm against a real server, so a game's bot is written once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import attrs


@attrs.frozen
class BotView:
    tick: int
    me: int  # the entity this bot's player controls (0: none)
    entities: Mapping[int, Any]  # decoded entities, by id
    events: Sequence[Any] = ()  # decoded events received since the last view


@attrs.frozen
class Act:
    input: Any = None  # an input object, or None to keep sending the previous one
    commands: Sequence[Any] = ()


class Bot(Protocol):
    """``Bot(seed)`` makes one; ``act`` is called once per snapshot."""

    def act(self, view: BotView) -> Act: ...
