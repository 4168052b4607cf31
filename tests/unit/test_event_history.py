"""The room's event history: what a connection gets after its baseline, and what it may see."""

from __future__ import annotations

from gameserver.core import EventHistory


def test_events_since_a_baseline_and_only_the_current_tick_for_a_new_joiner() -> None:
    history = EventHistory(history_ticks=5)
    history.add(1, [([0, 7], None)])
    history.add(2, [])
    history.add(3, [([1, 8], None), ([2, 9], None)])
    assert history.since(1, 3) == [[3, 1, 8], [3, 2, 9]]
    assert history.since(0, 3) == [[3, 1, 8], [3, 2, 9]]  # a new joiner: this tick only
    assert history.since(2, 3) == [[3, 1, 8], [3, 2, 9]]
    assert history.since(3, 3) == []


def test_old_ticks_are_forgotten_and_private_events_reach_only_their_players() -> None:
    history = EventHistory(history_ticks=3)
    history.add(1, [([0, 1], frozenset({"ada"}))])
    assert history.private
    assert history.since(0, 1, "ada") == [[1, 0, 1]]
    assert history.since(0, 1, "bob") == [] and history.since(0, 1) == []  # nor spectators
    history.add(2, [([1, 2], None)])
    history.add(4, [])  # tick 1 falls out of the history
    assert not history.private
    assert history.since(0, 4) == [] and history.since(1, 4, "ada") == [[2, 1, 2]]
