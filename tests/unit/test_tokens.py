"""Signed join tokens: issue, verify (401/403), replay guard, secrets, the CLI."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import subprocess
import sys

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.protocol import GameServerError, Role
from gameserver.tokens import (
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
NONCE = bytes(range(16))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signed(payload: bytes, secret: bytes = SECRET) -> str:
    """A token whose signature is right whatever the payload: reaches the CBOR checks."""
    return f"{b64(payload)}.{b64(hmac.new(secret, payload, hashlib.sha256).digest())}"


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


def refused(token: str | None, status: int, *, secret: bytes = SECRET, **kwargs: object) -> str:
    with pytest.raises(TokenError) as info:
        verify_token(secret, token, now_s=kwargs.pop("now_s", NOW), **kwargs)  # type: ignore[arg-type]
    assert info.value.status == status, info.value.reason
    assert isinstance(info.value, GameServerError)
    return info.value.reason


# -- round trip and format


def test_round_trip() -> None:
    token = make(role=Role.SPECTATOR, name="Grace H.", room="arena-2")
    claims = verify_token(
        SECRET, token, now_s=NOW + 59, expected_role=Role.SPECTATOR, room="arena-2"
    )
    assert claims == JoinClaims(
        subject="user-42",
        name="Grace H.",
        role=Role.SPECTATOR,
        room="arena-2",
        expires_s=int(NOW) + 60,
        nonce=NONCE,
    )
    assert type(claims.role) is Role


def test_format_is_query_safe_and_documented() -> None:
    token = make()
    payload_part, signature_part = token.split(".")
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    payload = unb64(payload_part)
    assert cbor2.loads(payload) == [1, "user-42", "Ada", 0, "default", int(NOW) + 60, NONCE]
    assert unb64(signature_part) == hmac.new(SECRET, payload, hashlib.sha256).digest()


def test_random_nonce_by_default() -> None:
    first = verify_token(SECRET, make(nonce=None), now_s=NOW)
    second = verify_token(SECRET, make(nonce=None), now_s=NOW)
    assert len(first.nonce) == 16
    assert first.nonce != second.nonce


def test_issue_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="name"):
        make(name="x" * 33)
    with pytest.raises(ValueError, match="name"):
        make(name="bad\nname")
    with pytest.raises(ValueError, match="subject"):
        make(subject="")
    with pytest.raises(ValueError, match="ttl"):
        make(ttl_s=0)
    with pytest.raises(ValueError, match="nonce"):
        make(nonce=b"short")
    with pytest.raises(ValueError, match="16 bytes"):
        issue_token(b"short", subject="a", name="b", role=Role.PLAYER, room="r", ttl_s=1, now_s=NOW)


# -- 401


def test_expired() -> None:
    token = make(ttl_s=60)
    verify_token(SECRET, token, now_s=NOW + 59.9)
    reason = refused(token, 401, now_s=NOW + 72)
    assert reason == "token expired 12 s ago"
    refused(token, 401, now_s=NOW + 60)  # from the expiry second on


def test_tampered_payload() -> None:
    payload_part, signature_part = make().split(".")
    payload = cbor2.loads(unb64(payload_part))
    payload[3] = int(Role.SPECTATOR)
    forged = f"{b64(cbor2.dumps(payload))}.{signature_part}"
    assert refused(forged, 401) == "token signature does not match"


def test_tampered_signature() -> None:
    payload_part, signature_part = make().split(".")
    signature = bytearray(unb64(signature_part))
    signature[0] ^= 1
    assert refused(f"{payload_part}.{b64(bytes(signature))}", 401) == (
        "token signature does not match"
    )
    refused(f"{payload_part}.{b64(bytes(signature[:16]))}", 401)  # truncated
    refused(f"{payload_part}.", 401)


def test_wrong_secret() -> None:
    reason = refused(make(), 401, secret=b"another-secret-of-enough-bytes")
    assert reason == "token signature does not match"
    assert SECRET.decode() not in reason


def test_missing() -> None:
    assert "no token" in refused(None, 401)
    assert "no token" in refused("", 401)


@pytest.mark.parametrize(
    "token",
    [
        "abc",
        "a.b.c",
        ".",
        "!!!!.AAAA",
        "AAAA.AA=A",
        "AAAA=.AAAA",
        "A.AAAA",  # length 1 mod 4
        "AB.AAAA",  # AB has unused low bits set: non-canonical
        "é.AAAA",
    ],
)
def test_malformed(token: str) -> None:
    refused(token, 401)


def test_oversize() -> None:
    valid = make()
    assert "exceeds the limit" in refused(valid + "A" * MAX_TOKEN_CHARS, 401)
    assert "exceeds the limit" in refused("A" * (MAX_TOKEN_CHARS + 1), 401)
    assert "exceeds 1024 bytes" in refused("A" * (MAX_TOKEN_CHARS - 2) + ".", 401)


def test_non_canonical_base64_is_refused() -> None:
    """A second spelling of a valid signature (unused low bits set) is not accepted."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    token = make()
    twin = token[:-1] + alphabet[alphabet.index(token[-1]) ^ 1]
    assert unb64(twin.split(".")[1]) == unb64(token.split(".")[1])  # same bytes
    assert "not canonical" in refused(twin, 401)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\xff",
        cbor2.dumps([1, "u", "n", 0, "r", 2**40, NONCE]) + b"\x00",  # trailing byte
        b"\x9f\x01\xff",  # indefinite array
        cbor2.dumps({"v": 1}),
        cbor2.dumps([2, "u", "n", 0, "r", 2**40, NONCE]),  # unknown version
        cbor2.dumps([1, "u", "n", 0, "r", 2**40]),
        cbor2.dumps([1, "u", "n", 2, "r", 2**40, NONCE]),  # no such role
        cbor2.dumps([1, "u", "n", True, "r", 2**40, NONCE]),  # bool is not a role
        cbor2.dumps([1, "u", "n\x00", 0, "r", 2**40, NONCE]),  # unprintable name
        cbor2.dumps([1, "u", "n" * 33, 0, "r", 2**40, NONCE]),
        cbor2.dumps([1, "", "n", 0, "r", 2**40, NONCE]),
        cbor2.dumps([1, "u", "n", 0, "r" * 65, 2**40, NONCE]),
        cbor2.dumps([1, "u", "n", 0, "r", -1, NONCE]),
        cbor2.dumps([1, "u", "n", 0, "r", 2**40 + 0.5, NONCE]),
        cbor2.dumps([1, "u", "n", 0, "r", 2**40, NONCE[:15]]),
        cbor2.dumps([1, "u", "n", 0, "r", 2**40, NONCE.hex()]),
        cbor2.dumps([1, "u", "n", 0, "r", cbor2.CBORTag(1, 2**40), NONCE]),  # a tag
        cbor2.dumps([1, ["u"], "n", 0, "r", 2**40, NONCE]),  # nested
        b"\x87\x01\x61u\x61n\x00\x61r\x1b\x00\x00\x00\x00\x80\x00\x00\x00\x50" + NONCE,  # long int
    ],
)
def test_signed_but_invalid_payload(payload: bytes) -> None:
    """Signed with the right secret (an issuer bug, a newer issuer): still refused, 401."""
    refused(signed(payload), 401)


def test_signed_payload_reference_is_valid() -> None:
    """The hand-built payloads above differ from an accepted one only where they say."""
    payload = cbor2.dumps([1, "u", "n", 0, "r", 2**31, NONCE])
    assert verify_token(SECRET, signed(payload), now_s=NOW).expires_s == 2**31
    shortest = b"\x87\x01\x61u\x61n\x00\x61r\x1b\x00\x00\x00\x00\x80\x00\x00\x00\x50" + NONCE
    assert cbor2.loads(shortest) == cbor2.loads(payload)
    assert shortest != payload  # so the long-int case tests the shortest-encoding rule


@settings(max_examples=300)
@given(st.text(max_size=2 * MAX_TOKEN_CHARS))
def test_fuzz_text_only_token_error(token: str) -> None:
    with pytest.raises(TokenError) as info:
        verify_token(SECRET, token, now_s=NOW)
    assert info.value.status == 401


@settings(max_examples=300)
@given(st.binary(max_size=1100), st.binary(max_size=40))
def test_fuzz_base64_parts_only_token_error(payload: bytes, signature: bytes) -> None:
    with pytest.raises(TokenError):
        verify_token(SECRET, f"{b64(payload)}.{b64(signature)}", now_s=NOW)


@settings(max_examples=300)
@given(st.binary(max_size=1100))
def test_fuzz_signed_random_bytes_only_token_error(payload: bytes) -> None:
    try:
        verify_token(SECRET, signed(payload), now_s=NOW)
    except TokenError as exc:
        assert exc.status == 401
    else:  # vanishingly unlikely, but then the bytes must really be a valid payload
        assert cbor2.dumps(cbor2.loads(payload)) == payload


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
    other = verify_token(SECRET, make(nonce=bytes(16)), now_s=NOW)
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
        return JoinClaims("u", "n", Role.PLAYER, "r", int(NOW) + ttl, i.to_bytes(16, "big"))

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
    env = {"GAMESERVER_SECRET": "from-the-environment-0123"}
    assert load_secret(None, env) == b"from-the-environment-0123"
    assert load_secret("from-the-config-file-0123", env) == b"from-the-config-file-0123"
    assert load_secret(None, {}) is None
    assert load_secret("ünïcødé-sécret-ok", {}) == "ünïcødé-sécret-ok".encode()


def test_load_secret_too_short() -> None:
    with pytest.raises(ValueError, match=r"GAMESERVER_SECRET is 5 bytes.*at least 16"):
        load_secret(None, {"GAMESERVER_SECRET": "short"})
    with pytest.raises(ValueError, match="at least 16"):
        load_secret("fifteen-bytes!!", {"GAMESERVER_SECRET": "x" * 40})
    with pytest.raises(ValueError, match="at least 16"):
        load_secret("", {})
    with pytest.raises(ValueError, match="16 bytes"):
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

    secret = "cli-test-secret-0123456789"
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
    assert "at least 16" in out.stderr
