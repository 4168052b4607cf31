"""The benchmark game: the Colyseus peer's workload (``README.md``), so both servers run it."""

from __future__ import annotations

from ._bot import Bot
from ._game import Bench, BenchInput, BenchPlayer

__all__ = ["Bench", "BenchInput", "BenchPlayer", "Bot"]
