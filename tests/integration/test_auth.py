"""Authentication with an identity provider: matchmaking needs a credential, seats are bound
to the identity, the claims name the player and set its role, and a dropped player comes
back with its resume token alone."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import trio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from trio_websocket import ConnectionRejected

from gameserver.clients import ReconnectPolicy, connect
from gameserver.clients.latency import LatencyRelay
from gameserver.clients.matchmaking import MatchFailed, find_match
from gameserver.protocol import CloseCode, Join, Role, encode
from gameserver.server import GameServer
from tests.conftest import make_config

from .alongside import innocent_requests, players_alongside
from .httpclient import http_client

SECRET = "the-servers-own-secret-of-32-bytes!"
ISSUER = "https://accounts.example.test/"
AUDIENCE = "arena-game"
PROVIDER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
FAST_RETRY = ReconnectPolicy(max_attempts=3, base_delay_s=0.05, max_delay_s=0.2)


def identity(sub: str, name: str | None = None, *, age_s: float = 0, **extra: Any) -> str:
    """An identity token from the test's identity provider (RS256), valid for 10 minutes."""
    now = int(time.time() - age_s)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 600, **extra}
    if name is not None:
        claims["name"] = name
    return jwt.encode(claims, PROVIDER_KEY, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
async def secured(nursery: trio.Nursery, tmp_path: Path) -> AsyncIterator[GameServer]:
    key_file = tmp_path / "provider.pem"
    key_file.write_bytes(
        PROVIDER_KEY.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    config = make_config(
        join_secret=SECRET,
        jwt_public_key_file=str(key_file),
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        resume_grace_s=2.0,
    )
    server = GameServer(config)
    await nursery.start(server.run)
    yield server


async def match(
    server: GameServer, body: dict[str, Any], authorization: str | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    async with http_client(server.port) as client:
        headers = [("content-type", "application/json")]
        if authorization is not None:
            headers.append(("authorization", authorization))
        await client.send_request("POST", "/api/match", headers, json.dumps(body).encode())
        result = await client.read_result()
    return result.status, result.json(), result.headers


async def rejected(url: str) -> tuple[int, str]:
    with pytest.raises(ConnectionRejected) as info:
        async with connect(url):
            pass
    return info.value.status_code, (info.value.body or b"").decode()


async def test_matchmaking_without_a_credential_is_refused(secured: GameServer) -> None:
    """Today's hole: anyone got a signed seat under any name. Now: 401, and no seat."""
    status, answer, headers = await match(secured, {"mode": "squad", "name": "Mallory"})
    assert status == 401 and "Authorization: Bearer" in answer["error"]
    assert headers["www-authenticate"] == "Bearer"
    status, answer, _ = await match(secured, {"mode": "squad"}, "Bearer not-a-jwt")
    assert status == 401 and answer["error"] == "token is not a well-formed JWT"
    forged = jwt.encode({"sub": "x", "exp": time.time() + 60}, "guess" * 8, algorithm="HS256")
    status, answer, _ = await match(secured, {"mode": "squad"}, f"Bearer {forged}")
    assert status == 401 and "HS256" in answer["error"]
    expired = identity("ada", "Ada", age_s=700)
    status, answer, _ = await match(secured, {"mode": "squad"}, f"Bearer {expired}")
    assert status == 401 and "expired" in answer["error"]
    assert secured.metrics.refused_match_credential == 4 and secured.metrics.matches == 0


async def test_a_seat_is_bound_to_the_identity_and_named_by_its_claims(
    secured: GameServer,
) -> None:
    ada = identity("user-ada", "Ada")
    seat = await find_match(secured.http_url, mode="squad", name="Mallory", token=ada)
    assert seat.token is not None and "?seat=" in seat.url
    claims = jwt.decode(seat.token, options={"verify_signature": False})
    assert (claims["sub"], claims["name"], claims["kind"]) == ("user-ada", "Ada", "seat")
    # Someone else's identity with Ada's seat: refused; the seat alone: refused.
    bob = identity("user-bob", "Bob")
    assert await rejected(f"{seat.url}&token={bob}") == (403, "the seat is another player's\n")
    status, body = await rejected(seat.url)
    assert status == 401 and "no token" in body
    async with connect(seat.url, token=ada, name="ignored") as client:
        await client.next_snapshot()
        room = secured.rooms[seat.room]
        assert [name for _, name, *_ in room.roster()] == ["Ada"]  # the claim's name
        (session,) = room.sessions.values()
        assert session.subject == "user-ada"
    status, body = await rejected(f"{seat.url}&token={ada}")
    assert status == 403 and "already used" in body  # a seat admits once


async def test_find_match_on_the_websocket_uses_the_connections_identity(
    secured: GameServer,
) -> None:
    token = identity("user-cy", "Cy")
    async with connect(secured.url, token=token, name="whoever", match="duel") as client:
        await client.next_snapshot()
        assert client.matched is not None
        room = secured.rooms[client.matched.room]
        (session,) = room.sessions.values()
        assert (session.subject, session.name) == ("user-cy", "Cy")
    assert secured.metrics.matches == 1


async def test_the_role_claim_makes_a_spectator(secured: GameServer) -> None:
    watcher = identity("user-eve", "Eve", role="spectator")
    async with connect(f"{secured.url}?token={watcher}", role=Role.SPECTATOR) as spectator:
        await spectator.next_snapshot()
        assert spectator.entity_id == 0 and secured.rooms["default"].spectator_count == 1
    async with connect(f"{secured.url}?token={watcher}", join=False) as client:
        await client.send_raw(encode(Join(Role.PLAYER, "Eve")))
        with trio.fail_after(5):
            await client.wait_for(lambda c: c.close_code is not None)
        assert client.close_code == CloseCode.POLICY_VIOLATION
        assert "token is for a spectator" in (client.close_reason or "")
    status, answer, _ = await match(secured, {"mode": "squad"}, f"Bearer {watcher}")
    assert (status, answer["error"]) == (403, "a spectator identity cannot take a seat")
    assert secured.rooms["default"].player_count == 0


async def test_a_dropped_player_resumes_without_a_new_token(
    secured: GameServer, nursery: trio.Nursery
) -> None:
    relay = LatencyRelay("127.0.0.1", secured.port)
    await nursery.start(relay.run)
    token = identity("user-dan", "Dan")
    seat = await find_match(secured.http_url, mode="squad", token=token)
    url = seat.url.replace(f"127.0.0.1:{secured.port}", f"127.0.0.1:{relay.port}")
    async with connect(url, token=token, reconnect=FAST_RETRY) as client:
        await client.next_snapshot()
        entity = client.entity_id
        room = secured.rooms[seat.room]
        room.game.rules._players[entity].score = 5  # type: ignore[attr-defined]  # as if it scored
        client.token = None  # the issuer is out of reach: only the resume token is left
        relay.drop_all()
        with trio.fail_after(5):
            await client.wait_for(lambda c: c.stats.reconnects == 1 and c.connected and c.me)
        assert client.entity_id == entity and not client.errors
        assert room.game.rules._players[entity].score == 5  # type: ignore[attr-defined]
        assert relay.connections == 2 and secured.metrics.resumes == 1
        (session,) = room.sessions.values()
        assert (session.subject, session.name) == ("user-dan", "Dan")
    # A resume token nobody holds (left, expired or made up) is refused at the upgrade.
    status, body = await rejected(f"{secured.url}?resume=not-a-held-player")
    assert status == 401 and "resume token unknown or expired" in body
    assert secured.metrics.resumes_refused == 1


async def test_an_expired_resume_is_refused_and_the_client_comes_back_as_new(
    secured: GameServer, nursery: trio.Nursery
) -> None:
    relay = LatencyRelay("127.0.0.1", secured.port)
    await nursery.start(relay.run)
    slow = ReconnectPolicy(max_attempts=3, base_delay_s=2.5, max_delay_s=2.5, jitter=0.0)
    token = identity("user-fay", "Fay")
    async with connect(relay.url(), token=token, reconnect=slow) as client:
        await client.next_snapshot()
        entity = client.entity_id
        relay.drop_all()  # away longer than resume_grace_s (2 s)
        with trio.fail_after(10):
            await client.wait_for(lambda c: c.stats.reconnects >= 1 and c.connected and c.me)
        assert client.entity_id != entity  # refused at the upgrade, then joined afresh
    assert secured.metrics.resumes_refused == 1 and secured.metrics.resumes == 0


FLOOD = """
import json, socket, sys, time
port, tokens, duration = int(sys.argv[1]), json.loads(sys.argv[2]), float(sys.argv[3])
refused, deadline, i = 0, time.monotonic() + duration, 0
while time.monotonic() < deadline and i < 20000:  # bounded in time and count
    with socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0)) as s:
        s.sendall(
            f"GET /ws?token={tokens[i % len(tokens)]} HTTP/1.1\\r\\nHost: x\\r\\n"
            "Upgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n"
            "Sec-WebSocket-Protocol: gameserver.v2\\r\\n\\r\\n".encode()
        )
        if s.recv(4096).startswith(b"HTTP/1.1 401"):
            refused += 1
    i += 1
print(refused)
"""


async def test_a_flood_of_forged_and_expired_tokens_leaves_players_undisturbed(
    secured: GameServer,
) -> None:
    """From 127.0.0.2: handshakes with forged, expired and alg-none JWTs, as fast as they go."""
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    bad = [
        jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 60}, stranger,
                   algorithm="RS256"),
        identity("x", "X", age_s=3600),
        jwt.encode({"sub": "x", "exp": now + 60}, None, algorithm="none"),
        identity("x", "X")[:-8] + "AAAAAAAA",
    ]  # fmt: skip
    player_token = identity("user-crowd", "Crowd")
    crowd_url = f"{secured.url}?token={player_token}"
    attack: list[subprocess.CompletedProcess[bytes]] = []

    async def flood() -> None:
        # The attacker is another process, as it would be another machine: in this one it
        # would take the server's own thread away, which no network attacker can do.
        command = [sys.executable, "-c", FLOOD, str(secured.port), json.dumps(bad), "1.5"]
        attack.append(await trio.run_process(command, capture_stdout=True, check=True))

    async with (
        players_alongside(secured, url=crowd_url) as crowd,
        crowd.attack(),
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(flood)
        await trio.sleep(0.7)  # the flood is under way (the interpreter starts first)
        innocent = await innocent_requests(secured, token=identity("user-inno", "Inno"))
    refused = int(attack[0].stdout.decode())
    assert innocent.joined and innocent.healthz_status == 200 and innocent.match_status == 200
    assert refused > 100, refused
    assert secured.metrics.refused_token >= refused
    print(f"{refused} forged/expired handshakes refused with 401 while 20 players played")


async def test_without_a_key_the_identity_path_is_closed_to_a_stolen_seat(
    secured: GameServer,
) -> None:
    """A seat token in ?token= (where identities go) is refused: it only opens with its owner."""
    seat = await find_match(secured.http_url, mode="squad", token=identity("user-gil", "Gil"))
    assert seat.token is not None
    status, body = await rejected(f"{secured.url}?token={seat.token}")
    assert status == 401 and "?seat=" in body


async def test_match_failed_reports_the_status(secured: GameServer) -> None:
    with pytest.raises(MatchFailed) as info:
        await find_match(secured.http_url, mode="squad")
    assert info.value.status == 401
