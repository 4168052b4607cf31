"""Per-connection counters a client keeps (summed across bots by the swarm)."""

from __future__ import annotations

import collections
import statistics

import attrs

GAP_SAMPLES = 512  # recent snapshot inter-arrival gaps kept per connection
RTT_SAMPLES = 32


@attrs.define
class ClientStats:
    snapshots_received: int = 0
    messages_received: int = 0
    bytes_received: int = 0  # WebSocket payload bytes
    messages_sent: int = 0
    bytes_sent: int = 0
    inputs_sent: int = 0
    inputs_not_sent: int = 0  # dropped while disconnected
    reconnects: int = 0
    corrections: int = 0  # prediction corrections (players only)
    last_snapshot_at: float | None = None
    gaps_s: collections.deque[float] = attrs.field(
        factory=lambda: collections.deque(maxlen=GAP_SAMPLES)
    )
    rtts_s: collections.deque[float] = attrs.field(
        factory=lambda: collections.deque(maxlen=RTT_SAMPLES)
    )

    def on_snapshot(self, now: float) -> None:
        self.snapshots_received += 1
        if self.last_snapshot_at is not None:
            self.gaps_s.append(now - self.last_snapshot_at)
        self.last_snapshot_at = now

    @property
    def rtt_s(self) -> float | None:
        return statistics.median(self.rtts_s) if self.rtts_s else None

    @property
    def jitter_s(self) -> float:
        """Standard deviation of snapshot inter-arrival gaps."""
        return statistics.pstdev(self.gaps_s) if len(self.gaps_s) > 1 else 0.0
