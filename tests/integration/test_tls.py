"""--certfile/--keyfile: the server speaks wss:// (certificate made in the test)."""

from __future__ import annotations

import re
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import trio
import trustme
from trio_websocket import HandshakeError

from gameserver.clients import connect
from gameserver.protocol import CloseCode, Join, Role, encode
from gameserver.server import GameServer
from tests.conftest import make_config

from .httpclient import http_client
from .rawws import FrameReader, client_frame, handshake


@pytest.fixture
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def pem_files(authority: trustme.CA, tmp_path: Path) -> tuple[str, str]:
    """(certfile, keyfile) for 127.0.0.1, signed by ``authority``."""
    cert = authority.issue_cert("127.0.0.1")
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    return str(certfile), str(keyfile)


def client_context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    authority.configure_trust(context)
    return context


async def test_players_play_over_wss(
    nursery: trio.Nursery, authority: trustme.CA, pem_files: tuple[str, str]
) -> None:
    certfile, keyfile = pem_files
    server = GameServer(make_config(certfile=certfile, keyfile=keyfile))
    await nursery.start(server.run)
    assert server.url.startswith("wss://127.0.0.1:")
    context = client_context(authority)
    async with (
        connect(server.url, name="a", ssl_context=context) as a,
        connect(server.url, role=Role.SPECTATOR, ssl_context=context) as s,
    ):
        await a.send_input(8)
        with trio.fail_after(5):
            await a.wait_for(lambda c: c.ack_seq == 1)
            await s.wait_for(lambda c: a.entity_id in c.world)
    # A client that does not trust the certificate does not get in.
    with pytest.raises(HandshakeError):
        async with connect(server.url, ssl_context=ssl.create_default_context()):
            pass
    async with connect(server.url, name="b", ssl_context=context) as b:
        await server.shutdown()
        with trio.fail_after(3):
            await b.wait_for(lambda c: c.close_code is not None)
        assert b.close_code == CloseCode.GOING_AWAY


async def test_the_http_side_speaks_https_on_the_same_port(
    nursery: trio.Nursery, authority: trustme.CA, pem_files: tuple[str, str]
) -> None:
    certfile, keyfile = pem_files
    server = GameServer(make_config(certfile=certfile, keyfile=keyfile))
    await nursery.start(server.run)
    assert server.http_url.startswith("https://127.0.0.1:")
    async with http_client(server.port, tls=client_context(authority)) as client:
        health = await client.request("GET", "/healthz")
        rooms = await client.request("GET", "/api/rooms")  # the same TLS session, kept alive
    assert health.status == 200 and health.json()["status"] == "ok"
    assert rooms.status == 200 and rooms.json()[0]["name"] == "default"


async def test_serve_command_logs_a_wss_url(
    authority: trustme.CA, pem_files: tuple[str, str]
) -> None:
    certfile, keyfile = pem_files
    process = subprocess.Popen(
        [sys.executable, "-m", "gameserver", "serve", "--port", "0",
         "--certfile", certfile, "--keyfile", keyfile],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if match := re.search(r"listening on (\S+)", line):
                assert match.group(1).startswith("wss://127.0.0.1:")
                break
        else:
            raise AssertionError("no listening line")
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_framing_violations_over_tls_get_their_close_code(
    nursery: trio.Nursery, authority: trustme.CA, pem_files: tuple[str, str]
) -> None:
    certfile, keyfile = pem_files
    server = GameServer(make_config(certfile=certfile, keyfile=keyfile))
    await nursery.start(server.run)
    stream, rest = await handshake(server.port, ssl_context=client_context(authority))
    reader = FrameReader(stream, rest)
    await stream.send_all(client_frame(encode(Join(Role.PLAYER, "raw"))))
    with trio.fail_after(5):
        assert (await reader.next() or (0,))[0] == 2  # the welcome, decrypted
        await stream.send_all(client_frame(b"\x00", rsv=0b100))
        assert await reader.close_code() == CloseCode.PROTOCOL_ERROR
