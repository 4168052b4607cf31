"""``/metrics``: the server's counters in Prometheus text format, via prometheus_client.

A custom collector reads the plain counters in ``Metrics`` and each room's
ticker at scrape time, so the tick never touches a Prometheus object. Every
family is listed in ``docs/operations.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from gameserver.server.web.status import ServerState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Metrics attribute -> the limit it counts, exported as gameserver_limit_hits_total{limit=...}.
LIMIT_HITS = {
    "rate_limited": "message_rate",
    "control_rate_limited": "control_frame_rate",
    "fragment_limited": "max_fragments_per_message",
    "idle_timeouts": "idle_timeout",
    "slow_consumer_closes": "send_timeout",
    "join_timeouts": "join_timeout",
    "room_full": "room_full",
    "refused_origin": "allowed_origins",
    "refused_token": "join_token",
    "refused_match_credential": "match_credential",
    "refused_capacity": "max_connections",
    "refused_per_address": "max_connections_per_address",
    "handshake_timeouts": "handshake_timeout",
    "http_head_too_large": "max_request_bytes",
    "http_refused_capacity": "max_http_connections",
    "monitor_streams_refused": "max_monitor_streams",
    "control_dropped": "control_queue_size",
    "rooms_refused": "max_rooms",
    "chat_rate_limited": "chat_rate",
    "refused_admin": "admin_token",
    "http_refused_per_address": "max_http_connections_per_address",
    "http_request_timeouts": "http_request_timeout",
    "admin_failures_refused": "admin_failure_budget",
    "commands_dropped": "max_commands_per_tick",
}
# Metrics attribute -> why an input was dropped.
INPUT_DROPS = {
    "inputs_dropped_stale": "stale",
    "inputs_dropped_queue_full": "queue_full",
    "inputs_dropped_per_tick": "per_tick",
    "spectator_inputs": "spectator",
}


class ServerCollector(Collector):
    def __init__(self, server: ServerState) -> None:
        self.server = server

    def collect(self) -> Iterator[Metric]:
        server, metrics = self.server, self.server.metrics

        def counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
            return CounterMetricFamily(f"gameserver_{name}", documentation, value=value)

        yield GaugeMetricFamily(
            "gameserver_uptime_seconds", "Seconds since the server started", server.uptime_s
        )
        yield GaugeMetricFamily(
            "gameserver_connections", "Open game connections", len(server.connections)
        )
        yield GaugeMetricFamily(
            "gameserver_http_connections", "Open plain HTTP connections", server.http_connections
        )
        yield counter("connections_opened", "Game connections accepted", metrics.connections_opened)
        yield counter("connections_closed", "Game connections ended", metrics.connections_closed)
        yield counter(
            "handshakes_rejected",
            "WebSocket handshakes refused with an HTTP status",
            metrics.handshakes_rejected,
        )
        yield counter(
            "handshakes_bad_key",
            "WebSocket upgrades refused with 400 for a Sec-WebSocket-Key that is not a nonce",
            metrics.handshakes_bad_key,
        )
        yield counter("messages_in", "WebSocket messages received", metrics.messages_in)
        yield counter("messages_out", "WebSocket messages sent", metrics.messages_out)
        yield counter("bytes_in", "WebSocket payload bytes received", metrics.bytes_in)
        yield counter("bytes_out", "WebSocket payload bytes sent", metrics.bytes_out)
        yield counter("snapshots_sent", "Snapshots sent", metrics.snapshots_sent)
        yield counter(
            "snapshots_skipped",
            "Snapshots skipped because the connection still had one in flight",
            metrics.snapshots_skipped,
        )
        yield counter(
            "internal_errors", "Connections closed with 1011 by an error", metrics.internal_errors
        )
        yield counter("resumes", "Players who reclaimed their entity", metrics.resumes)
        yield counter(
            "resumes_refused", "Resume tokens unknown or expired", metrics.resumes_refused
        )
        yield counter(
            "wire_bytes_in", "Bytes read from sockets (TLS included)", metrics.wire_bytes_in
        )
        yield counter(
            "wire_bytes_out", "Bytes written to sockets (TLS included)", metrics.wire_bytes_out
        )
        yield counter(
            "recording_dropped",
            "Recorded ticks dropped because the disk was too slow (a gap in the recording)",
            metrics.recording_dropped,
        )
        yield counter(
            "recording_snapshots_dropped",
            "Recording snapshots left out because the disk was too slow (no ticks lost)",
            metrics.recording_snapshots_dropped,
        )
        yield counter(
            "relay_dropped",
            "Spectator relay messages dropped (a relay resyncs at the next keyframe)",
            metrics.relay_dropped,
        )
        yield counter(
            "http_bad_requests",
            "Malformed HTTP requests refused with 400",
            metrics.http_bad_requests,
        )
        yield counter("rooms_opened", "Rooms opened", metrics.rooms_opened)
        yield counter(
            "rooms_closed", "Rooms closed (empty, crashed or at shutdown)", metrics.rooms_closed
        )
        yield counter("rooms_crashed", "Rooms stopped because a tick raised", metrics.rooms_crashed)
        yield GaugeMetricFamily("gameserver_rooms", "Rooms open", len(server.rooms))
        yield counter("matches", "Seats handed out by matchmaking", metrics.matches)
        yield counter("matches_failed", "Match requests that failed", metrics.matches_failed)
        yield counter(
            "matches_ended", "Matches whose game declared them over", metrics.matches_ended
        )
        yield counter(
            "matches_rate_limited",
            "Match requests refused for their rate (429)",
            metrics.matches_rate_limited,
        )
        yield counter(
            "matches_unconfirmed_refused",
            "Match requests refused: too many seats waiting for their players",
            metrics.matches_unconfirmed_refused,
        )
        yield counter(
            "node_reports",
            "Match requests naming a node their client cannot reach",
            metrics.node_reports,
        )
        yield counter(
            "node_reports_skipped",
            "Unreachable-node reports not probed (this node, unlisted, or probed lately)",
            metrics.node_reports_skipped,
        )
        yield counter(
            "node_reports_refuted",
            "Unreachable-node reports whose node answered the probe",
            metrics.node_reports_refuted,
        )
        yield counter(
            "nodes_evicted",
            "Reported nodes that failed the probe and left the directory",
            metrics.nodes_evicted,
        )
        yield counter("chat_messages", "Chat messages said on this node", metrics.chat_messages)
        yield counter(
            "chat_delivered",
            "Chat messages queued to this node's connections",
            metrics.chat_delivered,
        )
        yield counter(
            "chat_failed", "Chat messages the directory could not publish", metrics.chat_failed
        )

        errors = CounterMetricFamily(
            "gameserver_protocol_errors",
            "Connections closed for a protocol violation, by close code",
            labels=["code"],
        )
        for code, count in sorted(metrics.protocol_errors.items()):
            errors.add_metric([str(code)], count)
        yield errors

        limits = CounterMetricFamily(
            "gameserver_limit_hits", "Times a configured limit refused or closed", labels=["limit"]
        )
        for attribute, limit in LIMIT_HITS.items():
            limits.add_metric([limit], getattr(metrics, attribute))
        yield limits

        drops = CounterMetricFamily(
            "gameserver_input_drops", "Inputs dropped, by reason", labels=["reason"]
        )
        for attribute, reason in INPUT_DROPS.items():
            drops.add_metric([reason], getattr(metrics, attribute))
        yield drops

        responses = CounterMetricFamily(
            "gameserver_http_responses", "Plain HTTP responses, by status", labels=["status"]
        )
        for status, count in sorted(metrics.http_responses.items()):
            responses.add_metric([str(status)], count)
        yield responses

        yield from self._rooms()

    def _rooms(self) -> Iterator[Metric]:
        labels = ["room", "game"]
        players = GaugeMetricFamily("gameserver_room_players", "Players in the room", labels=labels)
        spectators = GaugeMetricFamily(
            "gameserver_room_spectators", "Spectators in the room", labels=labels
        )
        running = GaugeMetricFamily(
            "gameserver_room_running", "1 while the room ticks, 0 after it stopped", labels=labels
        )
        ticks = CounterMetricFamily("gameserver_room_ticks", "Ticks run", labels=labels)
        skipped = CounterMetricFamily(
            "gameserver_room_skipped_ticks", "Ticks skipped to catch up", labels=labels
        )
        duration = HistogramMetricFamily(
            "gameserver_room_tick_duration_seconds", "Time one tick took", labels=labels
        )
        lateness = HistogramMetricFamily(
            "gameserver_room_tick_lateness_seconds",
            "How late a tick started after its deadline",
            labels=labels,
        )
        for name, room in self.server.rooms.items():
            stats = room.ticker.stats
            label = [name, room.game.name]
            players.add_metric(label, room.player_count)
            spectators.add_metric(label, room.spectator_count)
            running.add_metric(label, 0 if room.stopped else 1)
            ticks.add_metric(label, stats.ticks)
            skipped.add_metric(label, stats.skipped_ticks)
            for family, histogram in (
                (duration, stats.duration_histogram),
                (lateness, stats.lateness_histogram),
            ):
                family.add_metric(
                    label, [(b, float(c)) for b, c in histogram.cumulative()], histogram.sum_s
                )
        yield from (players, spectators, running, ticks, skipped, duration, lateness)


def render(server: ServerState) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServerCollector(server))
    return generate_latest(registry)
