"""Bots: code that plays a game as a player would, from what a client sees.

A bot is given what its connection holds after each snapshot (``BotView``: the tick, its
own entity, the entities it sees decoded into named objects, the events it received, and
from the Welcome the room's tick rate, the world's size and the game's parameters) and
answers with what to send: an input (sent every tick until replaced) and any
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
    # The room's ticks per second (seconds to ticks: ``round(s * view.tick_rate)``).
    tick_rate: int = attrs.field(default=30, kw_only=True)
    # (width, height) of a spatial game's world in world units; None: a game without space.
    world_size: tuple[float, float] | None = attrs.field(default=None, kw_only=True)
    # The game's client parameters (``Rules.client_params()``, the Welcome's ``params``).
    params: Mapping[str, float] = attrs.field(factory=dict, kw_only=True)


@attrs.frozen
class Act:
    input: Any = None  # an input object, or None to keep sending the previous one
    commands: Sequence[Any] = ()


class Bot(Protocol):
    """``Bot(seed)`` makes one; ``act`` is called once per snapshot."""

    def act(self, view: BotView) -> Act: ...
