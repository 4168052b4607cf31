"""``gameserver new-game``: a new game's project, ready to test, install and serve.

``write_project(name, folder)`` writes a small but complete game written against
``gameserver.rules`` (rules, settings, schema, a bot), its tests (``gameserver.testing``)
and a README, from the templates in this package.
"""

from __future__ import annotations

from ._project import NAME_MAX_CHARS, NewGameError, ProjectNames, check_name, write_project

__all__ = ["NAME_MAX_CHARS", "NewGameError", "ProjectNames", "check_name", "write_project"]
