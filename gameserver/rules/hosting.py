"""What a host of rules needs beyond the rules API: reading the membership hooks' answers.

The room's ``GameHost`` (``gameserver.core``) and the testing kit's ``Headless`` both call
``join``, ``leave``, ``disconnected`` and ``reconnected``; these read what the game returned
the same way for both, with an error a developer can act on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["hook_events", "joined"]


def joined(answer: object) -> tuple[int, Sequence[Any]]:
    """What ``join`` returned, as (entity id, events): an id alone, or the pair."""
    if type(answer) is int:
        return answer, ()
    if (
        type(answer) is tuple
        and len(answer) == 2
        and type(answer[0]) is int
        and isinstance(answer[1], Sequence)
    ):
        return answer[0], answer[1]
    raise TypeError(f"join() must return an entity id or (entity id, events), got {answer!r}")


def hook_events(answer: object, hook: str) -> Sequence[Any]:
    """What ``leave``, ``disconnected`` or ``reconnected`` returned, as events."""
    if answer is None:
        return ()
    if isinstance(answer, Sequence) and not isinstance(answer, str | bytes):
        return answer
    raise TypeError(f"{hook}() must return None or a sequence of events, got {answer!r}")
