from __future__ import annotations

import pytest

from gameserver.server.limits import FailureBudget, TokenBucket


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


def test_failure_budget_allows_a_burst_then_blocks_until_it_refills() -> None:
    budget = FailureBudget(rate_per_s=0.5, burst=3)
    for _ in range(3):
        assert budget.blocked_for_s("a", 0.0) == 0
        budget.fail("a", 0.0)
    assert budget.blocked_for_s("a", 0.0) == pytest.approx(2.0)
    assert budget.blocked_for_s("b", 0.0) == 0  # another address is not affected
    assert budget.blocked_for_s("a", 2.0) == 0  # one failure's worth refilled


def test_failure_budget_remembers_a_bounded_number_of_addresses() -> None:
    budget = FailureBudget(rate_per_s=1.0, burst=1, max_keys=100)
    for i in range(1000):
        budget.fail(f"10.0.{i // 256}.{i % 256}", 0.0)
    assert len(budget) == 100
