"""``Config`` in sections: each setting in one section, names unique, settings by name.

A ``Mode`` holds the same two parts the default mode's settings are made of (``GameSection``
and ``RoomShape``) rather than fields of its own, and a room gets its mode's parts.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import pytest

from gameserver.cli import main
from gameserver.config import (
    MODE_KEYS,
    SECTION_CLASSES,
    SECTION_OF,
    Config,
    GameSection,
    Mode,
    RoomShape,
    RoomsSection,
    about,
    setting_fields,
)
from gameserver.configfile import read_file
from gameserver.configload import build
from gameserver.server.rooms.modes import all_modes, room_config


def test_each_setting_is_in_exactly_one_section_the_table_it_is_read_from() -> None:
    names = [field.name for field in setting_fields()]
    assert len(names) == len(set(names)), "a setting name is used in two sections"
    for section, cls in SECTION_CLASSES.items():
        for field in attrs.fields(cls):
            assert about(field).section == section, field.name
            assert SECTION_OF[field.name] == section
    assert SECTION_OF["modes"] is None  # a field of Config itself
    assert set(SECTION_OF) == set(names)


def test_sections_hold_their_settings() -> None:
    config = Config.of(port=0, tick_rate=30, snapshot_divisor=3, view_ring=3, game="bench")
    assert (config.network.port, config.network.host) == (0, "127.0.0.1")
    assert (config.rooms.tick_rate, config.rooms.snapshot_rate) == (30, 10)
    assert (config.interest.view_ring, config.game.game) == (3, "bench")
    assert config.get("snapshot_divisor") == 3
    changed = config.replace(port=9000, max_players_per_room=4)
    assert (changed.network.port, changed.rooms.max_players_per_room) == (9000, 4)
    assert changed.rooms.tick_rate == 30 and config.network.port == 0  # the rest kept
    assert changed.limits is config.limits  # untouched sections are shared, not copied


def test_settings_by_name_are_still_checked() -> None:
    with pytest.raises(ValueError, match="snapshot_divisor must divide tick_rate"):
        Config.of(tick_rate=30).replace(snapshot_divisor=7)
    with pytest.raises(ValueError, match="inner_ring must not exceed view_ring"):
        Config.of(view_ring=1, inner_ring=2)
    with pytest.raises(ValueError, match=r"port must be in 0\.\.65535"):
        Config().replace(port=70000)


def test_an_unknown_setting_is_named() -> None:
    unknown = r"Config has no setting 'tick_rat'; did you mean 'tick_rate'\?"
    with pytest.raises(TypeError, match=unknown):
        Config.of(tick_rat=30)
    with pytest.raises(TypeError, match=unknown):
        Config().replace(tick_rat=30)
    with pytest.raises(TypeError, match=unknown):
        Config().get("tick_rat")
    with pytest.raises(TypeError, match=r"Config has no setting 'network'"):
        Config.of(network=0)  # a section is not a setting


def test_a_mode_holds_the_parts_the_default_mode_is_made_of() -> None:
    # Declared once: a Mode has no tick rate, seats or game fields of its own.
    assert list(attrs.fields_dict(Mode)) == ["name", "game", "room", "record"]
    assert (attrs.fields(Mode).game.type, attrs.fields(Mode).room.type) == (
        "GameSection",
        "RoomShape",
    )
    shape = {field.name for field in attrs.fields(RoomShape)}
    assert shape <= set(attrs.fields_dict(RoomsSection))
    assert issubclass(RoomsSection, RoomShape)
    for key, (part, field) in MODE_KEYS.items():
        if part:
            owner = GameSection if part == "game" else RoomShape
            assert attrs.fields_dict(owner)[field.name] is field, key
            assert SECTION_OF[field.name] in {"game", "rooms"}


def test_a_mode_from_its_table_keys() -> None:
    mode = Mode.of("duel", game="arena", max_players=2, settings={"width": 500.0})
    assert mode.game == GameSection("arena", {"width": 500.0})
    assert (mode.room.max_players_per_room, mode.room.max_spectators_per_room) == (2, 64)
    assert Mode("plain").game.game == ""  # the server's game
    with pytest.raises(TypeError, match=r"no key 'max_players_per_room'.*max_players"):
        Mode.of("duel", max_players_per_room=2)
    with pytest.raises(ValueError, match="mode duel: snapshot_divisor must divide tick_rate"):
        Mode.of("duel", tick_rate=30, snapshot_divisor=7)


def test_a_room_gets_its_modes_game_and_shape_and_the_servers_other_sections() -> None:
    config = Config.of(tick_rate=20, max_rooms=9, game="arena", game_settings={"width": 800.0})
    duel = Mode.of("duel", game="crazyeights", tick_rate=10, max_players=2)
    plain = Mode.of("plain", max_spectators=3)
    config = config.replace(modes=(duel, plain))
    modes = all_modes(config)
    assert modes["default"].game == config.game
    assert modes["plain"].game == GameSection("arena", {})  # the server's game, its own settings
    room = room_config(config, modes["duel"])
    assert room.game == duel.game
    assert (room.rooms.tick_rate, room.rooms.max_players_per_room) == (10, 2)
    assert room.rooms.max_rooms == 9 and room.network is config.network


def _values(printed: str) -> list[str]:
    """The printed lines without the comments that say where each value came from."""
    return [re.sub(r"  # .*$", "", line) for line in printed.splitlines() if line]


def test_the_printed_configuration_round_trips_through_gameserver_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "server.toml"
    path.write_text(
        "[rooms]\ntick_rate = 20\nmax_spectators_per_room = 5\n"
        '[game]\ngame = "arena"\n[game.game_settings]\nwidth = 800.0\n'
        '[modes.duel]\ngame = "arena"\nmax_players = 2\n[modes.duel.settings]\nwidth = 500.0\n'
        "[modes.plain]\ntick_rate = 30\nsnapshot_divisor = 3\nrecord = true\n"
    )
    assert main(["config", "--config", str(path)]) == 0
    printed = capsys.readouterr().out
    again = tmp_path / "printed.toml"
    again.write_text(printed)
    assert main(["config", "--config", str(again)]) == 0
    assert _values(capsys.readouterr().out) == _values(printed)
    assert build([read_file(again)]).config == build([read_file(path)]).config.replace(
        web_root=build([read_file(again)]).config.web.web_root
    )
    rooms = printed[printed.index("\n[rooms]\n") + 1 :].split("\n\n")[0].splitlines()[1:]
    assert [re.findall(r"\w+", line)[0] for line in rooms] == [
        field.name for field in attrs.fields(RoomsSection)
    ]
    assert '\n[modes.duel]\ngame = "arena"\ntick_rate = 0\nsnapshot_divisor = 1\n' in printed
    assert "max_players = 2\nmax_spectators = 64\nrecord = false\n" in printed
