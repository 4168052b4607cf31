"""The matchmaking limits: request buckets per key, and the ledger of seats not yet taken."""

from __future__ import annotations

from gameserver.server.cluster.matchlimits import KeyedBuckets, SeatLedger, host_of


def test_each_key_gets_its_burst_then_the_rate() -> None:
    buckets = KeyedBuckets(2.0, 3)
    assert [buckets.take("a", 0.0) for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]
    assert buckets.take("b", 0.0) == 0.0  # another key is not affected
    assert buckets.take("a", 0.5) == 0.0  # one token back after 1 / rate seconds


def test_a_rate_of_zero_means_no_limit() -> None:
    buckets = KeyedBuckets(0.0, 1)
    assert all(buckets.take("a", 0.0) == 0.0 for _ in range(100))
    assert len(buckets) == 0


def test_the_bucket_map_stays_bounded() -> None:
    buckets = KeyedBuckets(1.0, 5, max_keys=100)
    for i in range(1000):
        buckets.take(f"10.0.{i // 256}.{i % 256}", 0.0)
    assert len(buckets) <= 100
    buckets.take("late", 10.0)  # refilled buckets carry nothing and go first
    assert len(buckets) == 1


def test_unconfirmed_seats_are_bounded_per_address_and_in_all() -> None:
    ledger = SeatLedger(per_address=2, total=3)
    ledger.add("s1", "a", 30.0)
    ledger.add("s2", "a", 31.0)
    assert ledger.refusal("a", 1.0) == (429, "too many unused seats booked from this address", 29)
    assert ledger.refusal("b", 1.0) is None
    ledger.add("s3", "b", 32.0)
    refusal = ledger.refusal("c", 1.0)
    assert refusal is not None and refusal[0] == 503
    ledger.taken("s1")  # its player arrived
    assert ledger.refusal("a", 1.0) is None and len(ledger) == 2
    assert ledger.refusal("b", 31.5) is None and len(ledger) == 1  # s2 lapsed
    assert ledger.refusal("b", 40.0) is None and len(ledger) == 0


def test_a_peer_name_gives_its_host() -> None:
    assert host_of("127.0.0.2:5555") == "127.0.0.2"
    assert host_of("::1:5555") == "::1"
    assert host_of("unknown") == "unknown"
