"""Testing kit for game developers: step rules headless and deterministically.

``Headless`` runs a game's rules as a room would, with no server: join players, give
inputs and commands, step, and read what each viewer would receive.
"""

from __future__ import annotations

from .headless import Headless, SentEvent, run_seeded

__all__ = ["Headless", "SentEvent", "run_seeded"]
