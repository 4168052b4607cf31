from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gameserver.protocol import DeltaError, apply, diff

entity = st.lists(st.integers(0, 70000), min_size=1, max_size=7).map(tuple)
states = st.dictionaries(st.integers(1, 40), entity, max_size=25)


@given(states, states)
def test_apply_diff_gives_back_the_target(
    baseline: dict[int, tuple[int, ...]], current: dict[int, tuple[int, ...]]
) -> None:
    changes, removed = diff(baseline, current)
    assert apply(baseline, changes, removed) == current


@given(states)
def test_unchanged_state_has_an_empty_delta(state: dict[int, tuple[int, ...]]) -> None:
    assert diff(state, dict(state)) == ([], [])


def test_only_changed_fields_travel() -> None:
    changes, removed = diff({1: (0, 10, 20, 30)}, {1: (0, 10, 21, 30)})
    assert changes == [[1, 0b100, 21]]
    assert removed == []


def test_new_entity_carries_every_field_and_removed_ids_are_listed() -> None:
    changes, removed = diff({1: (0, 1)}, {2: (1, 5, 6)})
    assert changes == [[2, 0b111, 1, 5, 6]]
    assert removed == [1]


@pytest.mark.parametrize(
    ("changes", "removed"),
    [
        ([], [3]),  # removing what is not there
        ([[2, 0b10, 5]], []),  # partial fields for an unknown entity
        ([[1, 0b1000, 5]], []),  # mask beyond the entity's fields
        ([[1, 0b11, 5]], []),  # mask and value count disagree
        ([[1]], []),
    ],
)
def test_deltas_that_do_not_fit_are_refused(changes: list[list[int]], removed: list[int]) -> None:
    with pytest.raises(DeltaError):
        apply({1: (0, 1, 2)}, changes, removed)
