"""The old name of ``clients.latency`` (the latency-emulating TCP relay), kept for imports."""

from __future__ import annotations

from clients.latency import MAX_CHUNK_BYTES, LatencyRelay

__all__ = ["MAX_CHUNK_BYTES", "LatencyRelay"]
