"""A blocking facade over the trio client, for scripts and notebooks.

Theory of operation: ``connect_sync`` starts one background thread that runs trio
(``trio.run``) and, in it, the ordinary ``connect()`` client; the caller's thread waits
until it is welcomed (or refused: the error is raised in the caller's thread). From then
on every call crosses into the trio thread (``trio.from_thread``) and waits for the
answer, so all of the client's state is only ever touched by trio's thread: reads come
back as copies taken there (``world()``), never as live objects that change underfoot.
``close()`` (or leaving the ``with`` block) leaves cleanly and joins the thread.

There is one implementation of the protocol, the trio client's; this module only moves
calls between threads. It must not be used from inside a trio run (it would block it).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar, Unpack

import trio

from ._client import ClientOptions, GameClient, connect
from .session import ReceivedEvent

__all__ = ["SyncClient", "connect_sync"]

T = TypeVar("T")
WAIT_S = 10.0  # how long the blocking waits wait by default
JOIN_THREAD_S = 10.0  # how long close() waits for the trio thread to finish


class SyncClient:
    """A connected client driven from ordinary (non-trio) code; see ``connect_sync``."""

    def __init__(self, url: str, **options: Unpack[ClientOptions]) -> None:
        self._url = url
        self._options = options
        self._client: GameClient | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._stop: trio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        # A daemon: a script that forgets close() still exits (its connection then drops).
        self._thread = threading.Thread(
            target=self._thread_main, name="gameserver-client", daemon=True
        )

    # -- the trio thread ------------------------------------------------------

    def _thread_main(self) -> None:
        try:
            trio.run(self._main)
        except BaseException as exc:  # handed to the caller's thread
            self._error = exc
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        self._stop = trio.Event()
        async with connect(self._url, **self._options) as client:
            self._client = client
            self._ready.set()
            await self._stop.wait()

    def _start(self, timeout_s: float) -> None:
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise TimeoutError(f"no welcome from {self._url} within {timeout_s} s")
        if self._error is not None:
            raise self._error
        if self._client is None:
            raise ConnectionError(f"{self._url}: the client ended before it was welcomed")

    def _call(self, function: Callable[[GameClient], Awaitable[T]]) -> T:
        client, token = self._client, self._token
        if client is None or token is None or not self._thread.is_alive():
            raise ConnectionError("the client is closed")

        async def run() -> T:
            return await function(client)

        return trio.from_thread.run(run, trio_token=token)

    def _read(self, function: Callable[[GameClient], T]) -> T:
        client, token = self._client, self._token
        if client is None or token is None or not self._thread.is_alive():
            raise ConnectionError("the client is closed")
        return trio.from_thread.run_sync(function, client, trio_token=token)

    # -- reading --------------------------------------------------------------

    @property
    def entity_id(self) -> int:
        return self._read(lambda c: c.entity_id)

    @property
    def tick(self) -> int:
        return self._read(lambda c: c.tick)

    @property
    def me(self) -> Any:
        """The own entity as the server last sent it (None before it arrives)."""
        return self._read(lambda c: c.me)

    @property
    def game(self) -> str:
        return self._read(lambda c: c.welcome.game if c.welcome is not None else "")

    def world(self) -> dict[int, Any]:
        """A copy of the world: entity id -> the game's named entity object."""
        return self._read(lambda c: dict(c.entities))

    def events(self, since_tick: int = 0) -> list[ReceivedEvent]:
        """The events kept that happened after ``since_tick``."""
        return self._read(lambda c: c.take_events(since_tick))

    def make_input(self, **fields: object) -> Any:
        """The game's input with these fields (the others neutral)."""
        return self._read(lambda c: c.make_input(**fields))

    # -- acting ---------------------------------------------------------------

    def send_input(self, value: object, *, view: bool = False) -> int:
        """Send the game's input as the next Input; its sequence number (0: not sent)."""
        return self._call(lambda c: c.send_input(value, view=view))

    def send(self, **fields: object) -> int:
        """Send an input made of these fields (the others neutral): ``send(x=1)``."""
        return self._call(lambda c: c.send(**fields))

    def send_command(self, command: object) -> None:
        self._call(lambda c: c.send_command(command))

    def say(self, text: str) -> None:
        self._call(lambda c: c.say(text))

    def wait_for(self, predicate: Callable[[GameClient], bool], timeout_s: float = WAIT_S) -> None:
        """Block until ``predicate(client)`` holds (it runs in the trio thread)."""

        async def wait(c: GameClient) -> None:
            with trio.fail_after(timeout_s):
                await c.wait_for(predicate)

        self._call(wait)

    def next_snapshot(self, timeout_s: float = WAIT_S) -> None:
        async def wait(c: GameClient) -> None:
            with trio.fail_after(timeout_s):
                await c.next_snapshot()

        self._call(wait)

    def close(self) -> None:
        """Leave (a normal close) and stop the background thread."""
        token, stop = self._token, self._stop
        if token is not None and stop is not None and self._thread.is_alive():
            with contextlib.suppress(trio.RunFinishedError):  # it ended on its own
                trio.from_thread.run_sync(stop.set, trio_token=token)
        if self._thread.is_alive():
            self._thread.join(JOIN_THREAD_S)
        self._client = None

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def connect_sync(
    url: str, *, timeout_s: float = WAIT_S, **options: Unpack[ClientOptions]
) -> SyncClient:
    """Connect and join from ordinary code; the client runs in a background thread.

    ``options`` are ``connect()``'s. Use it as a context manager, or call ``close()``::

        with connect_sync("ws://127.0.0.1:8000/ws", name="ada") as client:
            client.send(buttons=8)
            client.next_snapshot()
            print(client.me)
    """
    client = SyncClient(url, **options)
    client._start(timeout_s)
    return client
