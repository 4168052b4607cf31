"""This server's own tokens (join and seat tokens): JWTs signed with the shared secret.

Theory of operation
-------------------
Every token the server reads is a JWT (RFC 7519). Two kinds exist:

* **Identity tokens** say who a player is. The game's identity provider issues them
  (its account service, Firebase, Auth0, Cognito, a backend speaking for Steam);
  ``gameserver token`` mints development ones. ``gameserver/auth.py`` verifies them
  against the provider's keys. They are not bound to a room and may be presented
  again until they expire.
* **Server tokens** are signed by this server with the shared secret (HS256,
  ``iss`` and ``aud`` both ``"gameserver"``): a *join token* (``kind: "join"``) lets
  its holder into one room, once; a *seat token* (``kind: "seat"``) is what
  matchmaking hands out for a booked seat, bound to the ``sub`` of the identity that
  asked for it, and is accepted only together with that identity. This module
  issues and verifies server tokens.

Claims of a server token::

    iss "gameserver"   aud "gameserver"   kind "join" | "seat"
    sub   the account id (1..128 printable characters)
    name  the name shown to other players (1..32 printable characters)
    role  "player" | "spectator"
    room  the room id (1..64 printable characters)
    iat, exp   Unix seconds; refused from ``exp`` on (less the leeway, if any)
    jti   32 lowercase hex digits naming this one token (a seat token: the seat id)

Untrusted text passes these gates, cheapest first; the first failure raises
``TokenError`` (401 unless said otherwise), and nothing else leaves ``verify_token``:
size (``MAX_TOKEN_CHARS``); JWT shape; the algorithm (HS256 only: a token naming any
other, ``none`` included, is refused before any key is used); the signature, checked
by PyJWT in constant time before the claims are read; issuer and audience; the
claims' types and ranges; expiry and not-before; then the expected room and role
(403). Times are the caller's (``now_s``): the module reads no clock.

A join or seat token verifies until it expires, so ``ReplayGuard`` remembers the
``jti`` of each accepted one until then and refuses a second use (403). Its memory is
bounded: holding ``max_entries`` unexpired ids it refuses new tokens with 503 (fail
closed: accepting would let a replay through unnoticed) until one expires.

Why JWTs rather than a format of our own: identity providers speak JWT, so a server
that reads JWTs for identities already has every piece a compact signed token needs;
a second format for the server's own tokens would be a second parser to trust.
"""

from __future__ import annotations

import heapq
import math
import os
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

import attrs
import jwt

from gameserver.errors import Refusal
from gameserver.protocol import NAME_MAX_CHARS, Role

__all__ = [
    "MAX_TOKEN_CHARS",
    "MIN_SECRET_BYTES",
    "SECRET_ENV_VAR",
    "SERVER_AUDIENCE",
    "SERVER_ISSUER",
    "JoinClaims",
    "ReplayGuard",
    "TokenError",
    "issue_token",
    "load_secret",
    "verify_token",
]

SECRET_ENV_VAR = "GAMESERVER_SECRET"
MIN_SECRET_BYTES = 32  # RFC 7518 section 3.2: an HS256 key has at least 256 bits
SERVER_ISSUER = "gameserver"
SERVER_AUDIENCE = "gameserver"
SERVER_ALGORITHM = "HS256"
SUBJECT_MAX_CHARS = 128
ROOM_MAX_CHARS = 64
NONCE_HEX_CHARS = 32
EXPIRES_MAX = 2**53 - 1  # fits a JavaScript number exactly
# Identity providers' tokens run to one or two KiB with a certificate chain in the header;
# 4096 bounds what reaches the JSON and signature code, and fits a request line.
MAX_TOKEN_CHARS = 4096
DEFAULT_REPLAY_ENTRIES = 100_000

KIND_IDENTITY = "identity"  # from an identity provider (gameserver/auth.py)
KIND_JOIN = "join"  # a server token for one room
KIND_SEAT = "seat"  # matchmaking's seat, bound to an identity
KIND_RESUME = "resume"  # admitted with a resume token at the handshake (no JWT)
_SERVER_KINDS = (KIND_JOIN, KIND_SEAT)
_ROLE_NAMES = {Role.PLAYER: "player", Role.SPECTATOR: "spectator"}
_ROLES_BY_NAME = {name: role for role, name in _ROLE_NAMES.items()}
_HEX = re.compile(r"[0-9a-f]*")


class TokenError(Refusal):
    """A token was refused; answer with HTTP ``status``.

    ``status`` is 401 (missing, malformed, bad signature, wrong issuer or audience,
    expired, not yet valid, unknown key), 403 (wrong role, wrong room, already used,
    someone else's seat) or 503 (``ReplayGuard`` full, keys not loaded yet).
    ``reason`` is safe to send to the client: it never contains a key or a signature.
    """


@attrs.frozen
class JoinClaims:
    """What a verified credential says about the connection that presented it.

    ``room`` None: an identity, not bound to a room (the connection picks one, or asks
    matchmaking). ``nonce``: the ``jti`` of a single-use token ("" otherwise).
    ``roles``: the identity provider's role claim as given (text values), for the game.
    ``resume``: the resume token that admitted the connection (kind ``resume``).
    """

    subject: str
    name: str
    role: Role
    room: str | None
    expires_s: float
    nonce: str = ""
    kind: str = KIND_JOIN
    roles: tuple[str, ...] = ()
    resume: str = ""

    def allows(self, role: Role) -> bool:
        """Whether a Join as ``role`` fits: an identity allowed to play may also watch."""
        if role is self.role:
            return True
        return self.kind == KIND_IDENTITY and self.role is Role.PLAYER


# -- shared checks


def text_ok(value: object, max_chars: int) -> bool:
    return type(value) is str and 1 <= len(value) <= max_chars and value.isprintable()


def _check_text(value: str, max_chars: int, what: str) -> None:
    if not text_ok(value, max_chars):
        raise ValueError(f"{what} must be 1..{max_chars} printable characters, got {value!r}")


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the token secret must be at least {MIN_SECRET_BYTES} bytes")


def check_size(token: str | None) -> str:
    """The token, if present and small enough to parse; else ``TokenError``."""
    if token is None or token == "":
        raise TokenError(401, "no token: connect with ?token=...")
    if type(token) is not str:
        raise TokenError(401, "token must be text")
    if len(token) > MAX_TOKEN_CHARS:
        raise TokenError(
            401, f"token of {len(token)} characters exceeds the limit of {MAX_TOKEN_CHARS}"
        )
    return token


def check_times(payload: Mapping[str, Any], now_s: float, leeway_s: float) -> float:
    """Expiry (required), not-before and issued-at, with ``leeway_s`` of clock skew."""
    expires_s = payload.get("exp")
    if not _is_number(expires_s) or not 0 <= expires_s <= EXPIRES_MAX:
        raise TokenError(401, f"token expiry 'exp' must be a number in [0, {EXPIRES_MAX}]")
    if now_s >= expires_s + leeway_s:
        raise TokenError(401, f"token expired {now_s - expires_s:.0f} s ago")
    for claim in ("nbf", "iat"):
        value = payload.get(claim)
        if value is None:
            continue
        if not _is_number(value):
            raise TokenError(401, f"token '{claim}' must be a number")
        if value > now_s + leeway_s:
            raise TokenError(
                401, f"token is not valid yet ('{claim}' is {value - now_s:.0f} s ahead)"
            )
    return float(expires_s)


def _is_number(value: object) -> TypeGuard[float]:
    """A JSON number (not a bool), finite."""
    return type(value) in (int, float) and math.isfinite(value)  # type: ignore[arg-type]


def jwt_error(error: jwt.PyJWTError) -> TokenError:
    """A PyJWT failure as a refusal whose reason names what was wrong, not the key."""
    if isinstance(error, jwt.InvalidSignatureError):
        return TokenError(401, "token signature does not match")
    if isinstance(error, jwt.InvalidAlgorithmError):
        return TokenError(401, "token algorithm is not accepted")
    if isinstance(error, jwt.InvalidIssuerError):
        return TokenError(401, "token issuer is not accepted")
    if isinstance(error, jwt.InvalidAudienceError):
        return TokenError(401, "token audience is not accepted")
    if isinstance(error, jwt.MissingRequiredClaimError):
        return TokenError(401, f"token has no '{error.claim}' claim")
    if isinstance(error, jwt.DecodeError):
        return TokenError(401, "token is not a well-formed JWT")
    return TokenError(401, f"token refused: {type(error).__name__}")


# -- server tokens


def issue_token(
    secret: bytes,
    *,
    subject: str,
    name: str,
    role: Role,
    room: str,
    ttl_s: float,
    now_s: float,
    nonce: str | None = None,
    kind: str = KIND_JOIN,
) -> str:
    """Sign a join (or seat) token valid from ``now_s`` until ``ceil(now_s + ttl_s)``.

    ``nonce`` (the ``jti``) defaults to 16 random bytes in hex; matchmaking passes the
    seat id. Bad arguments (a short secret, a name too long, ``ttl_s <= 0``, ...)
    raise ``ValueError``: they are the caller's bug, not a refused token.
    """
    _check_secret(secret)
    _check_text(subject, SUBJECT_MAX_CHARS, "subject")
    _check_text(name, NAME_MAX_CHARS, "name")
    _check_text(room, ROOM_MAX_CHARS, "room")
    role = Role(role)
    if kind not in _SERVER_KINDS:
        raise ValueError(f"kind must be one of {_SERVER_KINDS}, got {kind!r}")
    if not math.isfinite(ttl_s) or ttl_s <= 0:
        raise ValueError(f"ttl_s must be a finite number > 0, got {ttl_s!r}")
    if not math.isfinite(now_s) or now_s < 0:
        raise ValueError(f"now_s must be finite and >= 0, got {now_s!r}")
    expires_s = math.ceil(now_s + ttl_s)
    if expires_s > EXPIRES_MAX:
        raise ValueError(f"expiry {expires_s} is beyond {EXPIRES_MAX}")
    if nonce is None:
        nonce = os.urandom(NONCE_HEX_CHARS // 2).hex()
    elif len(nonce) != NONCE_HEX_CHARS or not _HEX.fullmatch(nonce):
        raise ValueError(f"nonce must be {NONCE_HEX_CHARS} lowercase hex digits")
    payload = {
        "iss": SERVER_ISSUER,
        "aud": SERVER_AUDIENCE,
        "kind": kind,
        "sub": subject,
        "name": name,
        "role": _ROLE_NAMES[role],
        "room": room,
        "iat": math.floor(now_s),
        "exp": expires_s,
        "jti": nonce,
    }
    return jwt.encode(payload, secret, algorithm=SERVER_ALGORITHM)


def is_server_token(token: str) -> bool:
    """Whether an (unverified) JWT says this server issued it: it then goes to ``verify_token``.

    Reading the issuer before the signature only chooses which keys check it; each
    path enforces its own algorithms, keys, issuer and audience.
    """
    try:
        payload = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    return isinstance(payload, dict) and payload.get("iss") == SERVER_ISSUER


def verify_token(
    secret: bytes,
    token: str | None,
    *,
    now_s: float,
    expected_role: Role | None = None,
    room: str | None = None,
    kind: str = KIND_JOIN,
    leeway_s: float = 0.0,
) -> JoinClaims:
    """Check an untrusted server token of ``kind``; return its claims or raise ``TokenError``.

    ``expected_role`` and ``room``, when given, must equal the token's (403 otherwise).
    The ``jti`` is not checked here: pass the claims to ``ReplayGuard.check_and_remember``
    once accepted. A secret shorter than 32 bytes is a configuration error: ``ValueError``.
    """
    _check_secret(secret)
    token = check_size(token)
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[SERVER_ALGORITHM],
            issuer=SERVER_ISSUER,
            audience=SERVER_AUDIENCE,
            # Times are checked below against the caller's clock, with the caller's leeway.
            options={
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "require": ["iss", "aud", "exp", "sub", "jti"],
            },
        )
    except jwt.PyJWTError as error:
        raise jwt_error(error) from None
    claims = _server_claims(payload, now_s, leeway_s)
    if claims.kind != kind:
        if claims.kind == KIND_SEAT:
            raise TokenError(
                401, "a seat token goes in ?seat=, with your identity token in ?token="
            )
        raise TokenError(401, f"a {claims.kind} token is not a {kind} token")
    if expected_role is not None and claims.role != expected_role:
        raise TokenError(
            403,
            f"token is for a {_ROLE_NAMES[claims.role]}, not a {_ROLE_NAMES[Role(expected_role)]}",
        )
    if room is not None and claims.room != room:
        raise TokenError(403, f"token is for room {claims.room!r}, not {room!r}")
    return claims


def _server_claims(payload: dict[str, Any], now_s: float, leeway_s: float) -> JoinClaims:
    subject, name, role = payload.get("sub"), payload.get("name"), payload.get("role")
    room, nonce, kind = payload.get("room"), payload.get("jti"), payload.get("kind")
    if kind not in _SERVER_KINDS:
        raise TokenError(401, "token 'kind' must be 'join' or 'seat'")
    if not text_ok(subject, SUBJECT_MAX_CHARS):
        raise TokenError(401, f"token subject must be 1..{SUBJECT_MAX_CHARS} printable characters")
    if not text_ok(name, NAME_MAX_CHARS):
        raise TokenError(401, f"token name must be 1..{NAME_MAX_CHARS} printable characters")
    if role not in _ROLES_BY_NAME:
        raise TokenError(401, "token role must be 'player' or 'spectator'")
    if not text_ok(room, ROOM_MAX_CHARS):
        raise TokenError(401, f"token room must be 1..{ROOM_MAX_CHARS} printable characters")
    if type(nonce) is not str or len(nonce) != NONCE_HEX_CHARS or not _HEX.fullmatch(nonce):
        raise TokenError(401, f"token 'jti' must be {NONCE_HEX_CHARS} lowercase hex digits")
    expires_s = check_times(payload, now_s, leeway_s)
    return JoinClaims(
        subject=subject,  # type: ignore[arg-type]  # checked by text_ok
        name=name,  # type: ignore[arg-type]
        role=_ROLES_BY_NAME[role],
        room=room,
        expires_s=expires_s,
        nonce=nonce,
        kind=kind,
    )


class ReplayGuard:
    """Remembers the ``jti`` of accepted tokens until they expire; refuses a second use.

    Memory is bounded by ``max_entries`` ids. Expired ids are forgotten first (each
    check drops them, oldest expiry first, in O(log n) apiece); when ``max_entries``
    unexpired ids remain, new tokens are refused with 503 until the earliest one
    expires. Replays are never let through to make room. Not thread-safe; the server
    calls it from one trio task at a time.
    """

    def __init__(self, max_entries: int = DEFAULT_REPLAY_ENTRIES) -> None:
        if max_entries <= 0:
            raise ValueError(f"max_entries must be > 0, got {max_entries!r}")
        self.max_entries = max_entries
        self._expiry: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []  # (expires_s, jti), one per remembered id

    def __len__(self) -> int:
        return len(self._expiry)

    def forget_expired(self, now_s: float) -> None:
        """Drop every id whose token has expired at ``now_s``."""
        heap = self._heap
        while heap and heap[0][0] <= now_s:
            _, nonce = heapq.heappop(heap)
            del self._expiry[nonce]

    def check_and_remember(self, claims: JoinClaims, now_s: float, leeway_s: float = 0.0) -> None:
        """Accept ``claims`` once: raise ``TokenError`` if seen (403) or the guard is full (503)."""
        self.forget_expired(now_s)
        # Remembered as long as verify_token would accept the token (leeway included).
        expires_s = claims.expires_s + leeway_s
        if now_s >= expires_s:
            raise TokenError(401, f"token expired {now_s - claims.expires_s:.0f} s ago")
        if claims.nonce in self._expiry:
            raise TokenError(403, "token already used")
        if len(self._expiry) >= self.max_entries:
            wait_s = self._heap[0][0] - now_s
            raise TokenError(
                503, f"too many live tokens to remember; try again in {math.ceil(wait_s)} s"
            )
        self._expiry[claims.nonce] = expires_s
        heapq.heappush(self._heap, (expires_s, claims.nonce))


def load_secret(value: str | None, env: Mapping[str, str]) -> bytes | None:
    """The token secret: ``value`` if not None, else ``env["GAMESERVER_SECRET"]``, else None.

    The secret is the UTF-8 encoding of the text, used as is (no trimming, no
    hex or base64 decoding). A secret shorter than 32 bytes, the empty string
    included, raises ``ValueError``: a server meant to check tokens must not
    start with a guessable one. None means tokens are not configured.
    """
    source = "the configured secret"
    if value is None:
        value = env.get(SECRET_ENV_VAR)
        source = SECRET_ENV_VAR
    if value is None:
        return None
    secret = value.encode("utf-8")
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(
            f"{source} is {len(secret)} bytes; a token secret needs at least {MIN_SECRET_BYTES} "
            "(make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return secret
