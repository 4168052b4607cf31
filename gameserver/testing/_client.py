"""A small real client for a game's tests: ``connect_game`` joins a server over WebSocket.

Theory of operation
-------------------
``connect_game`` opens a TCP connection, records every byte that arrives on it (the
HTTP upgrade response, WebSocket frame headers, pings: everything, in ``raw``), and
speaks the protocol through trio-websocket with the subprotocol ``gameserver.v2``. It
sends a Join and waits for the Welcome, whose game description
(``GameSchema.from_description``) is all the client knows about the game: entities,
events, input and commands are decoded and encoded with it, as a client in any language
would. A receive task then applies each snapshot to the mirror (``wire``, by
``protocol.apply``) and decodes its events; a snapshot that does not fit the mirror
raises (``DeltaError``) and so fails the test, as does any undecodable message.

A test reads ``entities`` (named objects), ``events`` (each with its tick), ``errors``
and ``close_code``; it sends ``send_input`` (encoded with the input schema),
``send_command`` (any object whose class has a command's name and fields: the game's
own classes work) and ``send_raw``; it waits with ``wait_for``; ``run_bot`` plays a
game's ``Bot`` from what this client sees.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import attrs
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, wrap_client_stream

from gameserver.errors import GameServerError
from gameserver.protocol import (
    SUBPROTOCOL,
    Command,
    DeltaError,
    Error,
    Input,
    Join,
    Role,
    Snapshot,
    Welcome,
    apply,
    decode_server_message,
    encode,
)
from gameserver.rules import Act, Bot, BotView, GameSchema

WAIT_S = 10.0  # how long wait_for waits by default (mock time under autojump_clock)


class ClientClosed(GameServerError):
    """The connection closed (or never joined) while a test waited on it."""

    def __init__(self, code: int | None, reason: str | None) -> None:
        super().__init__(f"connection closed: {code} {reason or ''}".rstrip())
        self.code = code
        self.reason = reason


@attrs.frozen
class ReceivedEvent:
    """An event as the client decoded it, with the tick it happened at."""

    tick: int
    event: Any  # an instance of the class the game's description names

    @property
    def name(self) -> str:
        return type(self.event).__name__


class RecordingStream(trio.abc.HalfCloseableStream):
    """A socket stream that keeps a copy of every chunk it receives."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.socket = stream.socket
        self.chunks: list[tuple[float, bytes]] = []  # (trio time, bytes), in arrival order

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        data = await self.stream.receive_some(max_bytes)
        if data:
            self.chunks.append((trio.current_time(), bytes(data)))
        return data

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self.stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.stream.wait_send_all_might_not_block()

    async def send_eof(self) -> None:
        await self.stream.send_eof()

    async def aclose(self) -> None:
        await self.stream.aclose()


class KitClient:
    """One connection to a game server, joined as a player or a spectator."""

    def __init__(self, ws: WebSocketConnection, stream: RecordingStream, role: Role) -> None:
        self._ws = ws
        self._stream = stream
        self.role = role
        self.welcome: Welcome | None = None
        self.schema: GameSchema | None = None  # rebuilt from the Welcome's description
        self.wire: dict[int, tuple[Any, ...]] = {}  # the mirror: entity id -> wire tuple
        self.tick = 0  # the mirror's tick
        self.ack_seq = 0  # newest input seq the server says it consumed
        self.snapshots = 0
        self.events: list[ReceivedEvent] = []
        self.errors: list[Error] = []
        self.messages: list[bytes] = []  # every message's payload, in order
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._entities: dict[int, Any] | None = None
        self._events_taken = 0
        self._seq = 0
        self._changed = trio.Event()

    # -- what the client holds ---------------------------------------------------------

    @property
    def me(self) -> int:
        """The entity this player controls (0: none, and for spectators)."""
        return self.welcome.entity_id if self.welcome is not None else 0

    @property
    def game(self) -> str:
        return self.welcome.game if self.welcome is not None else ""

    @property
    def entities(self) -> dict[int, Any]:
        """The mirror decoded into the game's named entity objects."""
        if self._entities is None:
            schema = self._schema()
            self._entities = {eid: schema.entity_from_wire(w) for eid, w in self.wire.items()}
        return self._entities

    @property
    def raw(self) -> list[bytes]:
        """Every chunk of bytes received on the socket, the handshake's answer first."""
        return [data for _, data in self._stream.chunks]

    @property
    def raw_chunks(self) -> list[tuple[float, bytes]]:
        """``raw`` with the trio time each chunk arrived at."""
        return list(self._stream.chunks)

    @property
    def bytes_received(self) -> int:
        return sum(len(data) for _, data in self._stream.chunks)

    @property
    def closed(self) -> bool:
        return self._ws.closed is not None

    def take_events(self) -> list[ReceivedEvent]:
        """Events received since the last call."""
        taken = self.events[self._events_taken :]
        self._events_taken = len(self.events)
        return taken

    def bot_view(self, events: list[ReceivedEvent] | None = None) -> BotView:
        """What a bot sees now; ``events``: default, those since the last ``take_events``."""
        given = self.take_events() if events is None else events
        welcome = self.welcome
        if welcome is None:
            raise ClientClosed(None, "no Welcome yet")
        size = (float(welcome.world_width), float(welcome.world_height))
        return BotView(
            self.tick,
            self.me,
            self.entities,
            [e.event for e in given],
            tick_rate=welcome.tick_rate,
            world_size=size if welcome.world_width or welcome.world_height else None,
            params=dict(welcome.params),
        )

    # -- sending -----------------------------------------------------------------------

    async def send_input(self, value: object) -> int:
        """Send ``value`` (an object with the input's fields) as the next Input; its seq."""
        schema = self._schema().input
        if schema is None:
            raise TypeError(f"{self.game} takes no input; send commands")
        self._seq += 1
        fields = tuple(schema.to_wire(value))
        await self.send_raw(encode(Input(self._seq, fields, self.tick)))
        return self._seq

    async def send_command(self, command: object) -> None:
        """Send a command: the game's declared command of the same class name and fields."""
        name = type(command).__name__
        for message in self._schema().commands.messages:
            if message.name == name:
                await self.send_raw(encode(Command(tuple(message.to_wire(command)))))
                return
        raise TypeError(f"{self.game} declares no command named {name}")

    async def send_raw(self, data: bytes | str) -> None:
        await self._ws.send_message(data)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        await self._ws.aclose(code, reason)

    # -- waiting -----------------------------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[KitClient], bool], *, timeout_s: float = WAIT_S
    ) -> None:
        """Until ``predicate(self)`` holds; ``ClientClosed`` if the connection ends first."""
        with trio.fail_after(timeout_s):
            while not predicate(self):
                if self.close_code is not None:
                    raise ClientClosed(self.close_code, self.close_reason)
                await self._changed.wait()

    async def next_snapshot(self, *, timeout_s: float = WAIT_S) -> None:
        count = self.snapshots
        await self.wait_for(lambda c: c.snapshots > count, timeout_s=timeout_s)

    async def run_bot(
        self,
        bot: Bot,
        *,
        until: Callable[[KitClient], bool],
        timeout_s: float = WAIT_S,
    ) -> None:
        """Play ``bot`` (asked after each snapshot) until ``until(self)`` or a timeout."""
        with trio.fail_after(timeout_s):
            while not until(self):
                act: Act = bot.act(self.bot_view())
                if act.input is not None:
                    await self.send_input(act.input)
                for command in act.commands:
                    await self.send_command(command)
                await self.next_snapshot(timeout_s=timeout_s)

    # -- receiving ---------------------------------------------------------------------

    def _schema(self) -> GameSchema:
        if self.schema is None:
            raise RuntimeError("no game description: not joined, or joined with protocol v1")
        return self.schema

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def receive_forever(self) -> None:
        try:
            while True:
                data = await self._ws.get_message()
                self.messages.append(data if isinstance(data, bytes) else data.encode())
                self._receive(decode_server_message(data))
                self._notify()
        except ConnectionClosed as closed:
            reason = closed.reason
            self.close_code = reason.code if reason is not None else 1006
            self.close_reason = reason.reason if reason is not None else None
            self._notify()

    def _receive(self, message: object) -> None:
        if isinstance(message, Snapshot):
            self._on_snapshot(message)
        elif isinstance(message, Welcome):
            self.welcome = message
            if message.schema is not None:
                self.schema = GameSchema.from_description(message.schema)
        elif isinstance(message, Error):
            self.errors.append(message)

    def _on_snapshot(self, snapshot: Snapshot) -> None:
        if snapshot.baseline_tick == 0:
            base: dict[int, tuple[Any, ...]] = {}
        elif snapshot.baseline_tick == self.tick:
            base = self.wire
        else:
            raise DeltaError(
                f"snapshot {snapshot.tick} is against tick {snapshot.baseline_tick}, "
                f"the mirror is at {self.tick}"
            )
        self.wire = apply(base, snapshot.changes, snapshot.removed)
        self._entities = None
        self.tick = snapshot.tick
        self.ack_seq = snapshot.ack_seq
        self.snapshots += 1
        events = self._schema().events
        for tick, *wire in snapshot.events:
            self.events.append(ReceivedEvent(tick, events.from_wire(wire)))


def _role(role: Role | str) -> Role:
    return role if isinstance(role, Role) else Role[role.upper()]


@asynccontextmanager
async def connect_game(
    url: str,
    name: str = "player",
    role: Role | str = Role.PLAYER,
    *,
    timeout_s: float = WAIT_S,
) -> AsyncIterator[KitClient]:
    """A client joined at ``url`` (``ws://host:port/path``) as ``role``; closed on exit.

    Returns once the Welcome has arrived (``ClientClosed`` if the server refused).
    """
    parts = urlsplit(url)
    if parts.scheme != "ws" or parts.hostname is None or parts.port is None:
        raise ValueError(f"connect_game takes ws://host:port/path URLs, got {url!r}")
    resource = parts.path or "/"
    if parts.query:
        resource += f"?{parts.query}"
    async with trio.open_nursery() as nursery:
        with trio.fail_after(timeout_s):
            stream = RecordingStream(await trio.open_tcp_stream(parts.hostname, parts.port))
            ws = await wrap_client_stream(
                nursery,
                stream,  # type: ignore[arg-type]  # any trio stream works
                parts.hostname,
                resource,
                subprotocols=[SUBPROTOCOL],
            )
        client = KitClient(ws, stream, _role(role))
        nursery.start_soon(client.receive_forever)
        try:
            await ws.send_message(encode(Join(client.role, name)))
            await client.wait_for(lambda c: c.welcome is not None, timeout_s=timeout_s)
            yield client
        finally:
            with trio.move_on_after(timeout_s) as scope:
                scope.shield = True
                await ws.aclose()
            nursery.cancel_scope.cancel()
