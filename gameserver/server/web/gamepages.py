"""The pages that game packages ship: ``/games/<id>/`` from the game's own ``web/`` folder.

Theory of operation
-------------------
A game installed with pip cannot put files into ``web_root``, so its package may carry
its page itself: a folder named ``web`` in the package that holds its rules class's
module (``coin_rush/rules.py`` -> ``coin_rush/web/``, found with ``importlib.resources``).

Which games have such a page is decided once, when the server starts, from the rules
classes its modes already loaded: the only game ids ever looked up are those. A URL
names a game by id and selects a folder from that table, so no request can make the
server import a module or read a package it does not already serve.

Precedence is per game, by folder: when ``web_root/games/<id>/`` exists, the whole of
``/games/<id>/`` comes from ``web_root`` (an operator can replace a game's page), and
otherwise from the package's folder. Only a package found as a real directory counts
(not one inside a zip file): every file served is checked against the folder's real path,
as files from ``web_root`` are.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path
from typing import Any

from gameserver.rules import Rules

WEB_FOLDER = "web"  # in a game's package: the game's page

log = logging.getLogger(__name__)


def package_web_folder(rules: type[Rules[Any, Any]]) -> Path | None:
    """The real path of the ``web`` folder next to ``rules``' module, or None."""
    module = sys.modules.get(rules.__module__)
    package = getattr(module, "__package__", None)
    if not package:  # a top-level module: no package to hold a page
        return None
    try:
        folder = files(package) / WEB_FOLDER
    except (ImportError, TypeError, ValueError):
        return None
    if not isinstance(folder, Path) or not folder.is_dir():  # (a zipped package: no page)
        return None
    return folder.resolve()


def game_page_folders(games: Iterable[type[Rules[Any, Any]]]) -> dict[str, Path]:
    """Game id -> its package's page folder, for the games given that ship one."""
    folders: dict[str, Path] = {}
    for rules in games:
        if rules.id in folders:
            continue
        folder = package_web_folder(rules)
        if folder is not None:
            folders[rules.id] = folder
            log.info("game %s: its page /games/%s/ from %s", rules.id, rules.id, folder)
    return folders
