"""Rooms on the trio side: the driver around the pure room core, its ticker, and its kin.

- ``room.py``: ``Room``, which drives a ``gameserver.core`` room from its ticker and
  moves its connections' messages through the ``collect`` / ``deliver`` seam.
- ``ticker.py``: the fixed-tick loop on absolute deadlines.
- ``interest.py``: what each player may see, and the bodies shared between viewers.
- ``recorder.py``: writing a match to disk without the tick waiting for the disk.
- ``manager.py``: ``RoomManager``, the rooms of this process: modes, codes, opening and
  closing; ``modes.py``: a mode's settings resolved against its game.
- ``relay_room.py``: a read-only room fed with snapshots made elsewhere (another node's
  room, or ``replay.py``'s recording).
"""

from __future__ import annotations

__all__: list[str] = []  # a folder of modules: import the module you need
