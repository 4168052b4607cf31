"""Games shipped with the server, each written against gameserver.rules only.

Each game is a package with a public face of its own: ``gameserver.games.arena``,
``gameserver.games.crazyeights`` and ``gameserver.games.bench`` (import the game's package,
not its modules). Besides that face, a game's ``behaviours`` module (the swarm's load
patterns, found by name), the arena's ``movement`` (its prediction function, named on the
wire) and the benchmark's ``timing`` (run as a script) are meant to be used from outside.
"""

from __future__ import annotations

__all__: list[str] = []  # a folder of games: import the game's own package
