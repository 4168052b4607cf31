"""This server's own tokens (JWT, HS256): issue, verify (401/403), replay guard, the CLI."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.protocol import GameServerError, Role
from gameserver.tokens import (
    KIND_SEAT,
    MAX_TOKEN_CHARS,
    JoinClaims,
    ReplayGuard,
    TokenError,
    issue_token,
    load_secret,
    verify_token,
)

SECRET = b"s3cret-s3cret-s3cret-32-bytes!!!"
NOW = 1_700_000_000.0
NONCE = bytes(range(16)).hex()


def make(**overrides: object) -> str:
    kwargs: dict[str, object] = {
        "subject": "user-42",
        "name": "Ada",
        "role": Role.PLAYER,
        "room": "default",
        "ttl_s": 60.0,
        "now_s": NOW,
        "nonce": NONCE,
    }
    kwargs.update(overrides)
    return issue_token(SECRET, **kwargs)  # type: ignore[arg-type]


def signed(payload: dict[str, object], secret: bytes = SECRET, **header: object) -> str:
    """A JWT whose signature is right whatever the claims: reaches the claim checks."""
    return jwt.encode(payload, secret, algorithm="HS256", headers=header or None)


def claims_of(**overrides: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "iss": "gameserver", "aud": "gameserver", "kind": "join", "sub": "u", "name": "n",
        "role": "player", "room": "r", "iat": int(NOW), "exp": int(NOW) + 60, "jti": NONCE,
    }  # fmt: skip
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def refused(token: str | None, status: int, *, secret: bytes = SECRET, **kwargs: object) -> str:
    with pytest.raises(TokenError) as info:
        verify_token(secret, token, now_s=kwargs.pop("now_s", NOW), **kwargs)  # type: ignore[arg-type]
    assert info.value.status == status, info.value.reason
    assert isinstance(info.value, GameServerError)
    return info.value.reason


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# -- round trip and format


def test_round_trip() -> None:
    token = make(role=Role.SPECTATOR, name="Grace H.", room="arena-2")
    claims = verify_token(
        SECRET, token, now_s=NOW + 59, expected_role=Role.SPECTATOR, room="arena-2"
    )
    assert claims == JoinClaims(
        subject="user-42", name="Grace H.", role=Role.SPECTATOR, room="arena-2",
        expires_s=NOW + 60, nonce=NONCE, kind="join",
    )  # fmt: skip


def test_format_is_a_documented_query_safe_jwt() -> None:
    token = make()
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "HS256", "typ": "JWT"}
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload == claims_of(sub="user-42", name="Ada", room="default")


def test_seat_tokens_are_their_own_kind() -> None:
    seat = make(kind=KIND_SEAT)
    assert verify_token(SECRET, seat, now_s=NOW, kind=KIND_SEAT).kind == KIND_SEAT
    assert "?seat=" in refused(seat, 401)  # not a join token
    assert "not a seat token" in refused(make(), 401, kind=KIND_SEAT)


def test_random_nonce_by_default() -> None:
    a = verify_token(SECRET, make(nonce=None), now_s=NOW)
    b = verify_token(SECRET, make(nonce=None), now_s=NOW)
    assert a.nonce != b.nonce and len(a.nonce) == 32


def test_issue_refuses_bad_arguments() -> None:
    for bad in (
        {"subject": ""},
        {"name": "x" * 33},
        {"name": "tab\there"},
        {"room": ""},
        {"ttl_s": 0},
        {"ttl_s": float("nan")},
        {"nonce": "abc"},
        {"nonce": "G" * 32},
        {"kind": "identity"},
    ):
        with pytest.raises(ValueError):
            make(**bad)
    with pytest.raises(ValueError, match="32 bytes"):
        issue_token(b"short", subject="u", name="n", role=Role.PLAYER, room="r", ttl_s=1, now_s=NOW)


# -- 401


def test_expired_and_leeway() -> None:
    token = make(ttl_s=60)
    verify_token(SECRET, token, now_s=NOW + 59.9)
    assert refused(token, 401, now_s=NOW + 60) == "token expired 0 s ago"
    assert verify_token(SECRET, token, now_s=NOW + 65, leeway_s=10).room == "default"


def test_not_valid_yet() -> None:
    token = signed(claims_of(nbf=int(NOW) + 30))
    assert "not valid yet" in refused(token, 401)
    verify_token(SECRET, token, now_s=NOW, leeway_s=30)


def test_tampered_and_wrong_secret() -> None:
    token = make()
    header, _, signature = token.split(".")
    forged = json.dumps(claims_of(name="Admin")).encode()
    assert refused(f"{header}.{b64(forged)}.{signature}", 401) == "token signature does not match"
    assert refused(make(), 401, secret=b"another-secret-of-32-bytes-!!!!!") == (
        "token signature does not match"
    )


def test_algorithm_none_and_others_are_refused() -> None:
    unsigned = jwt.encode(claims_of(), None, algorithm="none")
    assert refused(unsigned, 401) == "token algorithm is not accepted"
    hs512 = jwt.encode(claims_of(), SECRET * 2, algorithm="HS512")
    assert refused(hs512, 401) == "token algorithm is not accepted"


def test_missing() -> None:
    assert refused(None, 401) == "no token: connect with ?token=..."
    assert refused("", 401) == "no token: connect with ?token=..."


@pytest.mark.parametrize("token", ["x", "a.b", "a.b.c", "....", "ey.ey.ey", "é.é.é"])
def test_malformed(token: str) -> None:
    refused(token, 401)


def test_oversize() -> None:
    assert "exceeds the limit" in refused("A" * (MAX_TOKEN_CHARS + 1), 401)


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "someone-else"},
        {"iss": None},
        {"aud": "another-service"},
        {"kind": None},
        {"kind": "identity"},
        {"sub": ""},
        {"sub": None},
        {"name": "n" * 33},
        {"name": "n\x00"},
        {"role": "admin"},
        {"role": 0},
        {"room": "r" * 65},
        {"room": None},
        {"exp": None},
        {"exp": "soon"},
        {"exp": True},
        {"exp": -1},
        {"jti": None},
        {"jti": "ABCDEF"},
        {"iat": "yesterday"},
    ],
)
def test_signed_but_invalid_claims(overrides: dict[str, object]) -> None:
    """Signed with the right secret (an issuer bug, another service's token): still 401."""
    refused(signed(claims_of(**overrides)), 401)


def test_signed_claims_reference_is_valid() -> None:
    """The hand-built claims above differ from an accepted set only where they say."""
    assert verify_token(SECRET, signed(claims_of()), now_s=NOW).room == "r"


@settings(max_examples=300)
@given(st.text(max_size=2 * MAX_TOKEN_CHARS))
def test_fuzz_text_only_token_error(token: str) -> None:
    with pytest.raises(TokenError) as info:
        verify_token(SECRET, token, now_s=NOW)
    assert info.value.status == 401


@settings(max_examples=300)
@given(st.binary(max_size=600), st.binary(max_size=600), st.binary(max_size=40))
def test_fuzz_three_base64_parts_only_token_error(
    header: bytes, payload: bytes, signature: bytes
) -> None:
    with pytest.raises(TokenError):
        verify_token(SECRET, f"{b64(header)}.{b64(payload)}.{b64(signature)}", now_s=NOW)


# -- 403


def test_wrong_role() -> None:
    token = make(role=Role.SPECTATOR)
    reason = refused(token, 403, expected_role=Role.PLAYER)
    assert reason == "token is for a spectator, not a player"
    assert verify_token(SECRET, token, now_s=NOW, expected_role=Role.SPECTATOR).role == (
        Role.SPECTATOR
    )


def test_wrong_room() -> None:
    token = make(room="lobby-1")
    assert refused(token, 403, room="lobby-2") == "token is for room 'lobby-1', not 'lobby-2'"
    assert verify_token(SECRET, token, now_s=NOW, room="lobby-1").room == "lobby-1"


def test_replayed() -> None:
    guard = ReplayGuard()
    claims = verify_token(SECRET, make(), now_s=NOW)
    guard.check_and_remember(claims, NOW)
    with pytest.raises(TokenError) as info:
        guard.check_and_remember(claims, NOW + 1)
    assert (info.value.status, info.value.reason) == (403, "token already used")
    other = verify_token(SECRET, make(nonce="0" * 32), now_s=NOW)
    guard.check_and_remember(other, NOW + 1)  # another token of the same subject is fine
    assert len(guard) == 2


def test_guard_forgets_after_expiry() -> None:
    guard = ReplayGuard()
    claims = verify_token(SECRET, make(ttl_s=60), now_s=NOW)
    guard.check_and_remember(claims, NOW)
    guard.forget_expired(NOW + 59)
    assert len(guard) == 1
    guard.forget_expired(NOW + 60)
    assert len(guard) == 0
    with pytest.raises(TokenError) as info:  # an expired token is refused, not remembered
        guard.check_and_remember(claims, NOW + 60)
    assert info.value.status == 401
    assert len(guard) == 0


def test_guard_stays_bounded() -> None:
    guard = ReplayGuard(max_entries=3)

    def claims(i: int, ttl: int) -> JoinClaims:
        return JoinClaims("u", "n", Role.PLAYER, "r", int(NOW) + ttl, f"{i:032x}")

    guard.check_and_remember(claims(0, 10), NOW)
    guard.check_and_remember(claims(1, 100), NOW)
    guard.check_and_remember(claims(2, 100), NOW)
    with pytest.raises(TokenError) as info:  # full of live nonces: refuse, never forget one
        guard.check_and_remember(claims(3, 100), NOW + 1)
    assert info.value.status == 503
    assert "9 s" in info.value.reason
    assert len(guard) == 3
    guard.check_and_remember(claims(3, 100), NOW + 10)  # nonce 0 expired: its slot is free
    assert len(guard) == 3
    with pytest.raises(TokenError) as info:
        guard.check_and_remember(claims(1, 100), NOW + 10)  # still remembered
    assert info.value.status == 403
    for i in range(4, 50):  # each lives 25 s, one every 10 s: old ones make room
        now = NOW + 200 + 10 * i
        guard.check_and_remember(claims(i, 225 + 10 * i), now)
        assert len(guard) <= 3
    assert len(guard._heap) == len(guard)


# -- secrets


def test_load_secret() -> None:
    env = {"GAMESERVER_SECRET": "from-the-environment-0123456789ab"}
    assert load_secret(None, env) == b"from-the-environment-0123456789ab"
    configured = "from-the-config-file-0123456789ab"
    assert load_secret(configured, env) == configured.encode()
    assert load_secret(None, {}) is None
    assert load_secret("ünïcødé-sécret-ok-ünïcødé", {}) == "ünïcødé-sécret-ok-ünïcødé".encode()


def test_load_secret_too_short() -> None:
    with pytest.raises(ValueError, match=r"GAMESERVER_SECRET is 5 bytes.*at least 32"):
        load_secret(None, {"GAMESERVER_SECRET": "short"})
    with pytest.raises(ValueError, match="at least 32"):
        load_secret("thirty-one-bytes-are-too-short!", {"GAMESERVER_SECRET": "x" * 40})
    with pytest.raises(ValueError, match="at least 32"):
        load_secret("", {})
    with pytest.raises(ValueError, match="32 bytes"):
        verify_token(b"short", make(), now_s=NOW)


# -- gameserver token


def run_cli(*args: str, secret: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GAMESERVER_SECRET"}
    if secret is not None:
        env["GAMESERVER_SECRET"] = secret
    return subprocess.run(
        [sys.executable, "-m", "gameserver", "token", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_cli_prints_a_token_that_verifies() -> None:
    import time

    secret = "cli-test-secret-0123456789-abcdefgh"
    out = run_cli(
        "--subject", "u1", "--name", "Bob", "--role", "spectator", "--room", "r9", secret=secret
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 1
    claims = verify_token(
        secret.encode(), lines[0], now_s=time.time(), expected_role=Role.SPECTATOR, room="r9"
    )
    assert (claims.subject, claims.name) == ("u1", "Bob")
    assert 3590 < claims.expires_s - time.time() <= 3601


def test_cli_without_secret_exits_2() -> None:
    out = run_cli("--subject", "u1", "--name", "Bob", secret=None)
    assert out.returncode == 2
    assert out.stdout == ""
    assert "GAMESERVER_SECRET" in out.stderr
    out = run_cli("--subject", "u1", "--name", "Bob", secret="short")
    assert out.returncode == 2
    assert "at least 32" in out.stderr
