"""The room's recent events, so that a connection whose snapshots were skipped still
gets every event it missed.

Theory of operation: after each step the room adds that tick's events (each a wire list
``[kind, *args]`` with the player ids that may see it, or None for everyone) and forgets
those older than ``history_ticks``. A snapshot carries the events since its connection's
baseline tick: ``since(baseline, tick, player_id)`` lists them as ``[tick, kind, *args]``,
only those the player may see (None: the public ones, what spectators get). A new joiner
(baseline 0) gets only the current tick's events. ``private`` says whether any event in
the history is private, in which case events must be chosen per connection.
"""

from __future__ import annotations

import collections

from .host import HostedEvent


class EventHistory:
    def __init__(self, history_ticks: int) -> None:
        self.history_ticks = history_ticks
        self._ticks: collections.deque[tuple[int, list[HostedEvent]]] = collections.deque()
        self._private = 0  # private events in the history

    @property
    def private(self) -> bool:
        return self._private > 0

    def add(self, tick: int, events: list[HostedEvent]) -> None:
        """This tick's events (none is fine), and forget what is older than the history."""
        if events:
            self._ticks.append((tick, events))
            self._private += sum(1 for _, to in events if to is not None)
        horizon = tick - self.history_ticks
        while self._ticks and self._ticks[0][0] <= horizon:
            _, gone = self._ticks.popleft()
            self._private -= sum(1 for _, to in gone if to is not None)

    def since(
        self, baseline_tick: int, tick: int, player_id: str | None = None
    ) -> list[list[object]]:
        """Events after ``baseline_tick`` (only ``tick``'s for a new joiner) that
        ``player_id`` may see; None: the public ones."""
        first = baseline_tick + 1 if baseline_tick else tick
        return [
            [event_tick, *wire]
            for event_tick, events in self._ticks
            if event_tick >= first
            for wire, to in events
            if to is None or (player_id is not None and player_id in to)
        ]
