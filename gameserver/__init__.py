"""An authoritative multiplayer game server on trio.

The package root stays light (it is imported by clients too): the server
itself lives in ``gameserver.server``, the wire protocol in
``gameserver.protocol``, the rules API games are written against in
``gameserver.rules`` and the bundled games in ``gameserver.games``.
"""

from __future__ import annotations

from gameserver._version import __version__
from gameserver.config import Config
from gameserver.errors import GameServerError, Refusal

__all__ = ["Config", "GameServerError", "Refusal", "__version__"]
