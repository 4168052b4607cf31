"""The package's exception tree: one base class, and what each kind tells its catcher to do.

Every exception ``gameserver`` raises on purpose derives from ``GameServerError``. Each
kind lives with the code that raises it; this module holds the base and the one shape
shared across layers, ``Refusal``. A kind that callers already caught as ``ValueError``
stays one too.

```
GameServerError
├── Refusal(status, reason)         a request refused: answer HTTP ``status``, ``reason``
│   ├── TokenError                  gameserver.tokens (auth: identity, join, seat, resume)
│   ├── RoomError                   gameserver.server.rooms.manager (no such room, full, elsewhere)
│   └── MatchError                  gameserver.server.cluster.matchmaking (+ ``retry_after_s``)
├── ProtocolError(code, reason)     a peer broke the protocol: close it with ``code``
│   ├── DeltaError                  gameserver.protocol (4002)
│   └── SchemaError                 gameserver.rules (4002; ``field``)
├── EncodeError    (ValueError)     gameserver.rules: the rules' own value is wrong
├── StateError     (ValueError)     gameserver.rules: cannot save or restore
├── GameLoadError                   gameserver.rules.loading: a game cannot be used
├── ConfigError    (ValueError)     gameserver.configvalues: where, key, problem
├── RecordingError                  gameserver.recording: cannot read or replay
├── DirectoryError                  gameserver.server.cluster.directory: the room directory failed
│   ├── DirectoryUnavailable        the backend cannot be reached
│   ├── NoCapacity                  no live node has a free seat
│   ├── UnknownRoom                 no such room (or it expired)
│   └── RoomFull                    the room has no free seat
├── HeadTooLarge                    gameserver.server.network.handover: an HTTP head over the limit
├── NewGameError                    gameserver.scaffold: ``new-game`` refuses a name or folder
└── ClientClosed                    gameserver.testing: a test client's connection closed
```

A refusal is always built ``(status, reason)``, in that order, and ``reason`` is safe to
send to the peer (no key, no token, no private room's name). A ``ProtocolError`` is built
``(code, reason)`` with ``code`` a ``CloseCode``. The client library (``clients``) has its
own exceptions (``ClientClosed``, ``MatchFailed``, ...): it never raises the server's.
"""

from __future__ import annotations

__all__ = ["GameServerError", "Refusal"]


class GameServerError(Exception):
    """Base class of every exception this package raises on purpose."""


class Refusal(GameServerError):
    """A request refused: answer it with HTTP ``status`` and ``reason`` (safe to send)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status = status
        self.reason = reason
