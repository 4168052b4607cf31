"""Identity tokens: each algorithm verifies with its key, and every bad token is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from gameserver.auth import Authenticator, AuthSettings, issue_identity_token
from gameserver.config import Config
from gameserver.protocol import Role
from gameserver.tokens import KIND_IDENTITY, TokenError, issue_token

SECRET = b"identity-secret-of-at-least-32-bytes"
NOW = 1_700_000_000.0
ISSUER = "https://id.example.test/"
AUDIENCE = "game-servers"

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()
KEYS: dict[str, Any] = {"RS256": RSA_KEY, "ES256": EC_KEY, "EdDSA": ED_KEY}


def pem(private_key: Any, path: Path) -> str:
    path.write_bytes(
        private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return str(path)


def jwks(path: Path, **keys: Any) -> str:
    """A JWKS file with the public half of each key, by kid."""
    entries = []
    for kid, key in keys.items():
        entry = _public_jwk(key)
        entry["kid"] = kid
        entries.append(entry)
    path.write_text(json.dumps({"keys": entries}))
    return str(path)


def _public_jwk(key: Any) -> dict[str, Any]:
    public = key.public_key()
    if isinstance(key, rsa.RSAPrivateKey):
        document = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        document = jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        document = jwt.algorithms.OKPAlgorithm.to_jwk(public, as_dict=True)
    return dict(document)


def claims(**overrides: Any) -> dict[str, Any]:
    payload = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "auth0|ada", "name": "Ada Lovelace",
        "iat": int(NOW), "exp": int(NOW) + 600,
    }  # fmt: skip
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def sign(algorithm: str, kid: str | None = None, **overrides: Any) -> str:
    key = SECRET if algorithm == "HS256" else KEYS[algorithm]
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims(**overrides), key, algorithm=algorithm, headers=headers)


def authenticator(**settings: Any) -> Authenticator:
    defaults: dict[str, Any] = {"secret": SECRET, "issuer": ISSUER, "audience": AUDIENCE}
    return Authenticator(AuthSettings(**(defaults | settings)))


def refused(auth: Authenticator, token: str | None, now_s: float = NOW) -> str:
    with pytest.raises(TokenError) as info:
        auth.verify_identity(token, now_s)
    assert info.value.status == 401, info.value.reason
    return info.value.reason


# -- good tokens, each algorithm


def test_hs256_with_the_shared_secret() -> None:
    identity = authenticator().verify_identity(sign("HS256"), NOW)
    assert (identity.subject, identity.name) == ("auth0|ada", "Ada Lovelace")
    assert identity.role is Role.PLAYER
    assert identity.kind == KIND_IDENTITY and identity.room is None and not identity.nonce


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_public_key_algorithms_from_a_pem_file(algorithm: str, tmp_path: Path) -> None:
    auth = authenticator(public_key_file=pem(KEYS[algorithm], tmp_path / "key.pem"))
    assert auth.algorithms == (
        {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
        if algorithm == "RS256"
        else {algorithm}
    )
    assert auth.verify_identity(sign(algorithm), NOW).subject == "auth0|ada"
    # With a public key configured, the secret no longer verifies identities by default.
    assert "algorithm 'HS256' is not accepted" in refused(auth, sign("HS256"))


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_public_key_algorithms_from_a_jwks_by_kid(algorithm: str, tmp_path: Path) -> None:
    path = jwks(tmp_path / "jwks.json", rsa1=RSA_KEY, ec1=EC_KEY, ed1=ED_KEY)
    auth = authenticator(jwks=path)
    kid = {"RS256": "rsa1", "ES256": "ec1", "EdDSA": "ed1"}[algorithm]
    assert auth.verify_identity(sign(algorithm, kid=kid), NOW).name == "Ada Lovelace"
    assert refused(auth, sign(algorithm, kid="rotated-away")) == "unknown key id 'rotated-away'"


def test_key_rotation_two_keys_in_the_jwks(tmp_path: Path) -> None:
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    auth = authenticator(jwks=jwks(tmp_path / "jwks.json", old=RSA_KEY, new=new_key))
    for kid, key in (("old", RSA_KEY), ("new", new_key)):
        token = jwt.encode(claims(), key, algorithm="RS256", headers={"kid": kid})
        assert auth.verify_identity(token, NOW).subject == "auth0|ada"
    swapped = jwt.encode(claims(), new_key, algorithm="RS256", headers={"kid": "old"})
    assert refused(auth, swapped) == "token signature does not match"


# -- refused, with the documented reason


def test_wrong_issuer_audience_and_missing_ones() -> None:
    auth = authenticator()
    assert refused(auth, sign("HS256", iss="https://evil.test/")) == "token issuer is not accepted"
    assert refused(auth, sign("HS256", aud="another-app")) == "token audience is not accepted"
    assert refused(auth, sign("HS256", iss=None)) == "token has no 'iss' claim"
    assert refused(auth, sign("HS256", aud=None)) == "token has no 'aud' claim"
    lax = authenticator(issuer=None, audience=None)  # not configured: not checked
    assert lax.verify_identity(sign("HS256", iss="x", aud=None), NOW).subject == "auth0|ada"


def test_expired_and_not_yet_valid_with_leeway() -> None:
    auth = authenticator(leeway_s=30)
    expired = sign("HS256", exp=int(NOW) - 31)
    assert refused(auth, expired) == "token expired 31 s ago"
    assert auth.verify_identity(sign("HS256", exp=int(NOW) - 29), NOW).subject == "auth0|ada"
    early = sign("HS256", nbf=int(NOW) + 31)
    assert refused(auth, early) == "token is not valid yet ('nbf' is 31 s ahead)"
    assert "'iat' is 3600 s ahead" in refused(auth, sign("HS256", iat=int(NOW) + 3600))
    assert refused(auth, sign("HS256", exp=None)) == "token has no 'exp' claim"


def test_alg_none_is_refused_even_when_listed_in_the_header() -> None:
    unsigned = jwt.encode(claims(), None, algorithm="none")
    assert refused(authenticator(), unsigned) == "token algorithm 'none' is not accepted"
    with pytest.raises(ValueError, match="never accepted"):
        Config.of(join_secret=SECRET.decode(), jwt_algorithms=("none",))


def test_algorithm_confusion_hs256_signed_with_the_public_key(tmp_path: Path) -> None:
    """The classic attack: HS256 with the RSA public key (PEM text) as the HMAC secret."""
    path = pem(RSA_KEY, tmp_path / "key.pem")
    public_pem = Path(path).read_bytes()
    payload = json.dumps(claims()).encode()
    header = b'{"alg":"HS256","typ":"JWT"}'
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = b64(header) + b"." + b64(payload)
    mac = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    forged = signing_input + b"." + b64(mac)
    auth = authenticator(public_key_file=path)
    assert refused(auth, forged.decode()) == "token algorithm 'HS256' is not accepted"
    # Even with HS256 allowed, the RSA key never verifies an HMAC token: the secret does.
    both = authenticator(public_key_file=path, algorithms=("RS256", "HS256"))
    assert refused(both, forged.decode()) == "token signature does not match"
    # And an RS256 token is never checked with the HMAC secret.
    rs_by_secret = authenticator()  # secret only: RS256 is not an accepted algorithm
    assert refused(rs_by_secret, sign("RS256")) == "token algorithm 'RS256' is not accepted"


def test_a_token_signed_by_another_key_is_refused(tmp_path: Path) -> None:
    auth = authenticator(public_key_file=pem(EC_KEY, tmp_path / "key.pem"))
    stranger = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(claims(), stranger, algorithm="ES256")
    assert refused(auth, token) == "token signature does not match"


@pytest.mark.parametrize("token", [None, "", "x", "a.b.c", "e30.e30.", "A" * 5000])
def test_malformed_identity_tokens(token: str | None) -> None:
    refused(authenticator(), token)


# -- claims that reach the game


def test_name_claim_falls_back_to_sub_and_is_cut_to_32() -> None:
    auth = authenticator(name_claim="nickname")
    assert auth.verify_identity(sign("HS256", nickname="Ada"), NOW).name == "Ada"
    assert auth.verify_identity(sign("HS256"), NOW).name == "auth0|ada"  # no nickname
    long = auth.verify_identity(sign("HS256", nickname="N" * 40), NOW)
    assert long.name == "N" * 32
    assert auth.verify_identity(sign("HS256", nickname="\x00"), NOW).name == "auth0|ada"


def test_role_claim_makes_a_spectator() -> None:
    auth = authenticator(role_claim="https://game.example/roles")
    as_list = sign("HS256", **{"https://game.example/roles": ["spectator", "beta"]})
    identity = auth.verify_identity(as_list, NOW)
    assert identity.role is Role.SPECTATOR and identity.roles == ("spectator", "beta")
    assert not identity.allows(Role.PLAYER) and identity.allows(Role.SPECTATOR)
    admin = auth.verify_identity(sign("HS256", **{"https://game.example/roles": "admin"}), NOW)
    assert admin.role is Role.PLAYER and admin.roles == ("admin",)
    assert admin.allows(Role.PLAYER) and admin.allows(Role.SPECTATOR)  # a player may watch


def test_verify_routes_server_tokens_and_bearer_takes_identities_only() -> None:
    auth = authenticator()
    join = issue_token(
        SECRET, subject="u", name="n", role=Role.PLAYER, room="r", ttl_s=60, now_s=NOW
    )
    assert auth.verify(join, NOW).room == "r"
    assert auth.verify(sign("HS256"), NOW).kind == KIND_IDENTITY
    with pytest.raises(TokenError, match="issuer"):
        auth.verify_bearer(f"Bearer {join}", NOW)  # a join token is no identity
    assert auth.verify_bearer(f"Bearer {sign('HS256')}", NOW).subject == "auth0|ada"
    for header in (None, "", "Basic abc", "Bearer "):
        with pytest.raises(TokenError, match=r"Authorization|credential"):
            auth.verify_bearer(header, NOW)


def test_development_identity_tokens_verify() -> None:
    token = issue_identity_token(
        SECRET, subject="dev-1", name="Dev", ttl_s=60, now_s=NOW, role="spectator",
        issuer=ISSUER, audience=AUDIENCE,
    )  # fmt: skip
    identity = authenticator().verify_identity(token, NOW + 1)
    assert (identity.subject, identity.name, identity.role) == ("dev-1", "Dev", Role.SPECTATOR)


# -- configuration


def test_bad_key_files_and_settings_fail_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"jwt_public_key_file .*missing\.pem"):
        authenticator(public_key_file=str(tmp_path / "missing.pem"))
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(ValueError, match="not a PEM public key"):
        authenticator(public_key_file=str(tmp_path / "junk.pem"))
    (tmp_path / "empty.json").write_text('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}')
    with pytest.raises(ValueError, match="no usable signing key"):
        authenticator(jwks=str(tmp_path / "empty.json"))
    with pytest.raises(ValueError, match="need join_secret"):
        Config.of(jwks=str(tmp_path / "empty.json"))
    with pytest.raises(ValueError, match="unknown"):
        Config.of(join_secret=SECRET.decode(), jwt_algorithms=("RS257",))
    with pytest.raises(ValueError, match="32 bytes"):
        Config.of(join_secret="sixteen-bytes!!!")
