"""The package's version: the one place it is written.

pyproject.toml reads it from here (``[tool.setuptools.dynamic]``); ``gameserver
--version``, ``/api/info`` and ``gameserver.__version__`` show it. CHANGELOG.md says
what each version changed.
"""

from __future__ import annotations

__version__ = "0.1.0"
