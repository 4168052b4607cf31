"""What one requester may ask of matchmaking: a request rate, and seats not yet taken.

Theory of operation: two checks stand before every booking (``Matchmaker.match``).

1. Rate. Each address, and each authenticated identity, has a token bucket
   (``match_rate_per_s``/``match_burst``, ``match_identity_rate_per_s``/
   ``match_identity_burst``). A request without a token is refused with 429 and the
   seconds after which one will be there. The buckets live in a bounded map: a bucket
   that has filled up again carries no information and is forgotten first, and past
   ``MAX_TRACKED_KEYS`` the least recently used goes (a requester with that many
   addresses gets a fresh burst; the total bound below still holds).
2. Unconfirmed seats. A booked seat costs a room nothing until its player arrives (the
   room is made then), but it holds a place in the directory for ``seat_ttl_s``. The
   ledger counts the seats this node booked that no player has taken yet: at most
   ``max_unconfirmed_seats_per_address`` per address (429) and
   ``max_unconfirmed_seats`` in all (503), so a flood cannot use up the capacity real
   players need. Seats all live ``seat_ttl_s``, so the ledger is in expiry order and
   lapsed seats are dropped from its front.
"""

from __future__ import annotations

import collections
import math

from gameserver.server.limits import TokenBucket

MAX_TRACKED_KEYS = 65_536  # buckets kept at once (about 200 bytes each)


def host_of(remote: str) -> str:
    """The host of a ``"host:port"`` peer name (IPv6 hosts have colons of their own)."""
    host, _, port = remote.rpartition(":")
    return host if host and port.isdigit() else remote


class KeyedBuckets:
    """One token bucket per key, in a map of bounded size."""

    def __init__(self, rate_per_s: float, burst: int, *, max_keys: int = MAX_TRACKED_KEYS) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.max_keys = max_keys
        # key -> (bucket, when it was last used), least recently used first
        self._buckets: collections.OrderedDict[str, tuple[TokenBucket, float]] = (
            collections.OrderedDict()
        )
        self._refill_s = burst / rate_per_s if rate_per_s > 0 else math.inf

    def take(self, key: str, now_s: float) -> float:
        """0 when ``key`` may go ahead (a token spent), else the seconds until it may."""
        if self.rate_per_s <= 0:
            return 0.0  # no limit configured
        entry = self._buckets.pop(key, None)
        if entry is None:
            self._make_room(now_s)
            bucket = TokenBucket(self.rate_per_s, self.burst, now_s)
        else:
            bucket = entry[0]
        self._buckets[key] = (bucket, now_s)  # most recently used last
        if bucket.take(1, now_s):
            return 0.0
        return max(1.0, math.ceil(1 / self.rate_per_s))

    def __len__(self) -> int:
        return len(self._buckets)

    def _make_room(self, now_s: float) -> None:
        # The least recently used come first; one whose last use is a full refill ago
        # would be a fresh bucket anyway.
        buckets = self._buckets
        while buckets:
            key, (_, last_used_s) = next(iter(buckets.items()))
            if len(buckets) < self.max_keys and now_s - last_used_s < self._refill_s:
                return
            del buckets[key]


class SeatLedger:
    """Seats booked here whose player has not arrived yet, by requester."""

    def __init__(self, *, per_address: int, total: int) -> None:
        self.per_address = per_address  # 0: no per-address bound
        self.total = total
        self._seats: dict[str, tuple[str, float]] = {}  # seat id -> (address, expires at)
        self._by_address: collections.Counter[str] = collections.Counter()

    def refusal(self, address: str | None, now_s: float) -> tuple[int, str, float] | None:
        """(HTTP status, reason, retry after s) when another seat may not be booked."""
        self._expire(now_s)
        if len(self._seats) >= self.total:
            return 503, "too many seats are waiting for their players", self._wait(now_s)
        per_address = self.per_address
        if address is not None and per_address and self._by_address[address] >= per_address:
            wait = self._wait(now_s, address)
            return 429, "too many unused seats booked from this address", wait
        return None

    def add(self, seat_id: str, address: str | None, expires_at_s: float) -> None:
        key = address or ""
        self._seats[seat_id] = (key, expires_at_s)
        self._by_address[key] += 1

    def taken(self, seat_id: str) -> None:
        """The seat's player arrived (or the seat is gone): it no longer counts."""
        entry = self._seats.pop(seat_id, None)
        if entry is not None:
            self._forget(entry[0])

    def __len__(self) -> int:
        return len(self._seats)

    def _forget(self, address: str) -> None:
        self._by_address[address] -= 1
        if self._by_address[address] <= 0:
            del self._by_address[address]

    def _expire(self, now_s: float) -> None:
        while self._seats:
            seat_id, (address, expires_at_s) = next(iter(self._seats.items()))
            if expires_at_s > now_s:
                return
            del self._seats[seat_id]
            self._forget(address)

    def _wait(self, now_s: float, address: str | None = None) -> float:
        """Seconds until the oldest seat (of ``address``, when given) lapses."""
        for owner, expires_at_s in self._seats.values():
            if address is None or owner == address:
                return max(1.0, math.ceil(expires_at_s - now_s))
        return 1.0
