"""The Welcome a room sends: to a player or spectator that joined, and with each keyframe
of the spectator stream other nodes watch (``publishing.py``)."""

from __future__ import annotations

from gameserver.config import Config
from gameserver.protocol import PROTOCOL_VERSION, Welcome

from .host import GameHost


def welcome(
    game: GameHost,
    config: Config,
    entity_id: int,
    resume_token: str,
    version: int = PROTOCOL_VERSION,
) -> Welcome:
    """``entity_id``: what the receiver controls (0: nothing); protocol 1 gets no schema."""
    return Welcome(
        protocol_version=version,
        entity_id=entity_id,
        tick_rate=config.rooms.tick_rate,
        snapshot_rate=config.rooms.snapshot_rate,
        world_width=round(game.world_width),
        world_height=round(game.world_height),
        tick=game.tick,
        game=game.name,
        params=game.client_params(),
        resume=resume_token,
        schema=game.describe() if version >= 2 else None,
    )
