"""Identity keys from a JWKS URL: fetched over real HTTP (loopback), rotated, kept on failure."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from gameserver.auth import JwksSource
from tests.unit.test_auth import EC_KEY, RSA_KEY, jwks


class _Provider(http.server.BaseHTTPRequestHandler):
    """Serves whatever the test put in ``body`` (an identity provider's JWKS endpoint)."""

    body: bytes = b""
    status = 200

    def do_GET(self) -> None:
        self.send_response(type(self).status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(type(self).body)))
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def provider() -> Iterator[tuple[str, type[_Provider]]]:
    handler = type("Provider", (_Provider,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json", handler
    server.shutdown()
    server.server_close()


def document(tmp_path: Path, **keys: Any) -> bytes:
    return Path(jwks(tmp_path / "jwks.json", **keys)).read_bytes()


async def test_keys_are_fetched_rotated_and_kept_when_the_provider_fails(
    provider: tuple[str, type[_Provider]], tmp_path: Path
) -> None:
    url, handler = provider
    source = JwksSource(url, refresh_s=3600, timeout_s=2)
    assert source.keys is None  # until the first fetch, tokens are refused with 503
    handler.body = document(tmp_path, rsa1=RSA_KEY)
    await source.refresh()
    assert source.keys is not None and [key.kid for key in source.keys] == ["rsa1"]
    # The provider rotates: a new key is published next to the old one.
    handler.body = document(tmp_path, rsa1=RSA_KEY, ec2=EC_KEY)
    await source.refresh()
    assert sorted(key.kid for key in source.keys or []) == ["ec2", "rsa1"]
    # A broken answer, an error status, an oversized one: the last good keys stay.
    for body, status in ((b"not json", 200), (b"{}", 500), (b"x" * 2_000_000, 200)):
        handler.body, handler.status = body, status
        await source.refresh()
        assert sorted(key.kid for key in source.keys or []) == ["ec2", "rsa1"]


async def test_an_unreachable_provider_leaves_no_keys_and_does_not_hang(tmp_path: Path) -> None:
    with trio.socket.socket() as sock:  # a port nobody listens on
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = JwksSource(f"http://127.0.0.1:{port}/jwks.json", refresh_s=3600, timeout_s=1)
    with trio.fail_after(5):
        await source.refresh()
    assert source.keys is None
