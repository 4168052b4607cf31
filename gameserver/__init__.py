"""An authoritative multiplayer game server on trio.

The package root stays light (it is imported by clients too): the server
itself lives in ``gameserver.server``, the wire protocol in
``gameserver.protocol``, the rules API games are written against in
``gameserver.rules`` and the bundled games in ``gameserver.games``.
"""

from __future__ import annotations

from gameserver.config import Config

__version__ = "0.1.0"

__all__ = ["Config", "__version__"]
