"""Swarm totals: summed over bots, mergeable across worker processes, JSON both ways."""

from __future__ import annotations

import collections
import random
from typing import Any

import attrs

from ._client import NOT_RETRIED
from ._stats import ClientStats

MAX_SAMPLES = 20_000  # per kind, per process: enough for a stable p99


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def close_kind(code: int | None) -> str:
    """The error name a swarm counts for a connection that ended with close ``code``."""
    if code is None:
        return "closed"
    return f"protocol_error_{code}" if code in NOT_RETRIED else f"closed_{code}"


def _bounded(samples: list[float], rng: random.Random) -> list[float]:
    return samples if len(samples) <= MAX_SAMPLES else rng.sample(samples, MAX_SAMPLES)


@attrs.define
class SwarmTotals:
    bots: int = 0
    spectators: int = 0
    connected: int = 0  # ever completed a join
    active: int = 0  # connected right now
    failed: int = 0  # never got in
    dropped: int = 0  # got in, then lost the connection before the end
    snapshots_received: int = 0
    bytes_received: int = 0
    bytes_sent: int = 0
    inputs_sent: int = 0
    corrections: int = 0
    reconnects: int = 0
    server_tick: int = 0  # newest tick any bot saw
    errors: collections.Counter[str] = attrs.field(factory=collections.Counter)
    rtt_s: list[float] = attrs.field(factory=list)
    gaps_s: list[float] = attrs.field(factory=list)
    # The swarm's own cost: process CPU seconds over the run (summed over worker
    # processes) and the connection-ticks it served, so that their ratio is the
    # client's CPU per bot and tick whatever the mode.
    client_cpu_s: float = 0.0
    bot_ticks: int = 0
    loop_ticks_skipped: int = 0  # lean mode: ticks the bot loop skipped after falling behind
    decoders: int = 0  # connections that fully decoded every snapshot
    join_s: list[float] = attrs.field(factory=list)  # run start -> welcome, per joined bot
    rooms: collections.Counter[str] = attrs.field(factory=collections.Counter)  # --match
    # --match: bots placed again after their room's node died, and how long each took
    # (from the drop to the Welcome in the new room).
    replaced: int = 0
    replace_s: list[float] = attrs.field(factory=list)

    def add_client(self, stats: ClientStats, tick: int, *, samples: int | None) -> None:
        """Add one client's counters and its newest ``samples`` samples (None: all)."""
        self.snapshots_received += stats.snapshots_received
        self.bytes_received += stats.bytes_received
        self.bytes_sent += stats.bytes_sent
        self.inputs_sent += stats.inputs_sent
        self.corrections += stats.corrections
        self.reconnects += stats.reconnects
        self.server_tick = max(self.server_tick, tick)
        if samples is None:
            self.rtt_s.extend(stats.rtts_s)
            self.gaps_s.extend(stats.gaps_s)
        elif samples > 0:
            self.rtt_s.extend(list(stats.rtts_s)[-samples:])
            self.gaps_s.extend(list(stats.gaps_s)[-samples:])

    def merge(self, other: SwarmTotals) -> None:
        for field in attrs.fields(SwarmTotals):
            mine, theirs = getattr(self, field.name), getattr(other, field.name)
            if field.name == "server_tick":
                self.server_tick = max(mine, theirs)
            elif isinstance(mine, collections.Counter):
                mine.update(theirs)
            elif isinstance(mine, list):
                mine.extend(theirs)
            else:
                setattr(self, field.name, mine + theirs)

    def to_json(self, rng: random.Random | None = None) -> dict[str, Any]:
        rng = rng or random.Random(0)
        data = attrs.asdict(self)
        data["errors"] = dict(self.errors)
        data["rooms"] = dict(self.rooms)
        data["rtt_s"] = _bounded(self.rtt_s, rng)
        data["gaps_s"] = _bounded(self.gaps_s, rng)
        data["join_s"] = _bounded(self.join_s, rng)
        data["replace_s"] = _bounded(self.replace_s, rng)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SwarmTotals:
        totals = cls(**{k: v for k, v in data.items() if k not in ("errors", "rooms")})
        totals.errors = collections.Counter(data.get("errors", {}))
        totals.rooms = collections.Counter(data.get("rooms", {}))
        return totals

    def summary(self, duration_s: float) -> dict[str, Any]:
        """The swarm's JSON report (``gameserver swarm --json``)."""
        clients = max(1, self.bots + self.spectators)
        seconds = max(duration_s, 1e-9)
        return {
            "bots": self.bots,
            "spectators": self.spectators,
            "connected": self.connected,
            "failed": self.failed,
            "dropped": self.dropped,
            "duration_s": round(duration_s, 3),
            "snapshots_received": self.snapshots_received,
            "bytes_received": self.bytes_received,
            "bytes_sent": self.bytes_sent,
            "inputs_sent": self.inputs_sent,
            "snapshots_per_bot_s": round(self.snapshots_received / clients / seconds, 2),
            "bytes_per_bot_s": round(self.bytes_received / clients / seconds, 1),
            "bytes_sent_per_bot_s": round(self.bytes_sent / clients / seconds, 1),
            "rtt_ms_p50": round(percentile(self.rtt_s, 50) * 1000, 2),
            "rtt_ms_p99": round(percentile(self.rtt_s, 99) * 1000, 2),
            "snapshot_gap_ms_p50": round(percentile(self.gaps_s, 50) * 1000, 2),
            "snapshot_gap_ms_p99": round(percentile(self.gaps_s, 99) * 1000, 2),
            "server_tick": self.server_tick,
            "corrections": self.corrections,
            "reconnects": self.reconnects,
            "errors": dict(sorted(self.errors.items())),
            "client_cpu_s": round(self.client_cpu_s, 3),
            "bot_ticks": self.bot_ticks,
            "client_cpu_us_per_bot_tick": round(
                self.client_cpu_s * 1e6 / self.bot_ticks if self.bot_ticks else 0.0, 2
            ),
            "loop_ticks_skipped": self.loop_ticks_skipped,
            "decoders": self.decoders,
            "join_s_p50": round(percentile(self.join_s, 50), 3),
            "join_s_max": round(max(self.join_s, default=0.0), 3),
            "rooms": dict(sorted(self.rooms.items())),  # bots per room, when placed by --match
            "replaced": self.replaced,
            "replace_s_p50": round(percentile(self.replace_s, 50), 3),
            "replace_s_max": round(max(self.replace_s, default=0.0), 3),
        }
