"""The swarm against a server with authentication on: tokens handed over in a file, or minted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from gameserver.auth import issue_identity_token
from gameserver.server import GameServer
from tests.conftest import make_config

from .httpclient import get

SECRET = "the-servers-own-secret-of-32-bytes!"
ISSUER, AUDIENCE = "https://id.example.com", "the-game"


@pytest.fixture
async def auth_server(nursery: trio.Nursery) -> AsyncIterator[GameServer]:
    server = GameServer(make_config(join_secret=SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE))
    await nursery.start(server.run)
    yield server


def identity(subject: str, name: str, role: str = "player") -> str:
    return issue_identity_token(
        SECRET.encode(), subject=subject, name=name, role=role, ttl_s=600, now_s=time.time(),
        issuer=ISSUER, audience=AUDIENCE,
    )  # fmt: skip


async def swarm_seen(
    server: GameServer, *args: str, env: dict[str, str] | None = None
) -> tuple[int, dict[str, object], str, set[str]]:
    """Run ``gameserver swarm``; (status, summary, stderr, player names the server showed)."""
    seen: set[str] = set()
    result: list[subprocess.CompletedProcess[bytes]] = []

    async def run() -> None:
        result.append(
            await trio.run_process(
                [sys.executable, "-m", "gameserver", "swarm", "--json", *args],
                capture_stdout=True,
                capture_stderr=True,
                check=False,
                env={**os.environ, **(env or {})},
            )
        )

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run)
            while not result:
                roster = (await get(server.port, "/api/roster?room=default")).json()["roster"]
                seen |= {player["name"] for player in roster}
                await trio.sleep(0.1)
    (done,) = result
    out = done.stdout.decode().strip()
    return done.returncode, json.loads(out) if out else {}, done.stderr.decode(), seen


@pytest.mark.parametrize("lean", [False, True], ids=["swarm", "lean"])
async def test_bots_mint_their_own_identity_tokens(auth_server: GameServer, lean: bool) -> None:
    common = ["--url", auth_server.url, "--bots", "4", "--duration", "2"]
    common += ["--lean"] if lean else []
    issuer = ["--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE]
    code, summary, err, seen = await swarm_seen(
        auth_server, *common, *issuer, env={"GAMESERVER_SECRET": SECRET}
    )
    assert code == 0, err
    assert summary["connected"] == 4 and summary["failed"] == 0, summary["errors"]
    assert seen == {f"bot-{i}" for i in range(4)}  # each under its own identity's name
    # Without a key the same bots are refused at the door (401).
    code, summary, _, _ = await swarm_seen(auth_server, *common, env={"GAMESERVER_SECRET": ""})
    assert code == 1 and summary["failed"] == 4


@pytest.mark.parametrize(
    "extra", [["--procs", "2"], ["--lean", "--spectators", "1"]], ids=["procs", "lean"]
)
async def test_bots_carry_the_tokens_of_a_file(
    auth_server: GameServer, tmp_path: Path, extra: list[str]
) -> None:
    names = [f"member-{i}" for i in range(4)]
    lines = [identity(f"account-{i}", name) for i, name in enumerate(names)]
    lines.append(identity("watcher", "watcher", role="spectator"))  # used only with spectators
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("# issued for the load test\n" + "\n".join(lines) + "\n\n")
    args = ["--url", auth_server.url, "--bots", "4", "--duration", "2", "--tokens", str(tokens)]
    code, summary, err, seen = await swarm_seen(auth_server, *args, *extra)
    assert code == 0, err
    spectators = 1 if "--spectators" in extra else 0
    assert summary["connected"] == 4 + spectators and summary["failed"] == 0, summary["errors"]
    assert seen == set(names)


async def test_matchmaking_with_authentication_places_bots_with_their_identities(
    auth_server: GameServer,
) -> None:
    code, summary, err, _ = await swarm_seen(
        auth_server, "--url", auth_server.http_url, "--match", "squad", "--bots", "3",
        "--duration", "1.5", "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE,
        env={"GAMESERVER_SECRET": SECRET},
    )  # fmt: skip
    assert code == 0, err
    assert summary["connected"] == 3 and summary["rooms"] and summary["failed"] == 0


async def test_a_token_file_short_of_tokens_stops_the_run(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(identity("a", "a") + "\n")
    result = await trio.run_process(
        [sys.executable, "-m", "gameserver", "swarm", "--url", "ws://127.0.0.1:9/ws",
         "--bots", "2", "--tokens", str(tokens)],
        capture_stderr=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert b"holds 1 tokens for 2 bots" in result.stderr
