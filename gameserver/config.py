"""Server configuration: frozen classes, one per section, every limit in one place.

``Config`` holds one section per subsystem (``config.network.port``,
``config.rooms.tick_rate``, ``config.auth.join_secret``), each a frozen class whose fields
are the settings of one table of the config file. Each field carries its documentation and
its table in its metadata (``setting``): the config file's ``[section]`` tables, the
environment variables, ``gameserver serve``'s flags and ``gameserver config``'s output are
all made from it (``gameserver/configload.py``, ``gameserver/cliflags.py``), and
``docs/operations.md`` repeats it. Setting names are unique across sections, so
``Config.of(port=0, tick_rate=30)`` and ``config.replace(port=0)`` take them without their
section. Validation happens at construction so a bad value fails at start-up, not in the
middle of a match.

What a mode sets (its game and settings, ``GameSection``; its ticks and seats,
``RoomShape``) is declared once: ``Config``'s ``game`` and ``rooms`` sections are the
default mode's, and a ``Mode`` holds one of each.
"""

from __future__ import annotations

import difflib
from typing import Any

import attrs


@attrs.frozen
class Bound:
    """A numeric field's allowed range: its validator, and the words errors use for it."""

    low: float
    high: float | None = None
    # True: the value must be above ``low``, not merely at least ``low``.
    above: bool = False
    # None is allowed too (the field is optional).
    optional: bool = False

    def __call__(self, instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and self.optional:
            return
        if not self.allows(value):
            raise ValueError(f"{attribute.name} must be {self.allowed}, got {value!r}")

    def allows(self, value: float) -> bool:
        if value < self.low or (self.above and value == self.low):
            return False
        return self.high is None or value <= self.high

    @property
    def allowed(self) -> str:
        if self.high is not None:
            return f"in {self.low:g}..{self.high:g}"
        return f"> {self.low:g}" if self.above else f">= {self.low:g}"


@attrs.frozen
class Choice:
    """A text field's allowed values."""

    options: tuple[str, ...]

    def __call__(self, instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in self.options:
            raise ValueError(f"{attribute.name} must be {self.allowed}, got {value!r}")

    @property
    def allowed(self) -> str:
        return "one of " + ", ".join(repr(option) for option in self.options)


POSITIVE = Bound(0, above=True)
AT_LEAST_ZERO = Bound(0)
PORT = Bound(0, 65535)


# The metadata key under which a setting keeps its ``About``.
ABOUT = "gameserver.setting"

# The config file's tables, in the order ``gameserver config`` prints them, and what each holds.
SECTIONS: dict[str, str] = {
    "network": "listening, TLS, and the transport that moves a connection's bytes",
    "admission": "who may connect, checked before the WebSocket is accepted",
    "limits": "per connection: memory, rates and timeouts (memory per connection is bounded)",
    "auth": "authentication: the token secret and the identity provider (docs/security.md 4)",
    "rooms": "ticks, room sizes and lifetimes of the default mode's rooms and of the process",
    "game": "the default room's game and its settings",
    "modes": "kinds of rooms besides default: [modes.NAME] tables",
    "interest": "interest management: players receive the cells around them",
    "cluster": "the directory of rooms shared by nodes (Redis) and this node's place in it",
    "matchmaking": "match requests and booked seats",
    "web": "the HTTP side on the game's port (requests without a WebSocket upgrade)",
    "admin": "the operator routes (/metrics, /monitor, /api/rooms, /api/announce)",
    "recording": "match recordings (gameserver replay FILE --verify)",
    "stats": "the JSON stats document",
    "process": "shutdown and the garbage collector of a server process",
}


@attrs.frozen
class About:
    """What a setting is: its config file table, its doc, how it is given from outside."""

    section: str
    doc: str
    # Masked by ``gameserver config`` and kept out of the repr; set it in the environment.
    secret: bool = False
    # The command-line flags of ``gameserver serve``; None: ``--field-name``; (): none.
    flags: tuple[str, ...] | None = None
    # Environment variables besides GAMESERVER_<FIELD>, read first.
    env: tuple[str, ...] = ()
    # The flag's value placeholder in --help; None: from the type.
    metavar: str | None = None
    # The key in a [modes.NAME] table, for a setting a mode has too (``GameSection``,
    # ``RoomShape``); None: the field's name.
    mode_key: str | None = None


def setting(
    default: Any = attrs.NOTHING,
    *,
    section: str,
    doc: str,
    check: Bound | Choice | None = None,
    factory: Any = None,
    secret: bool = False,
    flags: tuple[str, ...] | None = None,
    env: tuple[str, ...] = (),
    metavar: str | None = None,
    mode_key: str | None = None,
) -> Any:
    """A setting: a section's field with its table and doc (see ``About``)."""
    if section not in SECTIONS:
        raise ValueError(f"unknown section {section!r}")
    about = About(section, " ".join(doc.split()), secret, flags, env, metavar, mode_key)
    return attrs.field(
        default=default if factory is None else attrs.NOTHING,
        factory=factory,
        validator=check,
        repr=not secret,
        metadata={ABOUT: about},
    )


def about(field: attrs.Attribute[Any]) -> About:
    """The setting's ``About``; a field declared without ``setting`` gets a placeholder."""
    found = field.metadata.get(ABOUT)
    return found if isinstance(found, About) else About("process", "")


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
class RoomShape:
    """A room's ticks and seats: what a mode sets besides its game (``Mode.room``), and the
    default mode's in ``[rooms]`` (``RoomsSection`` holds these fields too)."""

    tick_rate: int = setting(
        0,
        section="rooms",
        doc="Simulation steps per second of the default room (a mode has its own); 0: the "
        "game's own rate (its rules class's tick_rate).",
        check=AT_LEAST_ZERO,
    )
    snapshot_divisor: int = setting(
        1,
        section="rooms",
        doc="A snapshot every Nth tick (must divide tick_rate).",
        check=POSITIVE,
    )
    max_players_per_room: int = setting(
        0,
        section="rooms",
        mode_key="max_players",
        doc="Player slots in the default room; a Join beyond them is closed with 4009. 0: the "
        "game's own (its rules class's max_players).",
        check=AT_LEAST_ZERO,
        flags=("--max-players-per-room", "--max-players"),
    )
    max_spectators_per_room: int = setting(
        1024,
        section="rooms",
        mode_key="max_spectators",
        doc="Spectator slots per room of the default mode; a Join beyond them is closed with 4009.",
        check=POSITIVE,
        flags=("--max-spectators-per-room", "--max-spectators"),
    )

    @property
    def snapshot_rate(self) -> int:
        return self.tick_rate // self.snapshot_divisor

    @property
    def tick_interval_s(self) -> float:
        return 1.0 / self.tick_rate


def _seats_after_lifetimes(
    cls: type, fields: list[attrs.Attribute[Any]]
) -> list[attrs.Attribute[Any]]:
    """``[rooms]`` lists the default room's seats after the rooms' lifetimes, where the
    config file, the flags and ``gameserver config`` have always had them."""
    seats = [f for f in fields if f.name in {"max_players_per_room", "max_spectators_per_room"}]
    rest = [f for f in fields if f not in seats]
    at = next(i for i, f in enumerate(rest) if f.name == "empty_room_grace_s") + 1
    return rest[:at] + seats + rest[at:]


@attrs.frozen(field_transformer=_seats_after_lifetimes)
class RoomsSection(RoomShape):
    """``[rooms]``: the default mode's room shape, and the lifetimes of rooms and players."""

    max_ticks_behind: int = setting(
        5,
        section="rooms",
        doc="When the loop is further behind than this many ticks it skips ahead (and counts).",
        check=POSITIVE,
    )
    seed: int | None = setting(
        None, section="rooms", doc="World seed; none picks one at random and logs it."
    )
    idle_snapshot_interval_s: float = setting(
        1.0,
        section="rooms",
        doc="Games with hidden information (views or private events) get a snapshot per "
        "viewer; one that would carry nothing new is not sent, but one goes out at least "
        "this often.",
        check=POSITIVE,
    )
    max_rooms: int = setting(
        256,
        section="rooms",
        doc='Rooms open at once in this process (the permanent "default" room included).',
        check=POSITIVE,
    )
    empty_room_grace_s: float = setting(
        30.0,
        section="rooms",
        doc='A room (other than "default") with nobody in it for this long is closed.',
        check=POSITIVE,
    )
    resume_grace_s: float = setting(
        15.0,
        section="rooms",
        doc="A dropped player's entity (score, state) waits this long for a resume token.",
        check=POSITIVE,
    )
    event_history_ticks: int = setting(
        180,
        section="rooms",
        doc="Ticks of events kept for connections whose snapshots were skipped (they ride in "
        "the next one): longer than send_timeout_s, after which a stalled connection is "
        "closed.",
        check=POSITIVE,
    )


@attrs.frozen
class GameSection:
    """``[game]``: the default room's game and its settings; a ``Mode`` holds one too."""

    game: str = setting(
        "arena",
        section="game",
        doc="The default room's game, and every mode's that names none: a shipped game's "
        "name (docs/operations.md, Games), an installed game's (entry point group "
        "gameserver.games) or package.module:RulesClass.",
        metavar="GAME",
    )
    game_settings: Any = setting(  # noqa: RUF009 (a field specifier, like attrs.field)
        section="game",
        mode_key="settings",
        doc="Its settings: a table of the game's settings class's fields (or an instance of "
        "it); empty: the game's defaults.",
        factory=dict,
        flags=("--game-setting",),
        metavar="NAME=VALUE",
    )


@attrs.frozen
class Mode:
    """A kind of room: a game and its settings, and a room shape. Rooms of a mode are made
    on demand. ``Mode.of`` takes the keys of a ``[modes.NAME]`` table."""

    name: str = attrs.field(validator=_mode_name)
    # Its game and settings; an empty game: the server's (``config.game.game``), with
    # these settings. Left out: the server's game with its defaults.
    game: GameSection = attrs.field(factory=lambda: GameSection(game=""))
    # Its ticks and seats; 0 for the tick rate or the players: the game's own. Left out:
    # the game's own, and 64 spectators (the default room has more).
    room: RoomShape = attrs.field(factory=lambda: RoomShape(max_spectators_per_room=64))
    # Record every room of this mode to recordings_dir (gameserver replay FILE --verify).
    record: bool = False

    def __attrs_post_init__(self) -> None:
        if self.room.tick_rate % self.room.snapshot_divisor:  # 0 is checked with the game
            raise ValueError(f"mode {self.name}: snapshot_divisor must divide tick_rate")

    @classmethod
    def of(cls, name: str, **keys: Any) -> Mode:
        """A mode from the keys of a ``[modes.NAME]`` table (``game``, ``settings``,
        ``tick_rate``, ``snapshot_divisor``, ``max_players``, ``max_spectators``,
        ``record``); the others keep a mode's defaults."""
        parts: dict[str, dict[str, Any]] = {"game": {}, "room": {}}
        top: dict[str, Any] = {}
        for key, value in keys.items():
            found = MODE_KEYS.get(key)
            if found is None:
                known = ", ".join(MODE_KEYS)
                raise TypeError(f"a mode has no key {key!r} (a mode has: {known})")
            part, field = found
            if part:
                parts[part][field.name] = value
            else:
                top[field.name] = value
        defaults = cls(name)
        return cls(
            name,
            game=attrs.evolve(defaults.game, **parts["game"]),
            room=attrs.evolve(defaults.room, **parts["room"]),
            **top,
        )


def _mode_keys() -> dict[str, tuple[str, attrs.Attribute[Any]]]:
    """The keys of a ``[modes.NAME]`` table: the part of a ``Mode`` each sets, and its field."""
    keys: dict[str, tuple[str, attrs.Attribute[Any]]] = {}
    for part, cls in (("game", GameSection), ("room", RoomShape)):
        for field in attrs.fields(cls):
            keys[about(field).mode_key or field.name] = (part, field)
    keys["record"] = ("", attrs.fields(Mode).record)
    return keys


MODE_KEYS = _mode_keys()


def _example_modes() -> tuple[Mode, ...]:
    return (
        Mode.of("duel", game="arena", max_players=2, settings={"width": 500.0, "height": 500.0}),
        Mode.of("squad", game="arena", max_players=8),
    )


@attrs.frozen
class NetworkSection:
    """``[network]``: listening, TLS and the transport."""

    host: str = setting("127.0.0.1", section="network", doc="Address to listen on.", metavar="HOST")
    port: int = setting(
        8000,
        section="network",
        doc="TCP port; 0 lets the OS pick a free port (tests).",
        check=PORT,
        metavar="PORT",
    )
    path: str = setting(
        "/ws", section="network", doc="WebSocket path advertised in the start-up log line."
    )
    transport: str = setting(
        "fast",
        section="network",
        doc='"fast": after the handshake the room\'s ticker reads and writes each socket '
        'itself, once per tick. "tasks": a reader and a writer task per connection over '
        "trio-websocket.",
        check=Choice(("fast", "tasks")),
        metavar="T",
    )
    certfile: str | None = setting(
        None,
        section="network",
        doc="TLS: with certfile and keyfile set the server speaks wss:// and https:// (PEM "
        "files), on either transport (the fast path runs TLS in memory). The certificate "
        "chain.",
        metavar="PATH",
    )
    keyfile: str | None = setting(
        None, section="network", doc="The PEM private key of certfile.", metavar="PATH"
    )

    def __attrs_post_init__(self) -> None:
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("certfile and keyfile go together")


@attrs.frozen
class AdmissionSection:
    """``[admission]``: who may connect, checked before the WebSocket is accepted."""

    max_connections: int = setting(
        10_000,
        section="admission",
        doc="Connections in total (HTTP 503 beyond); 0 means no limit.",
        check=AT_LEAST_ZERO,
    )
    max_connections_per_address: int = setting(
        64,
        section="admission",
        doc="Connections from one remote address (HTTP 429 beyond); 0 means no limit.",
        check=AT_LEAST_ZERO,
    )
    allowed_origins: tuple[str, ...] = setting(
        (),
        section="admission",
        doc="Browser Origins allowed to connect (HTTP 403 otherwise); empty allows every "
        "origin. Requests without an Origin header (non-browser clients) are not affected.",
    )
    ipv4_prefix_length: int = setting(
        32,
        section="admission",
        doc="Every per-address limit counts an IPv4 peer by its network of this many bits "
        "(32: the address).",
        check=Bound(0, 32),
    )
    ipv6_prefix_length: int = setting(
        64,
        section="admission",
        doc="Every per-address limit counts an IPv6 peer by its network of this many bits "
        "(64: one host's /64).",
        check=Bound(0, 128),
    )


@attrs.frozen
class LimitsSection:
    """``[limits]``: per connection: memory, rates and timeouts."""

    max_message_bytes: int = setting(
        256,
        section="limits",
        doc="Largest client message accepted, checked before decoding (close 1009 above it).",
        check=POSITIVE,
    )
    input_queue_size: int = setting(
        8,
        section="limits",
        doc="Inputs buffered per player; the oldest is dropped (and counted) beyond it.",
        check=POSITIVE,
    )
    inbox_size: int = setting(
        64,
        section="limits",
        doc="Messages taken from one connection per tick (fast transport: data frames, so "
        "fragments count one each); the rest wait in the socket (TCP pushes back).",
        check=POSITIVE,
    )
    control_queue_size: int = setting(
        16,
        section="limits",
        doc="Pongs and errors queued behind unsent bytes; more are dropped and counted.",
        check=POSITIVE,
    )
    send_timeout_s: float = setting(
        5.0,
        section="limits",
        doc="A peer that has not taken our bytes for this long is closed with 4008.",
        check=POSITIVE,
    )
    max_write_buffer_bytes: int = setting(
        256 * 1024,
        section="limits",
        doc="Unsent bytes kept for one connection (a snapshot's tail, pongs); beyond it: 4008.",
        check=POSITIVE,
    )
    join_timeout_s: float = setting(
        10.0,
        section="limits",
        doc="A connection that has not sent its join message by then is closed with 1008.",
        check=POSITIVE,
    )
    handshake_timeout_s: float = setting(
        5.0,
        section="limits",
        doc="A peer that has not completed the HTTP upgrade by then is dropped (slowloris).",
        check=POSITIVE,
    )
    message_rate_per_s: float = setting(
        60.0,
        section="limits",
        doc="Messages per second a connection may send on average (token bucket); beyond it "
        "the connection is closed with 4029. Each frame of a fragmented message counts as one "
        "message.",
        check=POSITIVE,
    )
    message_burst: int = setting(
        120,
        section="limits",
        doc="The burst of messages a connection may save up (message_rate_per_s's bucket).",
        check=POSITIVE,
    )
    control_frame_rate_per_s: float = setting(
        10.0,
        section="limits",
        doc="WebSocket pings and pongs a connection may send per second on average; beyond "
        "it the connection is closed with 4029. Only the newest ping of a tick is answered "
        "(RFC 6455 allows it), so a connection gets at most one pong per tick.",
        check=POSITIVE,
    )
    control_frame_burst: int = setting(
        30,
        section="limits",
        doc="The burst of pings and pongs a connection may save up "
        "(control_frame_rate_per_s's bucket).",
        check=POSITIVE,
    )
    max_fragments_per_message: int = setting(
        8,
        section="limits",
        doc="Frames one message may be split into; a message in more is closed with 1009.",
        check=POSITIVE,
    )
    chat_rate_per_s: float = setting(
        1.0,
        section="limits",
        doc="Chat (Say) messages per second a connection may send on average; beyond it a "
        "Say is dropped with a non-fatal Error (they also count as messages).",
        check=POSITIVE,
    )
    chat_burst: int = setting(
        5,
        section="limits",
        doc="The burst of chat messages a connection may save up (chat_rate_per_s's bucket).",
        check=POSITIVE,
    )
    max_inputs_per_tick: int = setting(
        4,
        section="limits",
        doc="Inputs accepted from one player per tick; more are dropped and counted.",
        check=POSITIVE,
    )
    max_commands_per_tick: int = setting(
        4,
        section="limits",
        doc="Commands (typed messages to the game's rules) accepted from one player per tick; "
        "more are dropped, counted, and answered with a non-fatal Error 5.",
        check=POSITIVE,
    )
    keepalive_interval_s: float = setting(
        10.0,
        section="limits",
        doc="With nothing received for this long a WebSocket ping is sent.",
        check=POSITIVE,
    )
    idle_timeout_s: float = setting(
        30.0,
        section="limits",
        doc="With nothing received (not even the pong) for this long the connection is "
        "closed with 4010; must exceed keepalive_interval_s.",
        check=POSITIVE,
    )

    def __attrs_post_init__(self) -> None:
        if self.idle_timeout_s <= self.keepalive_interval_s:
            raise ValueError("idle_timeout_s must exceed keepalive_interval_s")


@attrs.frozen
class AuthSection:
    """``[auth]``: the token secret and the identity provider."""

    join_secret: str | None = setting(
        None,
        section="auth",
        doc="Secret (at least 32 bytes): turns authentication on. It signs this server's own "
        "tokens (matchmaking's seat tokens, `gameserver token --room`), which every node of "
        "a cluster checks, and verifies HS256 identity tokens unless a public key is "
        "configured. Every connection must then present a credential before the WebSocket "
        "is accepted (?token=, ?seat= with ?token=, or ?resume=) and POST /api/match an "
        "Authorization: Bearer identity token. None: development mode, anyone may join as "
        "anything (logged at start-up).",
        secret=True,
        flags=("--jwt-secret",),
        env=("GAMESERVER_SECRET",),
        metavar="SECRET",
    )
    jwt_public_key_file: str | None = setting(
        None,
        section="auth",
        doc="PEM file with the identity provider's public key (RSA, EC P-256/384/521 or "
        "Ed25519): identity tokens signed RS256/ES256/EdDSA (and kin) verify with it.",
        flags=("--jwt-public-key-file", "--jwt-public-key"),
        metavar="FILE",
    )
    jwks: str | None = setting(
        None,
        section="auth",
        doc="JWKS document with the provider's public keys by kid (how providers rotate "
        "keys): a file, read at start-up, or an http(s) URL, fetched off the tick at start-up "
        "and every jwks_refresh_s (sooner, at most once a minute, when a token names an "
        "unknown kid), each fetch bounded by jwks_timeout_s.",
        metavar="FILE|URL",
    )
    jwks_refresh_s: float = setting(
        300.0, section="auth", doc="Seconds between fetches of a JWKS URL.", check=POSITIVE
    )
    jwks_timeout_s: float = setting(
        5.0, section="auth", doc="Time allowed for one JWKS fetch.", check=POSITIVE
    )
    jwt_issuer: str | None = setting(
        None, section="auth", doc="The iss identity tokens must carry; none: not checked."
    )
    jwt_audience: str | None = setting(
        None, section="auth", doc="The aud identity tokens must carry; none: not checked."
    )
    jwt_leeway_s: float = setting(
        30.0,
        section="auth",
        doc="Clock skew allowed when checking exp, nbf and iat (seconds).",
        check=AT_LEAST_ZERO,
        flags=("--jwt-leeway-s", "--jwt-leeway"),
        metavar="SECONDS",
    )
    jwt_algorithms: tuple[str, ...] = setting(
        (),
        section="auth",
        doc="Algorithms identity tokens may use; empty: HS256 when only the secret is "
        'configured, else those the public keys fit. "none" is never accepted.',
    )
    jwt_name_claim: str = setting(
        "name",
        section="auth",
        doc="Claim holding the name shown to other players (cut to 32 characters; sub without it).",
        metavar="C",
    )
    jwt_role_claim: str = setting(
        "role",
        section="auth",
        doc="Claim holding the player's role (text or a list of texts).",
        metavar="C",
    )
    jwt_spectator_roles: tuple[str, ...] = setting(
        ("spectator",),
        section="auth",
        doc="The values of the role claim that make a spectator (who may watch but not play "
        "or take a seat).",
    )

    def __attrs_post_init__(self) -> None:
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


@attrs.frozen
class InterestSection:
    """``[interest]``: players receive the cells around them."""

    interest_management: bool = setting(
        True,
        section="interest",
        doc="True: players receive the cells around them (spectators everything); false: "
        "every player receives the whole world.",
        flags=("--interest-management", "--no-interest-management", "--no-interest"),
    )
    interest_cell_size: float = setting(
        100.0,
        section="interest",
        doc="Side of a square cell, world units.",
        check=POSITIVE,
        flags=("--interest-cell-size", "--cell-size"),
    )
    view_ring: int = setting(
        2,
        section="interest",
        doc="Cells seen around the player's own cell (Chebyshev distance).",
        check=AT_LEAST_ZERO,
    )
    inner_ring: int = setting(
        1,
        section="interest",
        doc="Cells within this ring get exact deltas every snapshot; the rest are refreshed "
        "in turn. Unless set, at most view_ring.",
        check=AT_LEAST_ZERO,
    )
    snapshot_budget_bytes: int = setting(
        1200,
        section="interest",
        doc="Far cells are refreshed while a snapshot stays under this size (at least one per "
        "snapshot).",
        check=POSITIVE,
    )

    def __attrs_post_init__(self) -> None:
        if self.inner_ring > self.view_ring:
            raise ValueError("inner_ring must not exceed view_ring")


@attrs.frozen
class ClusterSection:
    """``[cluster]``: the directory of rooms shared by nodes, and this node's place in it."""

    redis_url: str | None = setting(
        None,
        section="cluster",
        doc="Redis URL of the shared directory (redis://host:6379/0); none: in memory, one "
        "process.",
        secret=True,
        flags=("--redis-url", "--redis"),
        metavar="URL",
    )
    directory_prefix: str = setting(
        "gs:",
        section="cluster",
        doc="Keys in Redis start with this, so several clusters can share one Redis.",
    )
    node_id: str = setting(
        "",
        section="cluster",
        doc="This process's name in the directory; empty: host:port and a random suffix.",
        metavar="ID",
    )
    public_ws_url: str = setting(
        "",
        section="cluster",
        doc="The ws:// URL clients are sent to for rooms on this node; empty: the listening "
        "address. Behind a reverse proxy or NAT, set it to what clients can reach.",
        flags=("--public-ws-url", "--public-url"),
        metavar="URL",
    )
    public_http_url: str = setting(
        "",
        section="cluster",
        doc="The http:// URL of this node for clients; empty: the listening address.",
        metavar="URL",
    )
    node_capacity: int = setting(
        5000,
        section="cluster",
        doc="Players this node takes through matchmaking (rooms are placed on the emptiest node).",
        check=POSITIVE,
    )
    node_ttl_s: float = setting(
        10.0,
        section="cluster",
        doc="A node that has not renewed its registration for this long is considered dead; "
        "it renews every third of it.",
        check=POSITIVE,
        flags=("--node-ttl-s", "--node-ttl"),
    )
    node_probe_timeout_s: float = setting(
        1.0,
        section="cluster",
        doc='A match request may say that its client cannot reach a node ("unreachable"): this '
        "node then opens a TCP connection to that node's HTTP address, and removes the node "
        "from the directory (with its rooms) if none opens within this long.",
        check=POSITIVE,
    )
    node_probe_interval_s: float = setting(
        2.0,
        section="cluster",
        doc="A reported node that answered is not probed again for this long (reports "
        "meanwhile change nothing), so false reports cost it at most one connection per "
        "interval.",
        check=POSITIVE,
    )


@attrs.frozen
class MatchmakingSection:
    """``[matchmaking]``: match requests and booked seats."""

    seat_ttl_s: float = setting(
        30.0,
        section="matchmaking",
        doc="A seat booked by matchmaking is held this long for its player to arrive.",
        check=POSITIVE,
    )
    match_rate_per_s: float = setting(
        2.0,
        section="matchmaking",
        doc="Match requests (POST /api/match and FindMatch) one address may make per second "
        "on average; beyond it: HTTP 429 with Retry-After (FindMatch: a non-fatal Error, and "
        "4029 for a connection that asks again). 0: no per-address limit (a load test from "
        "one machine).",
        check=AT_LEAST_ZERO,
        flags=("--match-rate-per-s", "--match-rate-per-address"),
    )
    match_burst: int = setting(
        20,
        section="matchmaking",
        doc="The burst of match requests one address may save up.",
        check=POSITIVE,
    )
    match_identity_rate_per_s: float = setting(
        0.5,
        section="matchmaking",
        doc="Match requests one authenticated player (the identity matchmaking is told of) "
        "may make per second on average; 0: no limit.",
        check=AT_LEAST_ZERO,
    )
    match_identity_burst: int = setting(
        5,
        section="matchmaking",
        doc="The burst of match requests one authenticated player may save up.",
        check=POSITIVE,
    )
    max_unconfirmed_seats_per_address: int = setting(
        16,
        section="matchmaking",
        doc="Seats booked through this node from one address whose player has not arrived "
        "yet (HTTP 429 beyond; 0: no per-address bound). They lapse after seat_ttl_s.",
        check=AT_LEAST_ZERO,
    )
    max_unconfirmed_seats: int = setting(
        1024,
        section="matchmaking",
        doc="Seats booked through this node whose player has not arrived yet, in all (HTTP "
        "503 beyond).",
        check=POSITIVE,
    )


@attrs.frozen
class WebSection:
    """``[web]``: the HTTP side on the game's port."""

    web_root: str = setting(
        "",
        section="web",
        doc="Directory served at / (the browser client); empty serves no files, only the API. "
        "gameserver serve's default: the bundled browser client.",
        metavar="DIR",
    )
    max_http_connections: int = setting(
        128,
        section="web",
        doc="Plain HTTP connections open at once (health checks, metrics, pages); beyond: 503.",
        check=POSITIVE,
    )
    http_idle_timeout_s: float = setting(
        15.0,
        section="web",
        doc="An HTTP connection with no request in progress is closed after this long.",
        check=POSITIVE,
    )
    max_http_connections_per_address: int = setting(
        32,
        section="web",
        doc="Plain HTTP connections open at once from one address (address_key); beyond: 429. "
        "0 means no limit.",
        check=AT_LEAST_ZERO,
    )
    http_health_reserve: int = setting(
        4,
        section="web",
        doc="Connections beyond max_http_connections kept for GET /healthz alone (one request "
        "each, then closed), so a load balancer's health check gets through a full server.",
        check=AT_LEAST_ZERO,
    )
    http_request_timeout_s: float = setting(
        10.0,
        section="web",
        doc="One request (head and body) must arrive within this, counted from its first "
        "byte (from the connection's start for the first request); otherwise 408 and close.",
        check=POSITIVE,
    )


@attrs.frozen
class AdminSection:
    """``[admin]``: the operator routes and their listener."""

    admin_token: str | None = setting(
        None,
        section="admin",
        doc="Bearer token for the operator routes (/metrics, /monitor, /api/rooms, POST "
        "/api/announce; docs/operations.md). None: announcements are off, and the other "
        "operator routes are open to whoever reaches their listener.",
        secret=True,
        flags=(),
    )
    max_monitor_streams: int = setting(
        16,
        section="admin",
        doc="Live monitor streams (/monitor/events) open at once; beyond: 503.",
        check=POSITIVE,
    )
    monitor_interval_s: float = setting(
        1.0,
        section="admin",
        doc="How often each live monitor stream is updated.",
        check=POSITIVE,
    )
    admin_host: str = setting(
        "127.0.0.1", section="admin", doc="Address of the admin listener.", metavar="HOST"
    )
    admin_port: int | None = setting(
        None,
        section="admin",
        doc="With admin_port set the operator routes are served only on this second, "
        "plain-HTTP listener (keep it on loopback or a private network), and the game's port "
        "answers them with 404. None: no admin listener. 0 lets the OS pick a port (tests).",
        check=Bound(0, 65535, optional=True),
        metavar="PORT",
    )
    admin_failure_burst: int = setting(
        10,
        section="admin",
        doc="Wrong admin tokens allowed per address (address_key) at once; beyond them and "
        "admin_failure_rate_per_s: 429 with Retry-After, before the token is even compared.",
        check=POSITIVE,
    )
    admin_failure_rate_per_s: float = setting(
        0.1,
        section="admin",
        doc="Wrong admin tokens allowed per address per second after the burst.",
        check=POSITIVE,
    )


@attrs.frozen
class RecordingSection:
    """``[recording]``: match recordings."""

    record_all: bool = setting(
        False,
        section="recording",
        doc="Record every room, whatever its mode says (the CLI's --record DIR).",
    )
    recordings_dir: str = setting(
        "recordings", section="recording", doc="Where recordings are written.", metavar="DIR"
    )
    recording_buffer_bytes: int = setting(
        4 * 1024 * 1024,
        section="recording",
        doc="Unwritten recording kept in memory per room; beyond it ticks are dropped, "
        "counted, and marked in the recording as a gap.",
        check=POSITIVE,
    )
    recording_flush_interval_s: float = setting(
        0.5, section="recording", doc="How often a recording is written.", check=POSITIVE
    )
    recording_hash_every_ticks: int = setting(
        1,
        section="recording",
        doc="A state hash (and per-entity digests) is recorded every this many ticks.",
        check=POSITIVE,
    )
    recording_snapshot_every_s: float = setting(
        10.0,
        section="recording",
        doc="A snapshot of the whole game (its rules' saved state) is recorded every this "
        "many seconds, so a replay can start there (replay --from-tick) instead of at tick 0; "
        "0: none.",
        check=AT_LEAST_ZERO,
    )


@attrs.frozen
class StatsSection:
    """``[stats]``: the JSON stats document."""

    stats_file: str | None = setting(
        None,
        section="stats",
        doc="Write a JSON stats document to this path every stats_interval_s.",
        metavar="PATH",
    )
    stats_interval_s: float = setting(
        1.0,
        section="stats",
        doc="Seconds between two writes of the stats document.",
        check=POSITIVE,
    )
    stats_window_s: float = setting(
        60.0,
        section="stats",
        doc="Tick percentiles in the stats document cover this many seconds.",
        check=POSITIVE,
        flags=("--stats-window-s", "--stats-window"),
    )


@attrs.frozen
class ProcessSection:
    """``[process]``: shutdown and the garbage collector."""

    shutdown_timeout_s: float = setting(
        2.0,
        section="process",
        doc="Time allowed for close frames to reach every client.",
        check=POSITIVE,
    )
    gc_full_collection_every: int = setting(
        1000,
        section="process",
        doc="A full collection scans every object and stops the tick for tens of "
        "milliseconds at hundreds of players; with Python's defaults one runs every few "
        "seconds under load. A server process (gameserver serve, demo, replay --serve) "
        "freezes what it made at start-up and collects the oldest generation only after "
        "this many collections of the middle one (Python's default: 10). 0 leaves Python's "
        "settings alone.",
        check=AT_LEAST_ZERO,
    )


@attrs.frozen
class Config:
    """Every setting of a server, section by section; see ``About`` for how each is given
    from outside, and ``of`` and ``replace`` to give settings by name."""

    network: NetworkSection = attrs.field(factory=NetworkSection)
    admission: AdmissionSection = attrs.field(factory=AdmissionSection)
    limits: LimitsSection = attrs.field(factory=LimitsSection)
    auth: AuthSection = attrs.field(factory=AuthSection)
    rooms: RoomsSection = attrs.field(factory=RoomsSection)
    game: GameSection = attrs.field(factory=GameSection)
    modes: tuple[Mode, ...] = setting(
        section="modes",
        doc='Modes besides "default" (which the settings of this class make); joinable by '
        "name. In a config file: a [modes.NAME] table each.",
        factory=_example_modes,
        flags=(),
    )
    interest: InterestSection = attrs.field(factory=InterestSection)
    cluster: ClusterSection = attrs.field(factory=ClusterSection)
    matchmaking: MatchmakingSection = attrs.field(factory=MatchmakingSection)
    web: WebSection = attrs.field(factory=WebSection)
    admin: AdminSection = attrs.field(factory=AdminSection)
    recording: RecordingSection = attrs.field(factory=RecordingSection)
    stats: StatsSection = attrs.field(factory=StatsSection)
    process: ProcessSection = attrs.field(factory=ProcessSection)

    def __attrs_post_init__(self) -> None:
        if self.rooms.tick_rate % self.rooms.snapshot_divisor:
            raise ValueError("snapshot_divisor must divide tick_rate")
        names = [mode.name for mode in self.modes]
        if "default" in names or len(set(names)) != len(names):
            raise ValueError("mode names must be unique and not 'default'")

    @classmethod
    def of(cls, **settings: Any) -> Config:
        """A ``Config`` from settings by name, the rest defaults:
        ``Config.of(port=0, tick_rate=30)``; ``TypeError`` names an unknown one."""
        return cls(**_by_section(settings, None))

    def replace(self, **settings: Any) -> Config:
        """This ``Config`` with settings by name changed: ``config.replace(port=0)``."""
        return attrs.evolve(self, **_by_section(settings, self))

    def get(self, name: str) -> Any:
        """A setting's value by its name: ``config.get("port")``."""
        where = _section_of(name)
        return getattr(self if where is None else getattr(self, where), name)


def _sections() -> dict[str, type[Any]]:
    """``Config``'s sections: the field that holds each, and its class (its factory)."""
    found: dict[str, type[Any]] = {}
    for field in attrs.fields(Config):
        factory = getattr(field.default, "factory", None)
        if isinstance(factory, type) and attrs.has(factory):
            found[field.name] = factory
    return found


SECTION_CLASSES = _sections()


def setting_fields() -> tuple[attrs.Attribute[Any], ...]:
    """Every setting, section by section (``modes`` is one of ``Config``'s own)."""
    found: list[attrs.Attribute[Any]] = []
    for field in attrs.fields(Config):
        cls = SECTION_CLASSES.get(field.name)
        found += attrs.fields(cls) if cls is not None else [field]
    return tuple(found)


def _tables() -> dict[str, dict[str, attrs.Attribute[Any]]]:
    tables: dict[str, dict[str, attrs.Attribute[Any]]] = {name: {} for name in SECTIONS}
    for field in setting_fields():
        if any(field.name in fields for fields in tables.values()):
            raise TypeError(f"setting {field.name} is declared in two sections")
        tables[about(field).section][field.name] = field
    return tables


# The config file's tables (``About.section``), each with its settings by name, in the
# order they are declared: what the config file, the flags and ``gameserver config`` walk.
TABLES = _tables()

# Setting name -> its table.
TABLE_OF = {name: table for table, fields in TABLES.items() for name in fields}

# Setting name -> the ``Config`` field of its section (None: a field of ``Config`` itself).
SECTION_OF = {name: table if table in SECTION_CLASSES else None for name, table in TABLE_OF.items()}


def _section_of(name: str) -> str | None:
    if name not in SECTION_OF:
        close = difflib.get_close_matches(name, list(SECTION_OF), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise TypeError(f"Config has no setting {name!r}{hint}")
    return SECTION_OF[name]


def _by_section(settings: dict[str, Any], base: Config | None) -> dict[str, Any]:
    """Settings by name as ``Config``'s fields: a section each, made or changed."""
    grouped: dict[str, dict[str, Any]] = {}
    fields: dict[str, Any] = {}
    for name, value in settings.items():
        where = _section_of(name)
        if where is None:
            fields[name] = value
        else:
            grouped.setdefault(where, {})[name] = value
    for where, values in grouped.items():
        if base is None:
            fields[where] = SECTION_CLASSES[where](**values)
        else:
            fields[where] = attrs.evolve(getattr(base, where), **values)
    return fields
