from __future__ import annotations

from gameserver.server.limits import TokenBucket


def test_bucket_allows_the_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate_per_s=10, burst=5, now_s=0.0)
    assert bucket.take(5, 0.0)
    assert not bucket.take(1, 0.0)  # burst spent
    assert bucket.take(1, 0.1)  # one token a tenth of a second
    assert not bucket.take(1, 0.1)
    assert bucket.take(5, 100.0)  # idle time refills up to the burst, no more
    assert not bucket.take(1, 100.0)


def test_steady_traffic_at_the_rate_is_never_refused() -> None:
    bucket = TokenBucket(rate_per_s=30, burst=4, now_s=0.0)
    assert all(bucket.take(1, i / 30) for i in range(3000))
