"""A minimal trio client: connect as player or spectator, send inputs, mirror the world.

The mirror is the receiver's half of the snapshot delta protocol: each
snapshot names the baseline tick it was diffed against, which must be the
tick the mirror holds (or 0 for a full snapshot), and ``protocol.apply``
turns the mirror into the new state.
"""

from __future__ import annotations

import collections
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

from gameserver.protocol import (
    SUBPROTOCOL,
    DeltaError,
    Error,
    InputFrame,
    Join,
    Ping,
    Pong,
    ProtocolError,
    Role,
    Snapshot,
    Welcome,
    WireState,
    apply,
    decode_server_message,
    encode,
)

EVENT_HISTORY = 256


class ClientClosed(Exception):
    """The server closed the connection (``code``/``reason`` say why)."""

    def __init__(self, code: int | None, reason: str | None) -> None:
        super().__init__(f"connection closed: {code} {reason or ''}".strip())
        self.code = code
        self.reason = reason


class GameClient:
    def __init__(self, ws: WebSocketConnection, role: Role) -> None:
        self.ws = ws
        self.role = role
        self.welcome: Welcome | None = None
        self.world: dict[int, tuple[int, ...]] = {}
        self.tick = 0  # tick of the mirrored world
        self.ack_seq = 0  # newest input seq the server says it consumed
        self.snapshots_received = 0
        self.bytes_received = 0
        self.bytes_sent = 0
        self.events: collections.deque[tuple[int, ...]] = collections.deque(maxlen=EVENT_HISTORY)
        self.errors: list[Error] = []
        self.rtt_s: float | None = None
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._seq = 0
        self._changed = trio.Event()
        self._welcomed = trio.Event()

    @property
    def entity_id(self) -> int:
        return self.welcome.entity_id if self.welcome else 0

    @property
    def me(self) -> tuple[int, ...] | None:
        return self.world.get(self.entity_id)

    # -- sending -------------------------------------------------------------

    async def _send(self, data: bytes) -> None:
        self.bytes_sent += len(data)
        await self.ws.send_message(data)

    async def send_raw(self, data: bytes | str) -> None:
        """Send arbitrary bytes or text (for tests of the server's defences)."""
        await self.ws.send_message(data)

    async def send_input(self, buttons: int, aim: int = 0) -> int:
        """Send the next input frame; returns its sequence number."""
        self._seq += 1
        await self._send(encode(InputFrame(self._seq, buttons, aim, self.tick)))
        return self._seq

    async def ping(self) -> None:
        await self._send(encode(Ping(time.monotonic_ns() // 1_000_000)))

    # -- receiving -----------------------------------------------------------

    async def wait_for(self, predicate: Callable[[GameClient], bool]) -> None:
        """Wait until ``predicate(self)`` holds; raise ``ClientClosed`` if the connection ends."""
        while not predicate(self):
            if self.close_code is not None:
                raise ClientClosed(self.close_code, self.close_reason)
            await self._changed.wait()

    async def next_snapshot(self) -> None:
        count = self.snapshots_received
        await self.wait_for(lambda c: c.snapshots_received > count)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def _on_snapshot(self, snapshot: Snapshot) -> None:
        if snapshot.baseline_tick == 0:
            base: WireState = {}
        elif snapshot.baseline_tick == self.tick:
            base = self.world
        else:
            raise DeltaError(
                f"snapshot {snapshot.tick} is against tick {snapshot.baseline_tick}, "
                f"mirror has {self.tick}"
            )
        self.world = apply(base, snapshot.changes, snapshot.removed)
        self.tick = snapshot.tick
        self.ack_seq = snapshot.ack_seq
        self.events.extend(snapshot.events)
        self.snapshots_received += 1

    def handle(self, data: bytes | str) -> None:
        self.bytes_received += len(data)
        message = decode_server_message(data)
        if isinstance(message, Snapshot):
            self._on_snapshot(message)
        elif isinstance(message, Pong):
            self.rtt_s = time.monotonic_ns() / 1e9 - message.nonce / 1000
        elif isinstance(message, Welcome):
            self.welcome = message
            self._welcomed.set()
        elif isinstance(message, Error):
            self.errors.append(message)

    async def _receive_loop(self) -> None:
        try:
            while True:
                self.handle(await self.ws.get_message())
                self._notify()
        except ConnectionClosed as exc:
            self.close_code = exc.reason.code if exc.reason else 1006
            self.close_reason = exc.reason.reason if exc.reason else None
        except ProtocolError as exc:
            self.close_code, self.close_reason = exc.code, exc.reason
            await self.ws.aclose(exc.code, exc.reason)
        self._welcomed.set()
        self._notify()

    async def close(self) -> None:
        await self.ws.aclose()


@contextlib.asynccontextmanager
async def connect(
    url: str,
    *,
    role: Role = Role.PLAYER,
    name: str = "player",
    join: bool = True,
    subprotocols: list[str] | None = None,
    connect_timeout_s: float = 5.0,
) -> AsyncIterator[GameClient]:
    """Connect, join (unless ``join=False``) and wait for the welcome."""
    async with open_websocket_url(
        url,
        subprotocols=[SUBPROTOCOL] if subprotocols is None else subprotocols,
        connect_timeout=connect_timeout_s,
        disconnect_timeout=connect_timeout_s,
        max_message_size=4 * 1024 * 1024,
    ) as ws:
        client = GameClient(ws, role)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(client._receive_loop)
            if join:
                await client._send(encode(Join(role, name)))
                with trio.fail_after(connect_timeout_s):
                    await client._welcomed.wait()
                if client.welcome is None:
                    raise ClientClosed(client.close_code, client.close_reason)
            try:
                yield client
            finally:
                nursery.cancel_scope.cancel()
