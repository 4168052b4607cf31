"""Server configuration: one frozen class, every limit in one place.

Each field's comment is its documentation (``docs/operations.md`` repeats
them). Validation happens at construction so a bad value fails at start-up,
not in the middle of a match.
"""

from __future__ import annotations

from typing import Any

import attrs


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def _positive_field(default: float) -> Any:
    return attrs.field(default=default, validator=_positive)


# JWS algorithms an identity token may name (jwt_algorithms); "none" is not one of them.
JWT_ALGORITHMS = frozenset(
    {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
    | {"ES256", "ES384", "ES512", "EdDSA"}
)

MODE_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


def _mode_name(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not 1 <= len(value) <= 24 or not set(value) <= MODE_NAME_CHARS:
        raise ValueError(f"mode name must be 1..24 of a-z 0-9 - _, got {value!r}")


@attrs.frozen
class Mode:
    """A kind of room: a game and its settings. Rooms of a mode are made on demand."""

    name: str = attrs.field(validator=_mode_name)
    # The game (a short name or package.module:RulesClass); empty: the server's ``game``.
    game: str = ""
    # The game's settings: a table of its settings class's fields (or an instance of it).
    settings: Any = attrs.field(factory=dict)
    # Simulation steps per second, and a snapshot every Nth tick (must divide it).
    tick_rate: int = _positive_field(30)
    snapshot_divisor: int = _positive_field(1)
    # Seats per room: players beyond get a new room (matchmaking) or 4009 (joining by id).
    max_players: int = _positive_field(16)
    max_spectators: int = _positive_field(64)
    # Record every room of this mode to recordings_dir (gameserver replay FILE --verify).
    record: bool = False

    def __attrs_post_init__(self) -> None:
        if self.tick_rate % self.snapshot_divisor:
            raise ValueError(f"mode {self.name}: snapshot_divisor must divide tick_rate")


def _example_modes() -> tuple[Mode, ...]:
    return (
        Mode("duel", game="arena", max_players=2, settings={"width": 500.0, "height": 500.0}),
        Mode("squad", game="arena", max_players=8),
    )


@attrs.frozen
class Config:
    # -- Network
    host: str = "127.0.0.1"
    # 0 lets the OS pick a free port (tests).
    port: int = 8000
    # WebSocket path advertised in the start-up log line.
    path: str = "/ws"
    # "fast": after the handshake the room's ticker reads and writes each socket itself,
    # once per tick. "tasks": a reader and a writer task per connection over trio-websocket.
    transport: str = attrs.field(default="fast", validator=attrs.validators.in_(("fast", "tasks")))

    # TLS: with both set the server speaks wss:// and https:// (PEM files), on either
    # transport (the fast path runs TLS in memory).
    certfile: str | None = None
    keyfile: str | None = None

    # -- Ticks
    # Simulation steps per second.
    tick_rate: int = _positive_field(30)
    # A snapshot every Nth tick (must divide tick_rate).
    snapshot_divisor: int = _positive_field(1)
    # When the loop is further behind than this many ticks it skips ahead (and counts).
    max_ticks_behind: int = _positive_field(5)
    # World seed; None picks one at random and logs it.
    seed: int | None = None

    # -- Per-connection limits (memory per connection is bounded by these)
    # Largest client message accepted, checked before decoding (close 1009 above it).
    max_message_bytes: int = _positive_field(256)
    # Input frames buffered per player; the oldest is dropped (and counted) beyond it.
    input_queue_size: int = _positive_field(8)
    # Messages taken from one connection per tick (fast transport: data frames, so fragments
    # count one each); the rest wait in the socket (TCP pushes back).
    inbox_size: int = _positive_field(64)
    # Pongs and errors queued behind unsent bytes; more are dropped and counted.
    control_queue_size: int = _positive_field(16)
    # A peer that has not taken our bytes for this long is closed with 4008.
    send_timeout_s: float = _positive_field(5.0)
    # Unsent bytes kept for one connection (a snapshot's tail, pongs); beyond it: 4008.
    max_write_buffer_bytes: int = _positive_field(256 * 1024)
    # A connection that has not sent its join message by then is closed with 1008.
    join_timeout_s: float = _positive_field(10.0)
    # A peer that has not completed the HTTP upgrade by then is dropped (slowloris).
    handshake_timeout_s: float = _positive_field(5.0)
    # Messages per second a connection may send on average (token bucket), and the burst
    # it may save up; beyond them the connection is closed with 4029.
    # Each frame of a fragmented message counts as one message.
    message_rate_per_s: float = _positive_field(60.0)
    message_burst: int = _positive_field(120)
    # WebSocket pings and pongs a connection may send per second on average, and the burst it
    # may save up; beyond them the connection is closed with 4029. Only the newest ping of a
    # tick is answered (RFC 6455 allows it), so a connection gets at most one pong per tick.
    control_frame_rate_per_s: float = _positive_field(10.0)
    control_frame_burst: int = _positive_field(30)
    # Frames one message may be split into; a message in more is closed with 1009.
    max_fragments_per_message: int = _positive_field(8)
    # Chat (Say) messages per second a connection may send on average, and its burst;
    # beyond them a Say is dropped with a non-fatal Error (they also count as messages).
    chat_rate_per_s: float = _positive_field(1.0)
    chat_burst: int = _positive_field(5)
    # Input frames accepted from one player per tick; more are dropped and counted.
    max_inputs_per_tick: int = _positive_field(4)
    # Games with hidden information (views or private events) get a snapshot per viewer;
    # one that would carry nothing new is not sent, but one goes out at least this often.
    idle_snapshot_interval_s: float = _positive_field(1.0)
    # Commands (typed messages to the game's rules) accepted from one player per tick; more
    # are dropped, counted, and answered with a non-fatal Error 5.
    max_commands_per_tick: int = _positive_field(4)
    # With nothing received for this long a WebSocket ping is sent; with nothing received
    # (not even the pong) for idle_timeout_s the connection is closed with 4010.
    keepalive_interval_s: float = _positive_field(10.0)
    idle_timeout_s: float = _positive_field(30.0)

    # -- Admission (checked before the WebSocket is accepted)
    # Connections in total (HTTP 503 beyond) and from one remote address (HTTP 429 beyond);
    # 0 means no limit.
    max_connections: int = attrs.field(default=10_000, validator=attrs.validators.ge(0))
    max_connections_per_address: int = attrs.field(default=64, validator=attrs.validators.ge(0))
    # Bearer token for the operator routes (/metrics, /monitor, /api/rooms, POST
    # /api/announce; docs/operations.md). None: announcements are off, and the other
    # operator routes are open to whoever reaches their listener. GAMESERVER_ADMIN_TOKEN.
    admin_token: str | None = attrs.field(default=None, repr=False)
    # Browser Origins allowed to connect (HTTP 403 otherwise); empty allows every origin.
    # Requests without an Origin header (non-browser clients) are not affected.
    allowed_origins: tuple[str, ...] = ()

    # -- Authentication (docs/security.md section 4)
    # Secret (at least 32 bytes): turns authentication on. It signs this server's own tokens
    # (matchmaking's seat tokens, `gameserver token --room`), which every node of a cluster
    # checks, and verifies HS256 identity tokens unless a public key is configured. Every
    # connection must then present a credential before the WebSocket is accepted (?token=,
    # ?seat= with ?token=, or ?resume=) and POST /api/match an Authorization: Bearer
    # identity token. None: development mode, anyone may join as anything (logged at
    # start-up). The CLI reads --jwt-secret, else GAMESERVER_SECRET.
    join_secret: str | None = attrs.field(default=None, repr=False)
    # PEM file with the identity provider's public key (RSA, EC P-256/384/521 or Ed25519):
    # identity tokens signed RS256/ES256/EdDSA (and kin) verify with it.
    jwt_public_key_file: str | None = None
    # JWKS document with the provider's public keys by kid (how providers rotate keys): a
    # file, read at start-up, or an http(s) URL, fetched off the tick at start-up and every
    # jwks_refresh_s (sooner, at most once a minute, when a token names an unknown kid),
    # each fetch bounded by jwks_timeout_s.
    jwks: str | None = None
    jwks_refresh_s: float = _positive_field(300.0)
    jwks_timeout_s: float = _positive_field(5.0)
    # The iss and aud identity tokens must carry; None: not checked.
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # Clock skew allowed when checking exp, nbf and iat (seconds).
    jwt_leeway_s: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    # Algorithms identity tokens may use; empty: HS256 when only the secret is configured,
    # else those the public keys fit. "none" is never accepted.
    jwt_algorithms: tuple[str, ...] = ()
    # Claim holding the name shown to other players (cut to 32 characters; sub without it).
    jwt_name_claim: str = "name"
    # Claim holding the player's role (text or a list of texts), and the values of it that
    # make a spectator (who may watch but not play or take a seat).
    jwt_role_claim: str = "role"
    jwt_spectator_roles: tuple[str, ...] = ("spectator",)

    # -- Rooms
    # Modes besides "default" (which the settings of this class make); joinable by name.
    modes: tuple[Mode, ...] = attrs.field(factory=_example_modes)
    # Rooms open at once in this process (the permanent "default" room included).
    max_rooms: int = _positive_field(256)
    # A room (other than "default") with nobody in it for this long is closed.
    empty_room_grace_s: float = _positive_field(30.0)
    max_players_per_room: int = _positive_field(512)
    max_spectators_per_room: int = _positive_field(1024)
    # A dropped player's entity (score, state) waits this long for a resume token.
    resume_grace_s: float = _positive_field(15.0)
    # Ticks of events kept for connections whose snapshots were skipped (they ride in the
    # next one): longer than send_timeout_s, after which a stalled connection is closed.
    event_history_ticks: int = _positive_field(180)

    # -- Matchmaking and the directory of rooms shared by nodes
    # Redis URL of the shared directory (redis://host:6379/0); None: in memory, one process.
    redis_url: str | None = attrs.field(default=None, repr=False)
    # Keys in Redis start with this, so several clusters can share one Redis.
    directory_prefix: str = "gs:"
    # This process's name in the directory; empty: host:port and a random suffix.
    node_id: str = ""
    # Addresses clients are sent to for rooms on this node; empty: the listening address.
    # Behind a reverse proxy or NAT, set these to what clients can reach.
    public_ws_url: str = ""
    public_http_url: str = ""
    # Players this node takes through matchmaking (rooms are placed on the emptiest node).
    node_capacity: int = _positive_field(5000)
    # A node that has not renewed its registration for this long is considered dead; it
    # renews every third of it.
    node_ttl_s: float = _positive_field(10.0)
    # A match request may say that its client cannot reach a node ("unreachable"): this
    # node then opens a TCP connection to that node's HTTP address, and removes the node
    # from the directory (with its rooms) if none opens within this long.
    node_probe_timeout_s: float = _positive_field(1.0)
    # A reported node that answered is not probed again for this long (reports meanwhile
    # change nothing), so false reports cost it at most one connection per interval.
    node_probe_interval_s: float = _positive_field(2.0)
    # A seat booked by matchmaking is held this long for its player to arrive.
    seat_ttl_s: float = _positive_field(30.0)
    # Match requests (POST /api/match and FindMatch) one address may make per second on
    # average, and the burst it may save up; beyond them: HTTP 429 with Retry-After
    # (FindMatch: a non-fatal Error, and 4029 for a connection that asks again).
    # 0: no per-address limit (a load test from one machine).
    match_rate_per_s: float = attrs.field(default=2.0, validator=attrs.validators.ge(0))
    match_burst: int = _positive_field(20)
    # The same for one authenticated player (the identity matchmaking is told of).
    match_identity_rate_per_s: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    match_identity_burst: int = _positive_field(5)
    # Seats booked through this node whose player has not arrived yet: from one address
    # (HTTP 429 beyond; 0: no per-address bound) and in all (HTTP 503 beyond). They
    # lapse after seat_ttl_s.
    max_unconfirmed_seats_per_address: int = attrs.field(
        default=16, validator=attrs.validators.ge(0)
    )
    max_unconfirmed_seats: int = _positive_field(1024)

    # -- Interest management (players receive the cells around them; spectators everything)
    # False: every player receives the whole world.
    interest_management: bool = True
    # Side of a square cell, world units.
    interest_cell_size: float = _positive_field(100.0)
    # Cells seen around the player's own cell (Chebyshev distance).
    view_ring: int = attrs.field(default=2, validator=attrs.validators.ge(0))
    # Cells within this ring get exact deltas every snapshot; the rest are refreshed in turn.
    inner_ring: int = attrs.field(default=1, validator=attrs.validators.ge(0))
    # Far cells are refreshed while a snapshot stays under this size (at least one per snapshot).
    snapshot_budget_bytes: int = _positive_field(1200)

    # -- HTTP side (same port: requests without a WebSocket upgrade)
    # Directory served at / (the browser client); empty serves no files, only the API.
    web_root: str = ""
    # Plain HTTP connections open at once (health checks, metrics, pages); beyond: 503.
    max_http_connections: int = _positive_field(128)
    # An HTTP connection with no request in progress is closed after this long.
    http_idle_timeout_s: float = _positive_field(15.0)
    # Live monitor streams (/monitor/events) open at once, and how often each is updated.
    max_monitor_streams: int = _positive_field(16)
    monitor_interval_s: float = _positive_field(1.0)
    # Plain HTTP connections open at once from one address (address_key); beyond: 429.
    # 0 means no limit.
    max_http_connections_per_address: int = attrs.field(
        default=32, validator=attrs.validators.ge(0)
    )
    # Connections beyond max_http_connections kept for GET /healthz alone (one request
    # each, then closed), so a load balancer's health check gets through a full server.
    http_health_reserve: int = attrs.field(default=4, validator=attrs.validators.ge(0))
    # One request (head and body) must arrive within this, counted from its first byte
    # (from the connection's start for the first request); otherwise 408 and close.
    http_request_timeout_s: float = _positive_field(10.0)

    # -- Operator surface (/metrics, /monitor, /monitor/events, /api/rooms, /api/announce)
    # With admin_port set they are served only on this second, plain-HTTP listener (keep it
    # on loopback or a private network), and the game's port answers them with 404.
    # None: no admin listener. 0 lets the OS pick a port (tests).
    admin_host: str = "127.0.0.1"
    admin_port: int | None = None
    # Wrong admin tokens allowed per address (address_key): a burst, then this rate;
    # beyond them 429 with Retry-After, before the token is even compared.
    admin_failure_burst: int = _positive_field(10)
    admin_failure_rate_per_s: float = _positive_field(0.1)

    # -- Per-address keys: every per-address limit counts an IPv4 peer by its network of
    # this many bits (32: the address) and an IPv6 peer by its network (64: one host's /64).
    ipv4_prefix_length: int = attrs.field(default=32, validator=attrs.validators.in_(range(33)))
    ipv6_prefix_length: int = attrs.field(default=64, validator=attrs.validators.in_(range(129)))

    # -- Match recording (gameserver/recording.py for the format)
    # Record every room, whatever its mode says (the CLI's --record DIR).
    record_all: bool = False
    recordings_dir: str = "recordings"
    # Unwritten recording kept in memory per room; beyond it ticks are dropped, counted,
    # and marked in the recording as a gap.
    recording_buffer_bytes: int = _positive_field(4 * 1024 * 1024)
    recording_flush_interval_s: float = _positive_field(0.5)
    # A state hash (and per-entity digests) is recorded every this many ticks.
    recording_hash_every_ticks: int = _positive_field(1)

    # -- Shutdown
    # Time allowed for close frames to reach every client.
    shutdown_timeout_s: float = _positive_field(2.0)

    # -- Observability
    # Write a JSON stats document to this path every stats_interval_s.
    stats_file: str | None = None
    stats_interval_s: float = _positive_field(1.0)
    # Tick percentiles in the stats document cover this many seconds.
    stats_window_s: float = _positive_field(60.0)

    # -- The garbage collector of a server process (gameserver serve, demo, replay --serve)
    # A full collection scans every object and stops the tick for tens of milliseconds at
    # hundreds of players; with Python's defaults one runs every few seconds under load.
    # The server freezes what it made at start-up and collects the oldest generation only
    # after this many collections of the middle one (Python's default: 10). 0 leaves
    # Python's settings alone.
    gc_full_collection_every: int = attrs.field(default=1000, validator=attrs.validators.ge(0))

    # -- The game
    # The default room's game, and every mode's that names none: a shipped game's name
    # (arena, crazyeights, bench), an installed game's (entry point group gameserver.games)
    # or package.module:RulesClass.
    game: str = "arena"
    # Its settings: a table of the game's settings class's fields (or an instance of it);
    # empty: the game's defaults.
    game_settings: Any = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if self.tick_rate % self.snapshot_divisor:
            raise ValueError("snapshot_divisor must divide tick_rate")
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("certfile and keyfile go together")
        self._check_authentication()
        if self.idle_timeout_s <= self.keepalive_interval_s:
            raise ValueError("idle_timeout_s must exceed keepalive_interval_s")
        names = [mode.name for mode in self.modes]
        if "default" in names or len(set(names)) != len(names):
            raise ValueError("mode names must be unique and not 'default'")
        if self.inner_ring > self.view_ring:
            raise ValueError("inner_ring must not exceed view_ring")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be in 0..65535, got {self.port}")
        if self.admin_port is not None and not 0 <= self.admin_port <= 65535:
            raise ValueError(f"admin_port must be in 0..65535, got {self.admin_port}")

    def _check_authentication(self) -> None:
        if self.join_secret is not None and len(self.join_secret.encode()) < 32:
            raise ValueError("join_secret must be at least 32 bytes (RFC 7518, for HS256)")
        public = self.jwt_public_key_file or self.jwks
        if public and self.join_secret is None:
            raise ValueError(
                "jwt_public_key_file and jwks need join_secret (GAMESERVER_SECRET) too: it "
                "signs the seat tokens that matchmaking issues and every node checks"
            )
        if any(name.lower() == "none" for name in self.jwt_algorithms):
            raise ValueError('jwt_algorithms: "none" (unsigned tokens) is never accepted')
        unknown = set(self.jwt_algorithms) - JWT_ALGORITHMS
        if unknown:
            known = ", ".join(sorted(JWT_ALGORITHMS))
            raise ValueError(f"jwt_algorithms: unknown {sorted(unknown)}; known: {known}")
        if not self.jwt_name_claim or not self.jwt_role_claim:
            raise ValueError("jwt_name_claim and jwt_role_claim must not be empty")

    @property
    def snapshot_rate(self) -> int:
        return self.tick_rate // self.snapshot_divisor

    @property
    def tick_interval_s(self) -> float:
        return 1.0 / self.tick_rate
