"""With a secret configured, only holders of a valid join token get in, as who the token says."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import trio
from trio_websocket import ConnectionRejected

from gameserver.clients import connect
from gameserver.protocol import CloseCode, Input, Role, encode
from gameserver.server import GameServer
from gameserver.tokens import issue_token
from tests.conftest import make_config

SECRET = "correct horse battery staple, stapled"


@pytest.fixture
async def secured(nursery: trio.Nursery) -> GameServer:
    server = GameServer(make_config(join_secret=SECRET))
    await nursery.start(server.run)
    return server


def token(
    role: Role = Role.PLAYER, *, room: str = "default", name: str = "Ann", age_s: float = 0
) -> str:
    """A token issued ``age_s`` ago, valid for a minute from then."""
    return issue_token(
        SECRET.encode(), subject="user-1", name=name, role=role, room=room, ttl_s=60,
        now_s=time.time() - age_s,
    )  # fmt: skip


async def refused(url: str) -> tuple[int, bytes]:
    with pytest.raises(ConnectionRejected) as info:
        async with connect(url):
            pass
    return info.value.status_code, info.value.body or b""


async def test_a_valid_token_gets_in_under_the_tokens_name(secured: GameServer) -> None:
    async with connect(f"{secured.url}?token={token(name='Ann')}", name="Mallory") as client:
        await client.next_snapshot()
        assert client.me is not None
        (session,) = secured.rooms["default"].sessions.values()
        assert session.name == "Ann"  # not the name the client asked for


async def test_missing_expired_tampered_replayed_and_foreign_tokens_are_refused(
    secured: GameServer,
) -> None:
    url = secured.url
    status, body = await refused(url)
    assert status == 401 and b"token" in body
    status, body = await refused(f"{url}?token={token(age_s=120)}")
    assert status == 401 and b"expired" in body
    good = token()
    status, body = await refused(f"{url}?token={good[:-3]}AAA")
    assert status == 401 and b"signature" in body
    async with connect(f"{url}?token={good}"):
        pass
    status, body = await refused(f"{url}?token={good}")
    assert (status, body) == (403, b"token already used\n")
    status, body = await refused(f"{url}?token={token(room='elsewhere')}")
    assert status == 403 and b"room" in body
    assert secured.metrics.refused_token == 5


async def test_a_development_identity_token_joins_any_room_under_its_name(
    secured: GameServer,
) -> None:
    env = {**os.environ, "GAMESERVER_SECRET": SECRET}
    out = subprocess.run(
        [sys.executable, "-m", "gameserver", "token", "--subject", "u7", "--name", "Cleo"],
        capture_output=True, text=True, env=env, check=True,
    ).stdout.strip()  # fmt: skip
    for _ in range(2):  # an identity, not a single-use ticket
        async with connect(f"{secured.url}?token={out}", name="Mallory") as client:
            await client.next_snapshot()
            (session,) = secured.rooms["default"].sessions.values()
            assert (session.subject, session.name) == ("u7", "Cleo")


async def test_the_join_role_must_be_the_tokens(secured: GameServer) -> None:
    spectator_token = token(Role.SPECTATOR)
    async with connect(
        f"{secured.url}?token={spectator_token}", role=Role.PLAYER, join=False
    ) as client:
        await client.send_raw(encode_join(Role.PLAYER))
        with trio.fail_after(5):
            await client.wait_for(lambda c: c.close_code is not None)
        assert client.close_code == CloseCode.POLICY_VIOLATION
        assert "token is for a spectator" in (client.close_reason or "")
    async with connect(f"{secured.url}?token={token(Role.SPECTATOR)}", role=Role.SPECTATOR) as s:
        await s.send_raw(encode(Input(1, (8, 0), 0)))  # spectators still cannot act
        with trio.fail_after(5):
            await s.wait_for(lambda c: bool(c.errors))


def encode_join(role: Role) -> bytes:
    from gameserver.protocol import Join

    return encode(Join(role, "x"))


def test_the_token_command_issues_tokens_the_server_accepts() -> None:
    env = {**os.environ, "GAMESERVER_SECRET": SECRET}
    out = subprocess.run(
        [sys.executable, "-m", "gameserver", "token", "--subject", "u9", "--name", "Bo",
         "--room", "default"],
        capture_output=True, text=True, env=env, check=True,
    ).stdout.strip()  # fmt: skip
    from gameserver.tokens import verify_token

    claims = verify_token(SECRET.encode(), out, now_s=time.time(), room="default")
    assert (claims.subject, claims.name, claims.role) == ("u9", "Bo", Role.PLAYER)
