"""A game's whole state as plain data, and back, without ever running what the data says.

Theory of operation
-------------------
``save_state(value)`` writes a tree of values as one CBOR item. Numbers, text, bytes,
booleans and None are themselves; everything else is an array whose first element says
what it is (``_LIST``, ``_DICT``, ``_OBJECT``, ...). An object reachable twice (the same
entity kept in two dicts, a table that is also in the public view) is written once and
then referred to by its number (``_REF``), so a restored world shares exactly what the
saved one shared, and a game that mutates an object in place still sees the change
through every path.

``load_state(data, modules=...)`` builds only what a game's state is made of: lists,
tuples, dicts, sets, frozensets, deques, ``random.Random`` generators, enum members, named
tuples, and instances of classes defined in the given modules (a game's own package,
``game_modules``) or the rules API's data classes. An instance is made with
``object.__new__`` (its ``__init__`` is not called) and its fields are set directly, and
a class is found only by its own module and name, never through a re-export. Nothing in
the data can name a function to call, so unlike pickle a hostile file cannot run code:
the worst it can do is hand the game a state its rules would never reach, which is what
the recorded state hash is checked against. Anything else in the data is refused with
``StateError``; ``save_state`` refuses what ``load_state`` could not build back (a
function, a file, a class defined inside a function), naming where it is.
"""

from __future__ import annotations

import collections
import enum
import importlib
import random
import sys
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import cbor2

from gameserver.errors import GameServerError

_REF, _LIST, _TUPLE, _DICT, _SET, _FROZENSET, _OBJECT, _ENUM, _RANDOM, _DEQUE, _NAMEDTUPLE = range(
    11
)
_SCALARS = (type(None), bool, int, float, str, bytes)
# Rules API data classes a game's state may hold (besides its own package's classes).
_API_CLASSES = frozenset(
    {
        "gameserver.rules._api:Player",
        "gameserver.rules._api:Viewer",
        "gameserver.rules._api:MatchResult",
        "gameserver.rules._api:NoSettings",
        "gameserver.rules._api:Private",
        "gameserver.rules._api:TickCommand",
    }
)


# A state saved before the rules API's module became private names its classes so.
_MOVED_MODULES = {"gameserver.rules.api": "gameserver.rules._api"}


class StateError(GameServerError, ValueError):
    """A state that cannot be saved (what it holds) or restored (damaged or foreign data)."""


def game_modules(rules_class: type) -> tuple[str, ...]:
    """The module prefixes whose classes a game's saved state may name: its own package
    (or, for a game in a single top-level module, that module)."""
    module = sys.modules.get(rules_class.__module__)
    package = getattr(module, "__package__", None) or rules_class.__module__
    return (package,)


def import_module_or_private(module_name: str) -> ModuleType:
    """The module ``module_name``, or, when there is none, its private successor: a game's
    internals that became ``_name`` modules, which a state saved (or a game named) before
    still calls ``name``."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        package, _, last = module_name.rpartition(".")
        if error.name != module_name or not package or last.startswith("_"):
            raise
        try:
            return importlib.import_module(f"{package}._{last}")
        except ModuleNotFoundError:
            raise error from None


# -- saving ---------------------------------------------------------------------------


def save_state(value: object) -> bytes:
    """``value`` as CBOR (``StateError`` naming the path of what cannot be saved)."""
    try:
        return cbor2.dumps(_Saver().save(value))
    except _Unsaveable as error:
        where = "state" + "".join(reversed(error.path))
        raise StateError(f"{where}: {error.reason}") from None


def _class_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _slot_names(cls: type) -> list[str]:
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        slots = klass.__dict__.get("__slots__", ())
        for name in [slots] if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__") and name not in names:
                names.append(name)
    return names


class _Unsaveable(Exception):
    """Raised where a value cannot be saved; each container on the way out adds its step."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []


class _Saver:
    """One pass over the value (it runs on a tick while recording: kept lean)."""

    def __init__(self) -> None:
        self._numbers: dict[int, int] = {}
        self._kept: list[object] = []  # alive until the end, so no id() is reused
        self._classes: dict[type, tuple[int, str, list[str]]] = {}

    def save(self, value: object) -> Any:
        cls = type(value)
        if cls in _SCALARS:
            return value
        number = self._numbers.get(id(value))
        if number is not None:
            return [_REF, number]
        self._numbers[id(value)] = len(self._numbers)
        self._kept.append(value)
        if cls is list or cls is tuple or cls is set or cls is frozenset:
            kind = (
                _LIST
                if cls is list
                else _TUPLE
                if cls is tuple
                else _SET
                if cls is set
                else (_FROZENSET)
            )
            return [kind, *self._items(value)]  # type: ignore[arg-type]
        if cls is dict:
            return self._dict(value)  # type: ignore[arg-type]
        if cls is collections.deque:
            deque: collections.deque[object] = value  # type: ignore[assignment]
            return [_DEQUE, deque.maxlen, *self._items(deque)]
        if cls is random.Random:
            version, internal, gauss = value.getstate()  # type: ignore[attr-defined]
            return [_RANDOM, version, list(internal), gauss]
        known = self._classes.get(cls)
        if known is None:
            known = self._classes[cls] = self._learn(cls, value)
        kind, name, slots = known
        if kind == _ENUM:
            return [_ENUM, name, self._step(value.value, ".value")]  # type: ignore[attr-defined]
        if kind == _NAMEDTUPLE:
            return [_NAMEDTUPLE, name, *self._items(value)]  # type: ignore[arg-type]
        fields: list[Any] = []
        for slot in slots:
            if hasattr(value, slot):
                fields += [slot, self._step(getattr(value, slot), f".{slot}")]
        for field, item in getattr(value, "__dict__", {}).items():
            fields += [field, self._step(item, f".{field}")]
        return [_OBJECT, name, fields]

    def _learn(self, cls: type, value: object) -> tuple[int, str, list[str]]:
        """How a class is saved, its name and slots, once it is known that ``load_state``
        can build it back."""
        if isinstance(value, enum.Enum):
            kind = _ENUM
        elif isinstance(value, tuple) and hasattr(cls, "_fields"):
            kind = _NAMEDTUPLE
        elif _plain_new(cls) and not isinstance(value, type) and cls.__module__ != "builtins":
            kind = _OBJECT
        else:
            raise _Unsaveable(f"a {cls.__qualname__} is not data and cannot be saved")
        if "<" in cls.__qualname__ or _find(cls.__module__, cls.__qualname__) is not cls:
            raise _Unsaveable(
                f"{cls.__qualname__} cannot be saved (a class a state holds must be "
                "defined at the top level of a module)"
            )
        return kind, _class_name(cls), _slot_names(cls)

    def _step(self, value: object, step: str) -> Any:
        try:
            return self.save(value)
        except _Unsaveable as error:
            error.path.append(step)
            raise

    def _items(self, values: Iterable[object]) -> list[Any]:
        save = self.save
        try:
            return [save(item) for item in values]
        except _Unsaveable as error:
            error.path.append("[...]")
            raise

    def _dict(self, mapping: dict[Any, Any]) -> list[Any]:
        out: list[Any] = [_DICT]
        save = self.save
        for key, item in mapping.items():
            try:
                out.append(save(key))
                out.append(save(item))
            except _Unsaveable as error:
                error.path.append(f"[{key!r}]")
                raise
        return out


def _plain_new(cls: type) -> bool:
    """Whether instances are made by ``object.__new__`` (nothing of the class runs)."""
    new: object = cls.__new__
    return new is object.__new__


def _find(module_name: str, qualname: str) -> object:
    found: object = sys.modules.get(module_name)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found


# -- restoring ----------------------------------------------------------------------


def load_state(data: bytes, *, modules: Iterable[str]) -> Any:
    """The value ``save_state`` saved; classes only from ``modules`` (``StateError`` else)."""
    try:
        tree = cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as error:
        raise StateError(f"not a saved state: {error}") from None
    try:
        return _Loader(tuple(modules)).load(tree)
    except RecursionError:
        raise StateError("the saved state is nested too deeply") from None
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as error:
        if isinstance(error, StateError):
            raise
        raise StateError(f"damaged saved state: {error}") from None


_UNBUILT = object()  # a frozen value whose items are still being read


class _Loader:
    def __init__(self, modules: tuple[str, ...]) -> None:
        self._modules = modules
        self._built: list[object] = []
        self._classes: dict[str, type] = {}

    def load(self, node: Any) -> Any:
        if type(node) in _SCALARS:
            return node
        if type(node) is not list or not node or type(node[0]) is not int:
            raise StateError(f"unexpected {type(node).__name__} in a saved state")
        kind, rest = node[0], node[1:]
        if kind == _REF:
            if len(rest) != 1 or type(rest[0]) is not int or not 0 <= rest[0] < len(self._built):
                raise StateError("a reference to nothing saved before it")
            found = self._built[rest[0]]
            if found is _UNBUILT:
                raise StateError("a cycle through an immutable value")
            return found
        number = len(self._built)
        self._built.append(_UNBUILT)
        if kind == _LIST:
            items: list[Any] = []
            self._built[number] = items
            items.extend(self.load(item) for item in rest)
            return items
        if kind == _DICT:
            mapping: dict[Any, Any] = {}
            self._built[number] = mapping
            if len(rest) % 2:
                raise StateError("a dict with a key and no value")
            for i in range(0, len(rest), 2):
                key = self.load(rest[i])
                mapping[key] = self.load(rest[i + 1])
            return mapping
        if kind == _SET:
            members: set[Any] = set()
            self._built[number] = members
            members.update(self.load(item) for item in rest)
            return members
        if kind == _OBJECT:
            return self._object(number, rest)
        value = self._frozen(kind, rest)
        self._built[number] = value
        return value

    def _frozen(self, kind: int, rest: list[Any]) -> object:
        if kind == _TUPLE:
            return tuple(self.load(item) for item in rest)
        if kind == _FROZENSET:
            return frozenset(self.load(item) for item in rest)
        if kind == _DEQUE:
            if not rest or not (rest[0] is None or (type(rest[0]) is int and rest[0] >= 0)):
                raise StateError("a deque without its maximum length")
            return collections.deque((self.load(item) for item in rest[1:]), maxlen=rest[0])
        if kind == _RANDOM:
            if len(rest) != 3 or type(rest[1]) is not list:
                raise StateError("a damaged random generator")
            generator = random.Random()
            generator.setstate((rest[0], tuple(rest[1]), rest[2]))
            return generator
        if kind == _ENUM and len(rest) == 2:
            cls = self._class(rest[0])
            if not issubclass(cls, enum.Enum):
                raise StateError(f"{rest[0]} is not an enum")
            return cls(self.load(rest[1]))
        if kind == _NAMEDTUPLE and rest:
            cls = self._class(rest[0])
            if not (issubclass(cls, tuple) and hasattr(cls, "_fields")):
                raise StateError(f"{rest[0]} is not a named tuple")
            return tuple.__new__(cls, [self.load(item) for item in rest[1:]])
        raise StateError(f"unknown kind {kind} in a saved state")

    def _object(self, number: int, rest: list[Any]) -> object:
        if len(rest) != 2 or type(rest[1]) is not list or len(rest[1]) % 2:
            raise StateError("a damaged object in a saved state")
        cls = self._class(rest[0])
        if not _plain_new(cls) or issubclass(cls, enum.Enum | tuple | type):
            raise StateError(f"{rest[0]} is not a plain class")
        obj = object.__new__(cls)
        self._built[number] = obj
        slots = set(_slot_names(cls))
        has_dict = hasattr(obj, "__dict__")
        fields = rest[1]
        for i in range(0, len(fields), 2):
            name = fields[i]
            if type(name) is not str or not name.isidentifier() or name.startswith("__"):
                raise StateError(f"{rest[0]}: a bad field name {name!r}")
            value = self.load(fields[i + 1])
            if name in slots:
                object.__setattr__(obj, name, value)  # the slot itself, not a property
            elif has_dict:
                obj.__dict__[name] = value
            else:
                raise StateError(f"{rest[0]} has no field {name!r}")
        return obj

    def _class(self, name: object) -> type:
        if type(name) is not str:
            raise StateError("a class is named by text")
        cls = self._classes.get(name)
        if cls is not None:
            return cls
        module_name, _, qualname = name.partition(":")
        module_name = _MOVED_MODULES.get(module_name, module_name)
        allowed = f"{module_name}:{qualname}" in _API_CLASSES or any(
            module_name == prefix or module_name.startswith(prefix + ".")
            for prefix in self._modules
        )
        if not allowed or not qualname or "<" in qualname:
            raise StateError(f"{name} is not a class this game's state may hold")
        if module_name not in sys.modules:
            try:
                module_name = import_module_or_private(module_name).__name__  # the game's own
            except ImportError:
                raise StateError(f"{name}: no such module") from None
        found = _find(module_name, qualname)
        if not isinstance(found, type) or _class_name(found) != f"{module_name}:{qualname}":
            raise StateError(f"{name}: no such class")
        self._classes[name] = found
        return found
