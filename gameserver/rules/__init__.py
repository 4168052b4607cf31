"""The rules API's schema layer: what a game declares about its state, input and messages.

A game declares each entity type, its input, and its commands and events as classes of
typed fields (``entity``, ``message`` and the field helpers). ``GameSchema`` turns those
declarations into wire tuples and lists of CBOR-simple values (integers, short text) that
``protocol.diff`` compares as it does today, decodes untrusted input strictly
(``SchemaError``, close code 4002, naming the field), and describes the whole game in one
document from which a client rebuilds the same decoding (``GameSchema.from_description``).

Pure: no I/O, no clock, no randomness.
"""

from __future__ import annotations

from ._api import (
    SPECTATOR,
    MatchResult,
    NoSettings,
    Player,
    Private,
    Rules,
    TickCommand,
    TickInput,
    Viewer,
    WireTuple,
    rules_class_problems,
)
from ._bots import Act, Bot, BotView
from ._declare import (
    angle,
    binary_angle,
    boolean,
    entity,
    enum,
    field,
    fixed,
    flags,
    integer,
    message,
    text,
    wire_fields,
)
from ._descriptions import wire_type_from_description
from ._errors import EncodeError, SchemaError
from ._game import GameSchema
from ._records import (
    CommandSchema,
    EntitySchema,
    EventSchema,
    InputSchema,
    MessageCatalog,
    MessageSchema,
    PositionLayout,
)
from ._savedstate import StateError, game_modules, load_state, save_state
from ._wiretypes import (
    Angle,
    BinaryAngle,
    Bool,
    Enum,
    Fixed,
    Flags,
    Int,
    Text,
    WireType,
    WireValue,
)

__all__ = [
    "SPECTATOR",
    "Act",
    "Angle",
    "BinaryAngle",
    "Bool",
    "Bot",
    "BotView",
    "CommandSchema",
    "EncodeError",
    "EntitySchema",
    "Enum",
    "EventSchema",
    "Fixed",
    "Flags",
    "GameSchema",
    "InputSchema",
    "Int",
    "MatchResult",
    "MessageCatalog",
    "MessageSchema",
    "NoSettings",
    "Player",
    "PositionLayout",
    "Private",
    "Rules",
    "SchemaError",
    "StateError",
    "Text",
    "TickCommand",
    "TickInput",
    "Viewer",
    "WireTuple",
    "WireType",
    "WireValue",
    "angle",
    "binary_angle",
    "boolean",
    "entity",
    "enum",
    "field",
    "fixed",
    "flags",
    "game_modules",
    "integer",
    "load_state",
    "message",
    "rules_class_problems",
    "save_state",
    "text",
    "wire_fields",
    "wire_type_from_description",
]
