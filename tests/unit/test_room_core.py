"""The room core as a whole, with plain calls: time in, messages queued on connections."""

from __future__ import annotations

import subprocess
import sys

from gameserver.core import GameHost, RoomCore
from gameserver.protocol import (
    Input,
    Join,
    Role,
    Snapshot,
    Welcome,
    decode_server_message,
    encode,
)

from .fakes import Counters, FakeConnection, counting_tokens, room_config
from .test_rules_api import Climb, Move, Settings


def make_core(goal: int = 3, **overrides: object) -> RoomCore:
    config = room_config(**overrides)
    game = GameHost(Climb(Settings(goal=goal), seed=3), tick_rate=config.rooms.tick_rate)
    return RoomCore("test", game, config, Counters(), new_resume_token=counting_tokens())


def test_the_core_imports_neither_trio_nor_the_server() -> None:
    code = (
        "import sys, gameserver.core; "
        "print(sorted(m for m in sys.modules if m.startswith(('gameserver.server', 'trio'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_match_played_tick_by_tick() -> None:
    core = make_core(goal=3)
    ada, watcher = FakeConnection(), FakeConnection()
    core.attach(ada, 0.0)
    core.attach(watcher, 0.0)
    up = (int(Move.UP),)
    ada.inbox += [encode(Join(Role.PLAYER, "ada")), encode(Input(1, up, 0))]
    watcher.inbox.append(encode(Join(Role.SPECTATOR, "w")))
    ended = []
    for n in range(4):
        core.collect(n / 30, n * 33)
        ended.append(core.step())
        assert core.snapshot_due
        core.deliver(n * 33)
    assert ended == [False, False, True, False]  # told once, at the step it ended
    assert ada.welcome is not None and watcher.welcome is not None
    assert ada.mirror[ada.welcome.entity_id][2] == 4  # the frame right behind the join counted
    assert ada.snapshots()[-1].ack_seq == 1 and ada.mirror_tick == 4
    assert watcher.mirror[ada.welcome.entity_id][3] == 0  # a secret spectators never see


def test_the_spectator_stream_is_made_only_when_asked_for() -> None:
    core = make_core(tick_rate=10, snapshot_divisor=2)
    core.attach(FakeConnection(inbox=[encode(Join(Role.PLAYER, "ada"))]), 0.0)
    made = []
    for n in range(4):
        core.collect(n / 10, n * 100)
        core.step()
        if core.snapshot_due:
            made.append(core.deliver(n * 100, publish=n >= 2))
    assert made[0] is None and made[1] is not None  # ticks 2 and 4 are delivered
    message, greeting = made[1]
    assert isinstance(decode_server_message(message), Snapshot)
    assert greeting is not None and isinstance(decode_server_message(greeting), Welcome)
