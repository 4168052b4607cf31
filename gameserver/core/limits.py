"""A token bucket, driven by a clock reading the caller passes in."""

from __future__ import annotations


class TokenBucket:
    """Allows ``rate_per_s`` events per second on average, and bursts of up to ``burst``."""

    __slots__ = ("_last_s", "_tokens", "burst", "rate_per_s")

    def __init__(self, rate_per_s: float, burst: int, now_s: float) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._tokens = float(burst)
        self._last_s = now_s

    def take(self, count: int, now_s: float) -> bool:
        """Spend ``count`` tokens; False (and nothing spent) when there are not enough."""
        tokens = min(self.burst, self._tokens + (now_s - self._last_s) * self.rate_per_s)
        self._last_s = now_s
        if tokens < count:
            self._tokens = tokens
            return False
        self._tokens = tokens - count
        return True

    def tokens(self, now_s: float) -> float:
        """Tokens available at ``now_s`` (nothing spent)."""
        return min(self.burst, self._tokens + (now_s - self._last_s) * self.rate_per_s)
