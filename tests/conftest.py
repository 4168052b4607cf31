from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio

from gameserver.config import Config
from gameserver.server import GameServer
from tests.redis_server import redis_server, redis_url  # noqa: F401  (fixtures)


def make_config(**overrides: object) -> Config:
    """A test server: port 0 on loopback, fixed seed, an arena without obstacles."""
    settings = {
        "host": "127.0.0.1",
        "port": 0,
        "seed": 7,
        "game_settings": {"obstacle_count": 0},  # the arena without obstacles
    }
    settings.update(overrides)
    return Config.of(**settings)


@pytest.fixture(params=["fast", "tasks"])
async def server(
    nursery: trio.Nursery, request: pytest.FixtureRequest
) -> AsyncIterator[GameServer]:
    """A live server on 127.0.0.1, once per transport (tick-synchronous; task per connection)."""
    game_server = GameServer(make_config(transport=request.param))
    await nursery.start(game_server.run)
    yield game_server


@pytest.fixture
async def fast_server(nursery: trio.Nursery) -> AsyncIterator[GameServer]:
    """A live server with the default (tick-synchronous) transport only."""
    game_server = GameServer(make_config())
    await nursery.start(game_server.run)
    yield game_server
