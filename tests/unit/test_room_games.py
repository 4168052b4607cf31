"""A room running a game with commands, hidden values and private events, with plain calls.

The game is the tiny one of ``test_rules_api.py`` (tokens climb; each token's secret is
seen only by its owner; a guess is answered publicly and privately). The room sees it
only through the rules API, as it sees every game.
"""

from __future__ import annotations

import cbor2

from gameserver.core import GameHost
from gameserver.protocol import (
    Command,
    Error,
    ErrorCode,
    Input,
    Join,
    Role,
    Snapshot,
    decode_server_message,
    encode,
)
from gameserver.server.metrics import Metrics
from gameserver.server.rooms.modes import default_mode, resolved, room_config
from gameserver.server.rooms.room import Room
from tests.conftest import make_config

from .test_room import FakeConnection
from .test_rules_api import Climb, Controls, Guess, Move, Settings


class Recording(FakeConnection):
    """A fake connection that also keeps every message it was sent, decoded."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[object] = []

    def _receive(self, data: bytes) -> None:
        self.messages.append(decode_server_message(data))
        super()._receive(data)


def make_room(**overrides: object) -> Room:
    config = make_config(**overrides)
    config = room_config(config, resolved(default_mode(config), Climb))  # as a server does
    rules = Climb(Settings(), seed=3, tick_rate=config.rooms.tick_rate)
    return Room("test", GameHost(rules, tick_rate=config.rooms.tick_rate), config, Metrics())


def join(room: Room, role: Role = Role.PLAYER, name: str = "p") -> Recording:
    connection = Recording()
    room.attach(connection)
    connection.inbox.append(encode(Join(role, name)))
    return connection


def events_seen(connection: Recording) -> list[list[object]]:
    return [list(e) for m in connection.messages if isinstance(m, Snapshot) for e in m.events]


async def test_each_viewer_sees_only_its_own_secret_and_private_events() -> None:
    room = make_room()
    ada, bob, watcher = join(room, name="ada"), join(room, name="bob"), join(room, Role.SPECTATOR)
    room.tick()
    tokens = room.game.rules.tokens  # type: ignore[attr-defined]
    assert ada.welcome is not None and bob.welcome is not None
    mine, theirs = ada.welcome.entity_id, bob.welcome.entity_id
    assert ada.mirror[mine][3] == tokens[mine].secret and ada.mirror[theirs][3] == 0
    assert bob.mirror[theirs][3] == tokens[theirs].secret and bob.mirror[mine][3] == 0
    assert all(entity[3] == 0 for entity in watcher.mirror.values())
    # Ada guesses Bob's secret: everyone hears that she guessed; only she is told her own.
    ada.inbox.append(encode(Command((0, tokens[theirs].secret))))
    room.tick()
    guessed = [e for e in events_seen(ada) if e[1] == 0]
    told = [e for e in events_seen(ada) if e[1] == 1]
    assert guessed and told == [[room.game.tick, 1, tokens[mine].secret]]
    assert [e for e in events_seen(bob) if e[1] == 1] == []
    assert [e for e in events_seen(watcher) if e[1] == 1] == []
    assert [e[1] for e in events_seen(bob)] == [0] and [e[1] for e in events_seen(watcher)] == [0]
    # Whatever bytes Bob got, Ada's secret is in none of his snapshots' entity values.
    for message in bob.messages:
        if isinstance(message, Snapshot):
            for change in message.changes:
                if change[0] == mine and change[1] & (1 << 3):
                    assert 0 in change[2:]


async def test_inputs_are_checked_against_the_games_schema() -> None:
    room = make_room()
    player = join(room)
    room.tick()
    player.inbox.append(encode(Input(1, (int(Move.UP),), 0)))
    room.tick()
    room.tick()  # repeated: the token climbs every tick
    assert player.welcome is not None
    assert player.mirror[player.welcome.entity_id][2] == 2
    player.inbox.append(encode(Input(2, (7,), 0)))  # no such move
    room.tick()
    assert player.close_code == 4002


async def test_commands_beyond_the_per_tick_cap_are_dropped_with_an_error() -> None:
    room = make_room(max_commands_per_tick=2)
    player = join(room)
    room.tick()
    player.inbox += [encode(Command((0, 1))) for _ in range(5)]
    room.tick()
    assert room.metrics.commands_dropped == 3
    errors = [m for m in player.messages if isinstance(m, Error)]
    assert [e.code for e in errors] == [ErrorCode.COMMAND_DROPPED] * 3
    assert len([e for e in events_seen(player) if e[1] == 0]) == 2  # two guesses reached it
    player.inbox.append(cbor2.dumps([6, 0, 100]))  # a guess out of the schema's range
    room.tick()
    assert player.close_code == 4002


async def test_a_spectators_command_is_refused_but_it_stays() -> None:
    room = make_room()
    watcher = join(room, Role.SPECTATOR)
    room.tick()
    watcher.inbox.append(encode(Command((0, 5))))
    room.tick()
    errors = [m for m in watcher.messages if isinstance(m, Error)]
    assert [e.code for e in errors] == [ErrorCode.SPECTATOR_INPUT] and watcher.close_code is None


async def test_the_welcome_describes_the_game_and_v1_gets_none() -> None:
    room = make_room()
    modern = join(room)
    old = Recording()
    old.protocol_version = 1
    room.attach(old)
    old.inbox.append(encode(Join(Role.PLAYER, "old")))
    room.tick()
    assert modern.welcome is not None and old.welcome is not None
    description = modern.welcome.schema
    assert description is not None and description["id"] == "climb"
    assert old.welcome.schema is None and old.welcome.protocol_version == 1


async def test_guess_and_controls_are_the_games_own_types() -> None:
    assert Guess(number=3).number == 3 and Controls(move=Move.UP).move is Move.UP
