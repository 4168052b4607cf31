"""One exception tree: every public exception of ``gameserver`` derives from one base class.

``gameserver/errors.py`` draws the tree; this test holds the code to the drawing. Private
exceptions (``_Closed``, ``_TagRefused``: control flow inside one module) are left out.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import gameserver
import gameserver.errors
from gameserver.errors import GameServerError, Refusal
from gameserver.protocol import CloseCode, ProtocolError


def public_exceptions() -> dict[str, type[BaseException]]:
    """Every public exception class defined in a module of ``gameserver``, by its name.

    The client library (``gameserver.clients``) keeps exceptions of its own: it never
    raises the server's (docs/architecture.md)."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(gameserver.__path__, "gameserver."):
        if info.name.endswith("__main__"):
            continue  # running it is the command line
        if info.name.startswith("gameserver.clients."):
            continue  # the client library keeps exceptions of its own (the drawing says so)
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == info.name
                and not name.startswith("_")
            ):
                found[f"{info.name}.{name}"] = value
    return found


EXCEPTIONS = public_exceptions()


def test_the_walk_finds_the_known_exceptions() -> None:
    names = {name.rpartition(".")[2] for name in EXCEPTIONS}
    assert names >= {
        "ProtocolError", "TokenError", "RoomError", "MatchError", "ConfigError",
        "GameLoadError", "RecordingError", "SchemaError", "StateError", "DirectoryError",
    }  # fmt: skip


@pytest.mark.parametrize("name", sorted(EXCEPTIONS))
def test_every_public_exception_derives_from_the_base(name: str) -> None:
    assert issubclass(EXCEPTIONS[name], GameServerError)


def test_the_drawing_names_every_public_exception() -> None:
    drawing = gameserver.errors.__doc__ or ""
    missing = sorted(
        name for name in EXCEPTIONS if not re.search(rf"\b{name.rpartition('.')[2]}\b", drawing)
    )
    assert missing == []


def test_refusals_take_status_then_reason_and_say_both() -> None:
    refusals = [cls for cls in EXCEPTIONS.values() if issubclass(cls, Refusal)]
    assert {cls.__name__ for cls in refusals} >= {
        "Refusal",
        "TokenError",
        "RoomError",
        "MatchError",
    }
    for cls in refusals:
        error = cls(403, "not yours")
        assert (error.status, error.reason) == (403, "not yours"), cls
        assert str(error) == "HTTP 403: not yours"


def test_protocol_errors_carry_their_close_code() -> None:
    error = ProtocolError(CloseCode.INVALID_MESSAGE, "bad")
    assert error.code is CloseCode.INVALID_MESSAGE and isinstance(error, GameServerError)


def test_value_errors_stay_value_errors() -> None:
    """Kinds that callers caught as ``ValueError`` before the tree still are."""
    for name in ("ConfigError", "StateError", "EncodeError"):
        (cls,) = [c for n, c in EXCEPTIONS.items() if n.endswith("." + name)]
        assert issubclass(cls, ValueError) and issubclass(cls, GameServerError)
