"""Who a player is: identity tokens (JWTs) from the game's identity provider, verified.

Theory of operation
-------------------
An ``Authenticator`` holds the keys it trusts and the rules a token must meet. It is
built once at start-up from the configuration (``AuthSettings``); a key file that
cannot be read or parsed fails the start, with the reason.

Keys, each with the algorithms it may verify (a key never verifies another family's
algorithm, so an RSA public key can never be used as an HMAC secret, nor an HMAC
secret for an RS256 token):

* the shared secret (``join_secret``): HS256; it verifies identity tokens only when
  no public key is configured or ``jwt_algorithms`` names HS256;
* a PEM public key file: RSA (RS256/384/512, PS256/384/512), EC (ES256 on P-256,
  ES384 on P-384, ES512 on P-521) or Ed25519/Ed448 (EdDSA);
* a JWKS document (``jwks``: a file, or an http(s) URL ``JwksSource`` fetches and
  refreshes off the tick): keys by ``kid``, which is how providers rotate keys.
  Symmetric (``oct``) keys in a JWKS are ignored: a published key set is public.

A token is checked in this order, the first failure a ``TokenError`` (401): size;
the header's ``alg`` must be one ``jwt_algorithms`` allows (``none`` never is); the
key: by ``kid`` when the header names one ("unknown key id" if no key has it), else
every key whose algorithms include ``alg`` ("no key for algorithm"); the signature
(PyJWT, constant time); issuer and audience when configured; ``exp`` (required),
``nbf`` and ``iat`` against the clock with ``jwt_leeway_s`` of skew; ``sub``
(1..128 printable characters) is the player's identity. The name shown is the
``jwt_name_claim`` claim, cut to 32 characters, or ``sub`` when that is absent or
unprintable; the ``jwt_role_claim`` claim (text or a list of texts) makes a spectator
when one of its values is in ``jwt_spectator_roles``, and reaches the game as
``JoinClaims.roles``.

Tokens whose (unverified) issuer is ``"gameserver"`` are this server's own join and
seat tokens: ``verify`` sends them to ``gameserver.tokens.verify_token`` (HS256 with
the secret only).
"""

from __future__ import annotations

import json
import logging
import math
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import jwt
import trio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from gameserver.config import Config
from gameserver.protocol import NAME_MAX_CHARS, Role
from gameserver.tokens import (
    KIND_IDENTITY,
    KIND_JOIN,
    KIND_SEAT,
    MIN_SECRET_BYTES,
    SUBJECT_MAX_CHARS,
    JoinClaims,
    TokenError,
    check_size,
    check_times,
    is_server_token,
    jwt_error,
    text_ok,
    verify_token,
)

__all__ = [
    "AuthSettings",
    "Authenticator",
    "JwksSource",
    "TrustedKey",
    "issue_identity_token",
]

log = logging.getLogger(__name__)

HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
MAX_JWKS_BYTES = 256 * 1024


@attrs.frozen
class AuthSettings:
    """The ``-- Authentication`` fields of ``Config`` (documented there)."""

    secret: bytes
    public_key_file: str | None = None
    jwks: str | None = None
    issuer: str | None = None
    audience: str | None = None
    leeway_s: float = 30.0
    algorithms: tuple[str, ...] = ()
    name_claim: str = "name"
    role_claim: str = "role"
    spectator_roles: tuple[str, ...] = ("spectator",)
    jwks_refresh_s: float = 300.0
    jwks_timeout_s: float = 5.0


@attrs.frozen
class TrustedKey:
    kid: str | None
    algorithms: frozenset[str]
    key: Any  # bytes (HMAC) or a cryptography public key


def algorithms_for(public_key: Any) -> frozenset[str]:
    """The JWS algorithms a public key may verify; empty for a key type we do not take."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return RSA_ALGORITHMS
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        algorithm = EC_ALGORITHMS.get(public_key.curve.name)
        return frozenset({algorithm}) if algorithm else frozenset()
    if isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return frozenset({"EdDSA"})
    return frozenset()


def load_pem_key(path: str) -> TrustedKey:
    """The public key in a PEM file; ``ValueError`` naming the file when it is not one."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ValueError(f"jwt_public_key_file {path}: {error.strerror or error}") from None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as error:
        raise ValueError(f"jwt_public_key_file {path}: not a PEM public key ({error})") from None
    algorithms = algorithms_for(key)
    if not algorithms:
        raise ValueError(f"jwt_public_key_file {path}: unsupported key type {type(key).__name__}")
    return TrustedKey(None, algorithms, key)


def parse_jwks(text: str | bytes, source: str) -> list[TrustedKey]:
    """The usable public keys of a JWKS document; ``ValueError`` when it is not one."""
    try:
        document = json.loads(text)
        keys = document["keys"]
        if not isinstance(keys, list):
            raise TypeError
    except (ValueError, TypeError, KeyError):
        raise ValueError(f"jwks {source}: not a JWKS document ({{'keys': [...]}})") from None
    trusted = []
    for entry in keys:
        if not isinstance(entry, dict) or entry.get("kty") == "oct":
            continue  # a published key set holds public keys only
        if entry.get("use", "sig") != "sig":
            continue
        try:
            jwk = jwt.PyJWK(entry)
        except jwt.PyJWTError as error:
            log.warning("jwks %s: key %r skipped: %s", source, entry.get("kid"), error)
            continue
        algorithms = algorithms_for(jwk.key)
        if "alg" in entry:  # the key set pins its algorithm
            algorithms &= {entry["alg"]}
        if algorithms:
            kid = entry.get("kid")
            trusted.append(TrustedKey(kid if isinstance(kid, str) else None, algorithms, jwk.key))
    if not trusted:
        raise ValueError(f"jwks {source}: no usable signing key")
    return trusted


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


class JwksSource:
    """A JWKS document at a URL, fetched in a thread (never on the tick) and kept fresh.

    ``run`` fetches at start and every ``refresh_s``; ``request_refresh`` (an unknown
    ``kid``: the provider may have rotated its keys) brings the next fetch forward, at
    most once a minute. Until the first fetch succeeds tokens are refused with 503;
    afterwards a failed fetch keeps the last good keys.
    """

    MIN_INTERVAL_S = 60.0

    def __init__(self, url: str, refresh_s: float, timeout_s: float) -> None:
        self.url = url
        self.refresh_s = refresh_s
        self.timeout_s = timeout_s
        self.keys: list[TrustedKey] | None = None
        self._wake = trio.Event()
        self._last_fetch_s = -float("inf")

    def request_refresh(self) -> None:
        self._wake.set()

    def _fetch(self) -> bytes:
        with urllib.request.urlopen(self.url, timeout=self.timeout_s) as answer:
            return bytes(answer.read(MAX_JWKS_BYTES + 1))

    async def refresh(self) -> None:
        self._last_fetch_s = trio.current_time()
        try:
            body = await trio.to_thread.run_sync(self._fetch, abandon_on_cancel=True)
            if len(body) > MAX_JWKS_BYTES:
                raise ValueError(f"jwks {self.url}: larger than {MAX_JWKS_BYTES} bytes")
            self.keys = parse_jwks(body, self.url)
        except (OSError, ValueError) as error:
            log.warning("jwks %s: fetch failed, keeping the last keys: %s", self.url, error)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await self.refresh()
        task_status.started()
        while True:
            with trio.move_on_after(self.refresh_s):
                await self._wake.wait()
                # Asked early (unknown kid): not more often than MIN_INTERVAL_S.
                await trio.sleep_until(self._last_fetch_s + self.MIN_INTERVAL_S)
            self._wake = trio.Event()
            await self.refresh()


class Authenticator:
    """Verifies identity tokens and this server's own tokens (see the module docstring)."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self.secret = settings.secret
        public: list[TrustedKey] = []
        if settings.public_key_file:
            public.append(load_pem_key(settings.public_key_file))
        self.jwks_source: JwksSource | None = None
        if settings.jwks and is_url(settings.jwks):
            self.jwks_source = JwksSource(
                settings.jwks, settings.jwks_refresh_s, settings.jwks_timeout_s
            )
        elif settings.jwks:
            try:
                text = Path(settings.jwks).read_bytes()
            except OSError as error:
                raise ValueError(f"jwks {settings.jwks}: {error.strerror or error}") from None
            public += parse_jwks(text, settings.jwks)
        self.algorithms = frozenset(settings.algorithms) or self._default_algorithms(public)
        self._static_keys = [TrustedKey(None, frozenset({"HS256"}), settings.secret), *public]

    @classmethod
    def from_config(cls, config: Config) -> Authenticator | None:
        """The authenticator ``config`` asks for; None in development mode (no secret)."""
        auth = config.auth
        if auth.join_secret is None:
            return None
        return cls(
            AuthSettings(
                secret=auth.join_secret.encode(),
                public_key_file=auth.jwt_public_key_file,
                jwks=auth.jwks,
                issuer=auth.jwt_issuer,
                audience=auth.jwt_audience,
                leeway_s=auth.jwt_leeway_s,
                algorithms=auth.jwt_algorithms,
                name_claim=auth.jwt_name_claim,
                role_claim=auth.jwt_role_claim,
                spectator_roles=auth.jwt_spectator_roles,
                jwks_refresh_s=auth.jwks_refresh_s,
                jwks_timeout_s=auth.jwks_timeout_s,
            )
        )

    def _default_algorithms(self, public: list[TrustedKey]) -> frozenset[str]:
        """HS256 with the secret alone; with public keys, theirs (a JWKS URL: the common ones)."""
        if not public and self.jwks_source is None:
            return frozenset({"HS256"})
        algorithms: set[str] = set()
        for key in public:
            algorithms |= key.algorithms
        if self.jwks_source is not None:
            algorithms |= {"RS256", "ES256", "EdDSA"}
        return frozenset(algorithms)

    def keys(self) -> Sequence[TrustedKey]:
        if self.jwks_source is None:
            return self._static_keys
        if self.jwks_source.keys is None:
            raise TokenError(503, "the identity provider's keys are not loaded yet; try again")
        return [*self._static_keys, *self.jwks_source.keys]

    # -- entry points

    def verify(self, token: str | None, now_s: float) -> JoinClaims:
        """A credential at the WebSocket: an identity token, or this server's join token."""
        token = check_size(token)
        if is_server_token(token):
            return verify_token(
                self.secret, token, now_s=now_s, kind=KIND_JOIN, leeway_s=self.settings.leeway_s
            )
        return self.verify_identity(token, now_s)

    def verify_seat(self, token: str | None, now_s: float) -> JoinClaims:
        """A seat token from matchmaking (``?seat=``)."""
        return verify_token(
            self.secret, token, now_s=now_s, kind=KIND_SEAT, leeway_s=self.settings.leeway_s
        )

    def verify_bearer(self, authorization: str | None, now_s: float) -> JoinClaims:
        """An ``Authorization: Bearer <identity token>`` header value."""
        if not authorization:
            raise TokenError(401, "no credential: send Authorization: Bearer <identity token>")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenError(401, "the Authorization header must be: Bearer <identity token>")
        return self.verify_identity(token.strip(), now_s)

    def verify_identity(self, token: str | None, now_s: float) -> JoinClaims:
        """An identity token from the game's identity provider; claims or ``TokenError``."""
        settings = self.settings
        token = check_size(token)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise jwt_error(error) from None
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.algorithms:
            raise TokenError(401, f"token algorithm {str(algorithm)[:16]!r} is not accepted")
        kid = header.get("kid")
        keys = self.keys()
        candidates = [key for key in keys if algorithm in key.algorithms]
        if isinstance(kid, str) and any(key.kid is not None for key in keys):
            candidates = [key for key in candidates if key.kid == kid or key.kid is None]
            if not any(key.kid == kid for key in candidates) and self.jwks_source is not None:
                self.jwks_source.request_refresh()  # perhaps rotated since we fetched
        if not candidates:
            if isinstance(kid, str):
                raise TokenError(401, f"unknown key id {kid[:64]!r}")
            raise TokenError(401, f"no key for algorithm {algorithm}")
        payload: dict[str, Any] | None = None
        failure: TokenError | None = None
        for key in candidates:
            try:
                payload = jwt.decode(
                    token,
                    key.key,
                    algorithms=[algorithm],
                    issuer=settings.issuer,
                    audience=settings.audience,
                    options={
                        "verify_exp": False,
                        "verify_nbf": False,
                        "verify_iat": False,
                        "verify_aud": settings.audience is not None,
                        "verify_iss": settings.issuer is not None,
                        "require": ["exp", "sub"],
                    },
                )
                break
            except jwt.InvalidSignatureError as error:
                failure = jwt_error(error)  # the next key may be the right one
            except jwt.PyJWTError as error:
                raise jwt_error(error) from None
        if payload is None:
            assert failure is not None
            raise failure
        return self._identity(payload, now_s)

    def _identity(self, payload: dict[str, Any], now_s: float) -> JoinClaims:
        settings = self.settings
        expires_s = check_times(payload, now_s, settings.leeway_s)
        subject = payload.get("sub")
        if not text_ok(subject, SUBJECT_MAX_CHARS):
            raise TokenError(
                401, f"token subject must be 1..{SUBJECT_MAX_CHARS} printable characters"
            )
        assert isinstance(subject, str)
        name = payload.get(settings.name_claim)
        if isinstance(name, str):
            name = name.strip()[:NAME_MAX_CHARS].strip()
        if not text_ok(name, NAME_MAX_CHARS):
            name = subject[:NAME_MAX_CHARS]
        assert isinstance(name, str)
        value = payload.get(settings.role_claim)
        values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        roles = tuple(v for v in values if isinstance(v, str))[:16]
        spectator = any(role in settings.spectator_roles for role in roles)
        return JoinClaims(
            subject=subject,
            name=name,
            role=Role.SPECTATOR if spectator else Role.PLAYER,
            room=None,
            expires_s=expires_s,
            kind=KIND_IDENTITY,
            roles=roles,
        )


def now_s() -> float:
    """Wall-clock Unix seconds: JWT times are absolute."""
    return time.time()


def issue_identity_token(
    secret: bytes,
    *,
    subject: str,
    name: str,
    ttl_s: float,
    now_s: float,
    role: str | None = None,
    issuer: str | None = None,
    audience: str | None = None,
) -> str:
    """An HS256 identity token, as an identity provider sharing the secret would issue.

    For development and tests (``gameserver token`` without ``--room``): a real game's
    accounts come from its own identity provider. ``role`` goes in the ``role`` claim.
    """
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the token secret must be at least {MIN_SECRET_BYTES} bytes")
    if not text_ok(subject, SUBJECT_MAX_CHARS):
        raise ValueError(f"subject must be 1..{SUBJECT_MAX_CHARS} printable characters")
    if not text_ok(name, NAME_MAX_CHARS):
        raise ValueError(f"name must be 1..{NAME_MAX_CHARS} printable characters")
    if not math.isfinite(ttl_s) or ttl_s <= 0:
        raise ValueError(f"ttl_s must be a finite number > 0, got {ttl_s!r}")
    payload: dict[str, Any] = {
        "sub": subject,
        "name": name,
        "iat": math.floor(now_s),
        "exp": math.ceil(now_s + ttl_s),
    }
    if role is not None:
        payload["role"] = role
    if issuer is not None:
        payload["iss"] = issuer
    if audience is not None:
        payload["aud"] = audience
    return jwt.encode(payload, secret, algorithm="HS256")
