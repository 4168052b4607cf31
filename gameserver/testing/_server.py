"""A real server for a game's tests: ``serve_game`` runs one on 127.0.0.1, port 0.

The server is the production ``GameServer`` with the given game as its default room's
game, so a test exercises the very code players meet: the front door, the WebSocket
handshake, the room's ticker, per-viewer delivery, recording. Only the surroundings are
made for tests: loopback, a port the OS picks, a fixed seed, the game's own tick rate,
and no example modes (they name other games).

Time is ``trio.current_time()`` throughout the server, so inside a pytest-trio test that
takes the ``autojump_clock`` fixture the room ticks in mock time: a match of many minutes
runs in a moment of real time, over real sockets on loopback (the kernel hands loopback
bytes over within the send call, so nothing is in flight when the clock jumps).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import trio

from gameserver.config import Config
from gameserver.rules import Rules
from gameserver.rules.loading import GameLoadError, load_rules
from gameserver.server import GameServer, Room
from gameserver.server.rooms.manager import DEFAULT_ROOM

TEST_SEED = 1


def game_spec(rules_or_name: str | type[Rules[Any, Any]]) -> str:
    """What ``Config.game`` takes for a short name, a ``module:Class`` or a rules class.

    A class must be importable by its module and name (defined at a module's top level),
    because the server loads games by name, as it will in production.
    """
    if isinstance(rules_or_name, str):
        return rules_or_name
    spec = f"{rules_or_name.__module__}:{rules_or_name.__qualname__}"
    try:
        found = load_rules(spec)
    except GameLoadError as error:
        raise TypeError(f"{rules_or_name!r} cannot be served: {error}") from None
    if found is not rules_or_name:
        raise TypeError(
            f"{rules_or_name!r} cannot be served: {spec} names another class "
            "(define the rules class at the top level of an importable module)"
        )
    return spec


def served_config(
    rules_or_name: str | type[Rules[Any, Any]],
    *,
    settings: object | Mapping[str, Any] | None = None,
    **config_overrides: Any,
) -> Config:
    """The ``Config`` ``serve_game`` starts its server with (see there)."""
    spec = game_spec(rules_or_name)
    load_rules(spec)  # a game that cannot be found fails here, readably
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "seed": TEST_SEED,
        "game": spec,
        "game_settings": {} if settings is None else settings,
        "modes": (),
    }
    values.update(config_overrides)
    return Config.of(**values)


@asynccontextmanager
async def serve_game(
    rules_or_name: str | type[Rules[Any, Any]],
    *,
    settings: object | Mapping[str, Any] | None = None,
    **config_overrides: Any,
) -> AsyncIterator[GameServer]:
    """A live server whose default room plays ``rules_or_name``; stopped on exit.

    ``rules_or_name``: a shipped or installed game's short name, ``package.module:Class``,
    or the rules class itself. ``settings``: the game's settings (an instance of its
    settings class, or a table of its fields); None: its defaults. ``config_overrides``
    are settings by name, as ``Config.of`` takes them (``tick_rate``,
    ``interest_management``, ``record_all``, ``recordings_dir``, ...). Defaults: 127.0.0.1,
    port 0, seed 1, the game's own tick rate and seats (its rules class's ``tick_rate`` and
    ``max_players``).

    Yields the ``GameServer``: ``server.url`` is the WebSocket to connect to,
    ``default_room(server)`` the room. On exit the server is cancelled (connections drop
    at once); a recording is flushed and closed before this returns.
    """
    config = served_config(rules_or_name, settings=settings, **config_overrides)
    server = GameServer(config)
    async with trio.open_nursery() as nursery:
        await nursery.start(server.run)
        try:
            yield server
        finally:
            nursery.cancel_scope.cancel()


def default_room(server: GameServer) -> Room:
    """The server's permanent room, where ``serve_game``'s game is played."""
    return server.rooms[DEFAULT_ROOM]
