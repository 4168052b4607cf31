"""Clock offset and round-trip estimate from ping/pong (and, failing that, snapshots).

Theory of operation
-------------------
A ping leaves at local time ``sent``; the pong carries the server clock ``server_time``
and arrives at local ``received``. Assuming the two legs take equally long, the server
read its clock at local ``sent + rtt / 2``, so ``offset = server_time - (sent + rtt/2)``
and ``server_now(local) = local + offset``. Each sample is noisy (queueing, a GC pause,
an asymmetric route), so the estimate is the median of the last ``window`` samples,
separately for rtt and offset: one outlier cannot move a median, unlike a mean.

Before the first pong, ``on_snapshot`` provides a fallback. A snapshot stamped
``server_time`` arrives after one one-way delay, so ``server_time - local`` is the offset
minus that delay: always too small. The largest such value over the last ``window``
snapshots comes from the fastest delivery and is the tightest bound; it is used until a
pong arrives, and ignored after (pongs measure the delay, snapshots cannot). Erring low is
the safe side for interpolation: rendering a little further in the past only adds delay.

Pure: the caller passes every time as float seconds (local monotonic clock, server clock).
"""

from __future__ import annotations

import collections
import statistics

__all__ = ["ClockEstimator"]


class ClockEstimator:
    __slots__ = ("_offset", "_offsets", "_rtt", "_rtts", "_snapshot_lags", "window")

    def __init__(self, window: int = 16) -> None:
        if window <= 0:
            raise ValueError("window must be positive")
        self.window = window
        self._rtts: collections.deque[float] = collections.deque(maxlen=window)
        self._offsets: collections.deque[float] = collections.deque(maxlen=window)
        self._snapshot_lags: collections.deque[float] = collections.deque(maxlen=window)
        # Medians are recomputed per sample, not per read: reads happen every frame.
        self._rtt: float | None = None
        self._offset: float | None = None

    def on_pong(self, sent_s: float, received_s: float, server_time_s: float) -> None:
        """One ping/pong exchange: local send and receive times, the server's clock reading."""
        rtt = received_s - sent_s
        if rtt < 0.0:
            return  # the caller mixed clocks or nonces: not a measurement
        self._rtts.append(rtt)
        self._offsets.append(server_time_s - (sent_s + rtt * 0.5))
        self._rtt = statistics.median(self._rtts)
        self._offset = statistics.median(self._offsets)

    def on_snapshot(self, local_s: float, server_time_s: float) -> None:
        """A snapshot stamped ``server_time_s`` arrived at ``local_s`` (see the module doc)."""
        self._snapshot_lags.append(server_time_s - local_s)

    @property
    def samples(self) -> int:
        """Pong samples in the window."""
        return len(self._rtts)

    @property
    def rtt_s(self) -> float | None:
        """Median round trip, or None before the first pong."""
        return self._rtt

    @property
    def offset_s(self) -> float | None:
        """Server clock minus local clock: the pong median, else the snapshot bound, else None."""
        if self._offset is not None:
            return self._offset
        if self._snapshot_lags:
            return max(self._snapshot_lags)
        return None

    def server_now(self, local_s: float) -> float:
        """Estimated server clock at local time ``local_s`` (``local_s`` itself if unknown)."""
        offset = self.offset_s
        return local_s if offset is None else local_s + offset
