"""Graceful shutdown: every client gets close code 1001 with a reason, within 2 s."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
import trio
from trio_websocket import ConnectionRejected

from gameserver.clients import connect
from gameserver.protocol import CloseCode, Role
from gameserver.server import GameServer
from tests.conftest import make_config

from .httpclient import get


async def test_shutdown_sends_1001_to_everyone(server: GameServer) -> None:
    async with (
        connect(server.url, name="a") as a,
        connect(server.url, name="b") as b,
        connect(server.url, role=Role.SPECTATOR) as s,
    ):
        await s.next_snapshot()
        started = trio.current_time()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(server.shutdown)  # drains for shutdown_timeout_s
            with trio.fail_after(2):
                for client in (a, b, s):
                    await client.wait_for(lambda c: c.close_code is not None)
            assert trio.current_time() - started < 2
        assert [c.close_code for c in (a, b, s)] == [CloseCode.GOING_AWAY] * 3
        assert all(c.close_reason for c in (a, b, s))
        assert not server.connections


async def test_while_draining_the_port_answers_503_then_closes(nursery: trio.Nursery) -> None:
    """A load balancer sees the node drain: 503 to handshakes and /healthz, then no port."""
    server = GameServer(make_config(shutdown_timeout_s=1.0))
    stop, stopped = trio.Event(), trio.Event()

    async def serve_until_stopped(task_status: trio.TaskStatus[None]) -> None:
        async with trio.open_nursery() as serving:  # as `gameserver serve` does on SIGTERM
            await serving.start(server.run)
            task_status.started()
            await stop.wait()
            await server.shutdown()
            serving.cancel_scope.cancel()
        stopped.set()

    await nursery.start(serve_until_stopped)
    async with connect(server.url, name="leaving") as player:
        await player.next_snapshot()
        started = trio.current_time()
        stop.set()
        with trio.fail_after(2):
            await player.wait_for(lambda c: c.close_code is not None)
    assert player.close_code == CloseCode.GOING_AWAY
    await trio.sleep(0.5)  # every connection has gone; the node is still draining
    health = await get(server.port, "/healthz")
    assert health.status == 503 and health.json()["status"] == "draining"
    with pytest.raises(ConnectionRejected) as refused:
        async with connect(server.url, name="late"):
            pass
    assert refused.value.status_code == 503
    assert b"shutting down" in (refused.value.body or b"")
    with trio.fail_after(2):
        await stopped.wait()
    assert trio.current_time() - started >= 1.0  # drained for shutdown_timeout_s
    with pytest.raises(OSError):  # then the port is closed
        await get(server.port, "/healthz")


async def read_until(
    stream: trio.abc.ReceiveStream, pattern: str, lines: list[str]
) -> re.Match[str]:
    """The first line of ``stream`` matching ``pattern``; every line read goes to ``lines``
    (also those after the match in the same read, where a later call finds them)."""
    for line in lines:
        if match := re.search(pattern, line):
            return match
    buffer = b""
    while True:
        chunk = await stream.receive_some()
        if not chunk:
            raise AssertionError("server exited early:\n" + "".join(lines) + buffer.decode())
        buffer += chunk
        *done, buffer = buffer.split(b"\n")
        start = len(lines)
        lines.extend(line.decode() + "\n" for line in done)
        for line in lines[start:]:
            if match := re.search(pattern, line):
                return match


async def test_serve_command_logs_its_url_and_stops_on_sigint() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "gameserver", "serve", "--host", "127.0.0.1", "--port", "0"],
        stderr=subprocess.PIPE,
        env=env,
    )
    lines: list[str] = []
    try:
        assert process.stderr is not None
        with trio.fail_after(20):
            match = await read_until(process.stderr, r"listening on (ws://\S+)", lines)
        async with connect(match.group(1), name="cli") as client:
            await client.next_snapshot()
            process.send_signal(signal.SIGINT)
            with trio.fail_after(2):
                await client.wait_for(lambda c: c.close_code is not None)
            assert client.close_code == CloseCode.GOING_AWAY
        with trio.fail_after(5):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
