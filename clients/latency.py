"""A TCP relay that adds latency and jitter: test netcode on one machine.

Theory of operation: each accepted connection is paired with a connection to
the target. Per direction, a reader stamps every chunk with a delivery time
``now + latency ± jitter`` (never earlier than the previous chunk's, because
TCP keeps order) and a writer sends each chunk when its time comes. Chunks
in flight are bounded (``max_chunks_in_flight``): past that the reader waits,
so the relay pushes back like a real network instead of buffering without
limit. ``drop_all()`` cuts every relayed connection at once, like a network
failure.
"""

from __future__ import annotations

import random

import trio

MAX_CHUNK_BYTES = 65536


class LatencyRelay:
    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        latency_s: float = 0.0,
        jitter_s: float = 0.0,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        max_chunks_in_flight: int = 1024,
        seed: int | None = None,
    ) -> None:
        if jitter_s > latency_s:
            raise ValueError("jitter_s must not exceed latency_s")
        self.target = (target_host, target_port)
        self.latency_s = latency_s
        self.jitter_s = jitter_s
        self.listen = (listen_host, listen_port)
        self.max_chunks_in_flight = max_chunks_in_flight
        self.port = 0
        self.connections = 0
        self._rng = random.Random(seed)
        self._scopes: set[trio.CancelScope] = set()

    def url(self, path: str = "/ws") -> str:
        return f"ws://{self.listen[0]}:{self.port}{path}"

    def drop_all(self) -> None:
        """Cut every relayed connection now (both sides see the TCP connection end)."""
        for scope in list(self._scopes):
            scope.cancel()

    async def run(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(self.listen[1], host=self.listen[0])
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started(self.port)
        await trio.serve_listeners(self._relay, listeners)

    async def _relay(self, client: trio.SocketStream) -> None:
        try:
            server = await trio.open_tcp_stream(*self.target)
        except OSError:
            await client.aclose()
            return
        self.connections += 1
        with trio.CancelScope() as scope:
            self._scopes.add(scope)
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._direction, client, server, nursery.cancel_scope)
                    nursery.start_soon(self._direction, server, client, nursery.cancel_scope)
            finally:
                self._scopes.discard(scope)
        with trio.CancelScope(shield=True):
            await client.aclose()
            await server.aclose()

    def _delivery_time(self, previous: float) -> float:
        delay = self.latency_s + self._rng.uniform(-self.jitter_s, self.jitter_s)
        return max(previous, trio.current_time() + delay)

    async def _direction(
        self, source: trio.SocketStream, sink: trio.SocketStream, done: trio.CancelScope
    ) -> None:
        send, receive = trio.open_memory_channel[tuple[float, bytes]](self.max_chunks_in_flight)

        async def writer() -> None:
            try:
                async for due, chunk in receive:
                    await trio.sleep_until(due)
                    await sink.send_all(chunk)
                await sink.send_eof()
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                done.cancel()  # the sink reset: this relayed connection is over

        async with trio.open_nursery() as nursery:
            nursery.start_soon(writer)
            async with send:
                last = 0.0
                try:
                    while chunk := await source.receive_some(MAX_CHUNK_BYTES):
                        last = self._delivery_time(last)
                        await send.send((last, chunk))
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                    pass  # the source reset: end this direction like an EOF would
        done.cancel()
