"""The old name of ``gameserver.clients.latency`` (the latency-emulating TCP relay)."""

from __future__ import annotations

from gameserver.clients.latency import MAX_CHUNK_BYTES, LatencyRelay

__all__ = ["MAX_CHUNK_BYTES", "LatencyRelay"]
