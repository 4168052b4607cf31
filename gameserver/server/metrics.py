"""Process-wide counters. Plain integers: incrementing one costs next to nothing.

``/metrics`` exports them in Prometheus format (``web/prometheus.py``); tests and
benchmarks read them directly.
"""

from __future__ import annotations

import collections
from typing import Any

import attrs


@attrs.define
class Metrics:
    connections_opened: int = 0
    connections_closed: int = 0
    handshakes_rejected: int = 0  # refused before the WebSocket opened (e.g. no subprotocol)
    messages_in: int = 0
    bytes_in: int = 0  # WebSocket payload bytes
    messages_out: int = 0
    bytes_out: int = 0
    wire_bytes_in: int = 0  # TCP payload bytes, WebSocket framing included (fast transport)
    wire_bytes_out: int = 0
    snapshots_sent: int = 0
    snapshots_skipped: int = 0  # conflation: the connection still had a snapshot in flight
    control_dropped: int = 0  # pongs/errors dropped because the control queue was full
    inputs_dropped_stale: int = 0  # duplicate or out-of-order sequence numbers
    inputs_dropped_queue_full: int = 0  # oldest Input dropped from a full input queue
    spectator_inputs: int = 0  # inputs refused because the sender is a spectator
    slow_consumer_closes: int = 0  # closed with 4008 after send_timeout_s
    join_timeouts: int = 0
    room_full: int = 0  # joins refused with 4009
    resumes: int = 0  # players who reclaimed their entity with a resume token
    resumes_refused: int = 0  # resume tokens unknown or expired (joined afresh)
    rate_limited: int = 0  # connections closed with 4029
    control_rate_limited: int = 0  # closed with 4029 for WebSocket pings/pongs beyond their rate
    fragment_limited: int = 0  # closed with 1009 for a message in too many fragments
    idle_timeouts: int = 0  # connections closed with 4010
    inputs_dropped_per_tick: int = 0  # inputs beyond max_inputs_per_tick
    commands_dropped: int = 0  # commands beyond max_commands_per_tick
    matches_ended: int = 0  # rooms whose game declared its match over (a result)
    refused_origin: int = 0  # handshakes refused with 403 (Origin not allowed)
    refused_token: int = 0  # handshakes refused for a missing, invalid or replayed join token
    refused_match_credential: int = 0  # POST /api/match without a valid identity token
    refused_capacity: int = 0  # handshakes refused with 503 (max_connections)
    refused_per_address: int = 0  # handshakes refused with 429 (max_connections_per_address)
    internal_errors: int = 0  # closed with 1011 after an unexpected exception
    rooms_crashed: int = 0  # rooms stopped because a tick raised
    rooms_opened: int = 0
    rooms_closed: int = 0  # empty past their grace, crashed, or at shutdown
    rooms_refused: int = 0  # room creations refused at max_rooms
    matches: int = 0  # seats handed out by matchmaking
    recording_bytes: int = 0  # written to recordings
    recording_dropped: int = 0  # tick records dropped because a recording's buffer was full
    recording_snapshots_dropped: int = 0  # snapshots left out for the same reason (no gap)
    relay_dropped: int = 0  # spectator-stream messages not published (queue full, no Redis)
    refused_admin: int = 0  # operator requests with a missing or wrong admin token
    chat_messages: int = 0  # Says accepted from this node's players
    chat_rate_limited: int = 0  # Says dropped beyond chat_rate_per_s / chat_burst
    chat_failed: int = 0  # Says or announcements the directory could not publish
    chat_delivered: int = 0  # Chat messages queued to this node's connections
    matches_failed: int = 0  # match requests failed for want of capacity or of the directory
    matches_rate_limited: int = 0  # match requests refused with 429 (match_rate_per_s, ...)
    matches_unconfirmed_refused: int = 0  # refused: too many seats waiting for their players
    node_reports: int = 0  # match requests that named a node their client cannot reach
    node_reports_skipped: int = 0  # not probed: this node, an unlisted node, or probed lately
    node_reports_refuted: int = 0  # the reported node answered the probe: nothing changed
    nodes_evicted: int = 0  # reported nodes that failed the probe: removed from the directory
    handshake_timeouts: int = 0  # no complete request head within handshake_timeout_s
    http_head_too_large: int = 0  # request heads refused with 431
    http_bad_requests: int = 0  # malformed HTTP refused with 400
    http_refused_capacity: int = 0  # HTTP connections refused with 503 (max_http_connections)
    monitor_streams_refused: int = 0  # /monitor/events refused with 503 (max_monitor_streams)
    http_refused_per_address: int = 0  # HTTP connections refused with 429 (..._per_address)
    http_request_timeouts: int = 0  # requests not complete within http_request_timeout_s (408)
    admin_failures_refused: int = 0  # operator requests refused with 429 (admin failure budget)
    handshakes_bad_key: int = 0  # upgrades refused with 400: Sec-WebSocket-Key not a 16-byte nonce
    protocol_errors: collections.Counter[int] = attrs.field(factory=collections.Counter)
    http_responses: collections.Counter[int] = attrs.field(factory=collections.Counter)

    @property
    def connections_active(self) -> int:
        return self.connections_opened - self.connections_closed

    def as_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["protocol_errors"] = {str(k): v for k, v in sorted(self.protocol_errors.items())}
        data["http_responses"] = {str(k): v for k, v in sorted(self.http_responses.items())}
        data["connections_active"] = self.connections_active
        return data
