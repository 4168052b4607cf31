"""Plain stand-ins for what the room core meets outside: connections and counters.

``FakeConnection`` implements the connection seam (collect, deliver, send_control,
close) and decodes what it is sent, keeping a mirror of the world it was brought to,
so tests drive the core, or a whole room, tick by tick without sockets or trio.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Callable

import attrs

from gameserver.config import Config
from gameserver.protocol import Error, Snapshot, Welcome, apply, decode_server_message


@attrs.define(eq=False)
class FakeConnection:
    remote: str = "fake"
    closing: bool = False
    busy: bool = False  # pretend the previous snapshot is still being written
    inbox: list[bytes | str] = attrs.Factory(list)
    sent: list[bytes] = attrs.Factory(list)  # snapshots accepted, as given
    close_code: int | None = None
    close_reason: str = ""
    mirror: dict[int, tuple[int, ...]] = attrs.Factory(dict)
    mirror_tick: int = 0
    welcome: Welcome | None = None
    protocol_version: int = 2
    received: list[object] = attrs.Factory(list)  # every message it was sent, decoded
    decoding: bool = True  # False: keep snapshots as bytes only (for bodies made up in tests)

    def collect(self) -> list[bytes | str]:
        messages, self.inbox = self.inbox, []
        return messages

    def deliver(self, snapshot: bytes) -> bool:
        if self.busy:
            return False
        if self.decoding:
            self._receive(snapshot)
        self.sent.append(snapshot)
        return True

    def send_control(self, message: bytes) -> None:
        self._receive(message)

    def close(self, code: int, reason: str) -> None:
        self.closing, self.close_code, self.close_reason = True, code, reason

    def _receive(self, data: bytes) -> None:
        message = decode_server_message(data)
        self.received.append(message)
        if isinstance(message, Welcome):
            self.welcome = message
        elif isinstance(message, Snapshot):
            assert message.baseline_tick in (0, self.mirror_tick)
            base = self.mirror if message.baseline_tick else {}
            self.mirror = apply(base, message.changes, message.removed)
            self.mirror_tick = message.tick

    def errors(self) -> list[int]:
        """Codes of the Error messages it was sent."""
        return [m.code for m in self.received if isinstance(m, Error)]

    def snapshots(self) -> list[Snapshot]:
        return [m for m in self.received if isinstance(m, Snapshot)]


@attrs.define
class Counters:
    """The counters the room core counts in, as ``gameserver.server.Metrics`` has them."""

    join_timeouts: int = 0
    room_full: int = 0
    resumes: int = 0
    resumes_refused: int = 0
    inputs_dropped_per_tick: int = 0
    inputs_dropped_stale: int = 0
    inputs_dropped_queue_full: int = 0
    spectator_inputs: int = 0
    commands_dropped: int = 0
    chat_rate_limited: int = 0
    snapshots_skipped: int = 0
    protocol_errors: collections.Counter[int] = attrs.Factory(collections.Counter)


def counting_tokens() -> Callable[[], str]:
    """Resume tokens that tests can predict: ``r1``, ``r2``, ..."""
    numbers = itertools.count(1)
    return lambda: f"r{next(numbers)}"


def room_config(**overrides: object) -> Config:
    """A room's settings as a server resolves them: a tick rate and seats filled in."""
    settings: dict[str, object] = {"tick_rate": 30, "max_players_per_room": 64}
    return Config.of(**(settings | overrides))  # type: ignore[arg-type]
