"""Small limiters, each driven by a clock reading the caller passes in."""

from __future__ import annotations

import collections

from gameserver.core.limits import TokenBucket

__all__ = ["FailureBudget", "TokenBucket"]  # TokenBucket: pure, it lives in the room core


class FailureBudget:
    """Failures allowed per key (an address): ``burst`` at once, then ``rate_per_s``.

    A key whose budget is spent is ``blocked_for_s`` until one failure's worth has
    refilled; the caller refuses it without trying (so a guesser gains nothing by
    hammering). At most ``max_keys`` keys are remembered, the least recently failed
    forgotten first, so a flood of addresses costs bounded memory.
    """

    def __init__(self, rate_per_s: float, burst: int, *, max_keys: int = 4096) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: collections.OrderedDict[str, TokenBucket] = collections.OrderedDict()

    def blocked_for_s(self, key: str, now_s: float) -> float:
        """0 while ``key`` may try; otherwise seconds until its next try is allowed."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        tokens = bucket.tokens(now_s)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate_per_s

    def fail(self, key: str, now_s: float) -> None:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate_per_s, self.burst, now_s)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        self._buckets.move_to_end(key)
        bucket.take(1, now_s)

    def __len__(self) -> int:
        return len(self._buckets)
