"""What nodes share: the room directory, matchmaking, pub/sub, global chat, spectator relays.

- ``directory/``: which nodes live and which rooms they hold (memory or Redis).
- ``matchmaking.py``: a seat for a player in a room on whichever node has one, behind the
  requester limits of ``matchlimits.py``; ``nodecheck.py`` probes nodes clients report.
- ``pubsub.py``: one subscription kept alive across directory outages.
- ``chat.py``: global chat and announcements to every node.
- ``spectator_relays.py``: watching a room that lives on another node.
"""

from __future__ import annotations

__all__: list[str] = []  # a folder of modules: import the module you need
