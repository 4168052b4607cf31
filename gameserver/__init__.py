"""An authoritative multiplayer game server on trio.

The package root stays light (it is imported by clients too): the server
itself lives in ``gameserver.server``, the wire protocol in
``gameserver.protocol`` and the game rules in ``gameserver.sim``.
"""

from __future__ import annotations

from gameserver.config import Config

__version__ = "0.1.0"

__all__ = ["Config", "__version__"]
