"""Snapshot deltas between two wire states.

A wire state maps entity id -> tuple of ints (the game decides the fields;
field 0 is the entity kind). A delta from ``baseline`` to ``current`` is:

- ``removed``: ids in the baseline that are gone (applied first);
- ``changes``: ``[id, mask, *values]`` where bit i of ``mask`` says field i is
  present, values in field order. An id the receiver does not have must carry
  every field (``mask == 2**len(values) - 1``); an entity whose field count
  changes is sent as removed and added again.

Invariant (property-tested): ``apply(baseline, *diff(baseline, current)) == current``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._errors import DeltaError

WireState = Mapping[int, tuple[Any, ...]]  # ints, and short text where a game has it


def change_entry(eid: int, old: tuple[Any, ...] | None, cur: tuple[Any, ...]) -> list[Any] | None:
    """The change entry turning ``old`` into ``cur``; None when they are equal.

    A full entry (every field) when ``old`` is None or has another field count; the
    caller must then also list ``eid`` as removed if the receiver has the old shape.
    """
    if old is cur or old == cur:
        return None
    if old is None or len(old) != len(cur):
        return [eid, (1 << len(cur)) - 1, *cur]
    mask = 0
    entry = [eid, 0]
    for i, value in enumerate(cur):
        if value != old[i]:
            mask |= 1 << i
            entry.append(value)
    entry[1] = mask
    return entry


def diff(baseline: WireState, current: WireState) -> tuple[list[list[Any]], list[int]]:
    """Return ``(changes, removed)`` turning ``baseline`` into ``current``."""
    changes: list[list[Any]] = []
    removed = [eid for eid in baseline if eid not in current]
    get = baseline.get
    for eid, cur in current.items():
        old = get(eid)
        entry = change_entry(eid, old, cur)
        if entry is not None:
            if old is not None and len(old) != len(cur):
                removed.append(eid)
            changes.append(entry)
    return changes, removed


def apply(
    baseline: WireState, changes: Iterable[Sequence[int]], removed: Iterable[int]
) -> dict[int, tuple[Any, ...]]:
    """Apply a delta to ``baseline``; raise ``DeltaError`` if it does not fit."""
    state = dict(baseline)
    for eid in removed:
        if state.pop(eid, None) is None:
            raise DeltaError(f"removed entity {eid} is not in the baseline")
    for change in changes:
        if len(change) < 3:
            raise DeltaError("a change needs an id, a mask and at least one field")
        eid, mask, values = change[0], change[1], change[2:]
        old = state.get(eid)
        if old is None:
            if mask != (1 << len(values)) - 1:
                raise DeltaError(f"new entity {eid} must carry every field")
            state[eid] = tuple(values)
            continue
        if mask < 0 or mask >> len(old) or mask.bit_count() != len(values):
            raise DeltaError(f"mask {mask:#x} does not fit entity {eid}")
        fields = list(old)
        it = iter(values)
        for i in range(len(old)):
            if mask >> i & 1:
                fields[i] = next(it)
        state[eid] = tuple(fields)
    return state
