"""The benchmark game's load pattern for the swarm (``gameserver swarm --behaviour peer``).

``peer`` is the game's own bot, the Colyseus peer's ``bots.mjs`` input pattern: it never
reads the world, so lean bots run it without decoding their snapshots, as the peer's
bots do. ``BEHAVIOURS`` (name -> bot class) is what the swarm looks up in a game's package.
"""

from __future__ import annotations

from ._bot import Bot

BEHAVIOURS = {"peer": Bot}
