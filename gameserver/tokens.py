"""Signed join tokens: who may join, as what, where, until when. Pure: no I/O, no clock.

Theory of operation
-------------------
Whoever runs the game site (a lobby, a matchmaker, ``gameserver token``) and the
server share a secret of at least 16 bytes (``load_secret``: a configured value,
else the environment variable ``GAMESERVER_SECRET``). The issuer signs a small set
of claims; the client puts the resulting token in the upgrade URL
(``/ws?token=...``); the server verifies it before accepting the upgrade and
refuses with the HTTP status carried by ``TokenError.status``.

Format (version 1)::

    token   = b64url(payload) "." b64url(HMAC-SHA256(secret, payload))
    payload = CBOR array [1, subject, name, role, room, expires_s, nonce]

``b64url`` is RFC 4648 section 5 (``A-Z a-z 0-9 - _``) without ``=`` padding, so a
token goes into a query string unescaped. In the payload, ``subject`` is text of
1..64 printable characters (the account id), ``name`` 1..32 printable characters
(shown to other players), ``role`` the protocol's ``Role`` integer (0 player,
1 spectator, as in the Join message), ``room`` 1..64 printable characters,
``expires_s`` an integer of Unix seconds (the token is refused from that second
on), and ``nonce`` a byte string of 16 random bytes that names this one token.

Untrusted text passes these gates, cheapest first; the first failure raises
``TokenError``, and nothing else leaves ``verify_token``:

1. size (``MAX_TOKEN_CHARS``) and shape (ASCII, two strict base64url parts) -> 401;
2. the signature, compared in constant time, *before* any CBOR is parsed, so
   unauthenticated bytes never reach the decoder -> 401;
3. strict CBOR (no tags, no indefinite lengths, flat, one item in its shortest
   encoding) and field types and ranges -> 401;
4. expiry -> 401; expected role, expected room -> 403.

A token verifies until it expires, so ``ReplayGuard`` remembers the nonce of each
accepted token until then and refuses a second use (403). Its memory is bounded:
when it holds ``max_entries`` unexpired nonces it refuses new tokens with 503
(fail closed: accepting would let a replay through unnoticed) until one expires.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import hmac
import math
import os
import re
from collections.abc import Mapping
from typing import Any

import attrs
import cbor2

from gameserver.protocol.codec import loads_strict
from gameserver.protocol.errors import GameServerError, ProtocolError
from gameserver.protocol.messages import NAME_MAX_CHARS, Role

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "MAX_TOKEN_CHARS",
    "MIN_SECRET_BYTES",
    "NONCE_BYTES",
    "SECRET_ENV_VAR",
    "TOKEN_VERSION",
    "JoinClaims",
    "ReplayGuard",
    "TokenError",
    "issue_token",
    "load_secret",
    "verify_token",
]

TOKEN_VERSION = 1
SECRET_ENV_VAR = "GAMESERVER_SECRET"
MIN_SECRET_BYTES = 16
NONCE_BYTES = 16
SUBJECT_MAX_CHARS = 64
ROOM_MAX_CHARS = 64
EXPIRES_MAX = 2**53 - 1  # fits a JavaScript number exactly
MAX_PAYLOAD_BYTES = 1024
_SIGNATURE_BYTES = hashlib.sha256().digest_size
_PAYLOAD_MAX_CHARS = -(-MAX_PAYLOAD_BYTES * 4 // 3)  # unpadded base64 of MAX_PAYLOAD_BYTES
_SIGNATURE_CHARS = -(-_SIGNATURE_BYTES * 4 // 3)
MAX_TOKEN_CHARS = _PAYLOAD_MAX_CHARS + 1 + _SIGNATURE_CHARS
DEFAULT_REPLAY_ENTRIES = 100_000

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_ROLE_NAMES = {Role.PLAYER: "player", Role.SPECTATOR: "spectator"}


class TokenError(GameServerError):
    """A token was refused; answer the upgrade request with HTTP ``status``.

    ``status`` is 401 (missing, malformed, bad signature, expired), 403 (wrong
    role, wrong room, already used) or 503 (``ReplayGuard`` full). ``reason`` is
    safe to send to the client: it never contains the secret or a signature.
    """

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.reason = reason
        self.status = status


@attrs.frozen
class JoinClaims:
    """What a valid token says."""

    subject: str
    name: str
    role: Role
    room: str
    expires_s: int
    nonce: bytes


# -- base64url, strict


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str, what: str) -> bytes:
    """Decode unpadded base64url; refuse other characters and non-canonical spellings."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise TokenError(f"token {what} is not unpadded base64url", 401)
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):  # the regex and length rule it out
        raise TokenError(f"token {what} is not unpadded base64url", 401) from None
    if _b64encode(data) != text:  # unused low bits set: a second spelling of the same bytes
        raise TokenError(f"token {what} is not canonical base64url", 401)
    return data


# -- CBOR, strict


def _loads_payload(data: bytes) -> Any:
    try:
        return loads_strict(data, max_depth=1)
    except ProtocolError as error:
        raise TokenError(f"token payload: {error.reason}", 401) from None


# -- claims


def _text_ok(value: object, max_chars: int) -> bool:
    return type(value) is str and 1 <= len(value) <= max_chars and value.isprintable()


def _check_text(value: str, max_chars: int, what: str) -> None:
    if not _text_ok(value, max_chars):
        raise ValueError(f"{what} must be 1..{max_chars} printable characters, got {value!r}")


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the token secret must be at least {MIN_SECRET_BYTES} bytes")


def _sign(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()


def _claims_from_payload(item: Any) -> JoinClaims:
    if type(item) is not list or not item or type(item[0]) is not int:
        raise TokenError("token payload is not a versioned array", 401)
    if item[0] != TOKEN_VERSION:
        raise TokenError(f"token version {item[0]} is not supported (expected 1)", 401)
    if len(item) != 7:
        raise TokenError(f"token payload must have 7 items, got {len(item)}", 401)
    _, subject, name, role, room, expires_s, nonce = item
    if not _text_ok(subject, SUBJECT_MAX_CHARS):
        raise TokenError(f"token subject must be 1..{SUBJECT_MAX_CHARS} printable characters", 401)
    if not _text_ok(name, NAME_MAX_CHARS):
        raise TokenError(f"token name must be 1..{NAME_MAX_CHARS} printable characters", 401)
    if type(role) is not int or role not in _ROLE_NAMES:
        raise TokenError("token role must be 0 (player) or 1 (spectator)", 401)
    if not _text_ok(room, ROOM_MAX_CHARS):
        raise TokenError(f"token room must be 1..{ROOM_MAX_CHARS} printable characters", 401)
    if type(expires_s) is not int or not 0 <= expires_s <= EXPIRES_MAX:
        raise TokenError(f"token expiry must be an integer in [0, {EXPIRES_MAX}]", 401)
    if type(nonce) is not bytes or len(nonce) != NONCE_BYTES:
        raise TokenError(f"token nonce must be {NONCE_BYTES} bytes", 401)
    return JoinClaims(subject, name, Role(role), room, expires_s, nonce)


def issue_token(
    secret: bytes,
    *,
    subject: str,
    name: str,
    role: Role,
    room: str,
    ttl_s: float,
    now_s: float,
    nonce: bytes | None = None,
) -> str:
    """Sign a token valid from ``now_s`` until ``ceil(now_s + ttl_s)`` (Unix seconds).

    ``nonce`` defaults to 16 bytes from ``os.urandom``; pass one only in tests.
    Bad arguments (a short secret, a name too long, ``ttl_s <= 0``, ...) raise
    ``ValueError``: they are the caller's bug, not a refused token.
    """
    _check_secret(secret)
    _check_text(subject, SUBJECT_MAX_CHARS, "subject")
    _check_text(name, NAME_MAX_CHARS, "name")
    _check_text(room, ROOM_MAX_CHARS, "room")
    role = Role(role)
    if not math.isfinite(ttl_s) or ttl_s <= 0:
        raise ValueError(f"ttl_s must be a finite number > 0, got {ttl_s!r}")
    if not math.isfinite(now_s):
        raise ValueError(f"now_s must be finite, got {now_s!r}")
    expires_s = math.ceil(now_s + ttl_s)
    if not 0 <= expires_s <= EXPIRES_MAX:
        raise ValueError(f"expiry {expires_s} is outside [0, {EXPIRES_MAX}]")
    if nonce is None:
        nonce = os.urandom(NONCE_BYTES)
    elif type(nonce) is not bytes or len(nonce) != NONCE_BYTES:
        raise ValueError(f"nonce must be {NONCE_BYTES} bytes")
    payload = cbor2.dumps([TOKEN_VERSION, subject, name, int(role), room, expires_s, nonce])
    return f"{_b64encode(payload)}.{_b64encode(_sign(secret, payload))}"


def verify_token(
    secret: bytes,
    token: str | None,
    *,
    now_s: float,
    expected_role: Role | None = None,
    room: str | None = None,
) -> JoinClaims:
    """Check an untrusted token; return its claims or raise ``TokenError``.

    ``token`` None or empty means "missing" (401). ``expected_role`` and ``room``,
    when given, must equal the token's (403 otherwise). The nonce is not checked
    here: pass the claims to ``ReplayGuard.check_and_remember`` once accepted.
    A secret shorter than 16 bytes is a configuration error: ``ValueError``.
    """
    _check_secret(secret)
    if token is None or token == "":
        raise TokenError("no token: connect with ?token=...", 401)
    if type(token) is not str:
        raise TokenError("token must be text", 401)
    if len(token) > MAX_TOKEN_CHARS:
        raise TokenError(
            f"token of {len(token)} characters exceeds the limit of {MAX_TOKEN_CHARS}", 401
        )
    parts = token.split(".")
    if len(parts) != 2:
        raise TokenError("token must be two base64url parts joined by '.'", 401)
    payload = _b64decode(parts[0], "payload")
    signature = _b64decode(parts[1], "signature")
    if len(payload) > MAX_PAYLOAD_BYTES:  # reachable with a short signature part
        raise TokenError(f"token payload exceeds {MAX_PAYLOAD_BYTES} bytes", 401)
    if not hmac.compare_digest(_sign(secret, payload), signature):
        raise TokenError("token signature does not match", 401)
    claims = _claims_from_payload(_loads_payload(payload))
    if now_s >= claims.expires_s:
        raise TokenError(f"token expired {now_s - claims.expires_s:.0f} s ago", 401)
    if expected_role is not None and claims.role != expected_role:
        raise TokenError(
            f"token is for a {_ROLE_NAMES[claims.role]}, not a {_ROLE_NAMES[Role(expected_role)]}",
            403,
        )
    if room is not None and claims.room != room:
        raise TokenError(f"token is for room {claims.room!r}, not {room!r}", 403)
    return claims


class ReplayGuard:
    """Remembers the nonces of accepted tokens until they expire; refuses a second use.

    Memory is bounded by ``max_entries`` nonces. Expired nonces are forgotten
    first (each check drops them, oldest expiry first, in O(log n) apiece); when
    ``max_entries`` unexpired nonces remain, new tokens are refused with 503
    until the earliest one expires. Replays are never let through to make room.
    Not thread-safe; the server calls it from one trio task at a time.
    """

    def __init__(self, max_entries: int = DEFAULT_REPLAY_ENTRIES) -> None:
        if max_entries <= 0:
            raise ValueError(f"max_entries must be > 0, got {max_entries!r}")
        self.max_entries = max_entries
        self._expiry: dict[bytes, int] = {}
        self._heap: list[tuple[int, bytes]] = []  # (expires_s, nonce), one per remembered nonce

    def __len__(self) -> int:
        return len(self._expiry)

    def forget_expired(self, now_s: float) -> None:
        """Drop every nonce whose token has expired at ``now_s``."""
        heap = self._heap
        while heap and heap[0][0] <= now_s:
            _, nonce = heapq.heappop(heap)
            del self._expiry[nonce]

    def check_and_remember(self, claims: JoinClaims, now_s: float) -> None:
        """Accept ``claims`` once: raise ``TokenError`` if seen (403) or the guard is full (503)."""
        self.forget_expired(now_s)
        if now_s >= claims.expires_s:  # verify_token refuses these; remembering them is useless
            raise TokenError(f"token expired {now_s - claims.expires_s:.0f} s ago", 401)
        if claims.nonce in self._expiry:
            raise TokenError("token already used", 403)
        if len(self._expiry) >= self.max_entries:
            wait_s = self._heap[0][0] - now_s
            raise TokenError(
                f"too many live tokens to remember; try again in {math.ceil(wait_s)} s", 503
            )
        self._expiry[claims.nonce] = claims.expires_s
        heapq.heappush(self._heap, (claims.expires_s, claims.nonce))


def load_secret(value: str | None, env: Mapping[str, str]) -> bytes | None:
    """The token secret: ``value`` if not None, else ``env["GAMESERVER_SECRET"]``, else None.

    The secret is the UTF-8 encoding of the text, used as is (no trimming, no
    hex or base64 decoding). A secret shorter than 16 bytes, the empty string
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
