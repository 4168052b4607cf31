"""Settings from a config file, the environment and flags: loading, errors, precedence, masking.

Every ``Config`` field has a section and a doc, a flag of ``gameserver serve`` (but the
modes and the admin token), an environment variable and a key in the config file; a wrong
value anywhere is refused with where it was given and what is allowed.
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import pytest

import gameserver
from gameserver.cli import build_parser, main
from gameserver.cliflags import flags_of, given_settings
from gameserver.config import MODE_KEYS, SECTIONS, Config, about, setting_fields
from gameserver.configdump import mask, to_toml
from gameserver.configfile import key_lines, read_file
from gameserver.configload import build, check_games, read_env
from gameserver.configvalues import ConfigError, shape_of

OPERATIONS = Path(gameserver.__file__).resolve().parent.parent / "docs" / "operations.md"
SECRET = "a-secret-of-at-least-32-bytes-0123456789"


def write(tmp_path: Path, text: str, name: str = "server.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o600)
    return path


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["serve", *argv])


def subcommand(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    (choices,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found: argparse.ArgumentParser = choices.choices[name]
    return found


# -- the metadata


def test_every_setting_has_a_section_a_doc_and_a_reader() -> None:
    for field in setting_fields():
        info = about(field)
        assert info.section in SECTIONS, field.name
        assert len(info.doc) > 10, f"{field.name}: no doc"
        shape_of(field)  # raises for a type nothing reads
    used = {about(field).section for field in setting_fields()}
    assert used == set(SECTIONS)


def test_every_setting_but_the_modes_and_the_admin_token_is_a_serve_flag() -> None:
    shown = {s for a in subcommand("serve")._actions for s in a.option_strings}
    without = [f.name for f in setting_fields() if not flags_of(f)]
    assert sorted(without) == ["admin_token", "modes"]
    for field in setting_fields():
        assert set(flags_of(field)) <= shown, field.name
    config_flags = {s for a in subcommand("config")._actions for s in a.option_strings}
    assert config_flags == shown | {"--check"}


def test_the_docs_sections_table_is_the_metadata() -> None:
    text = OPERATIONS.read_text()
    rows = re.findall(r"^\| `\[([a-z.A-Z]+)\]` \| [^|]+ \| (.+) \|$", text, re.MULTILINE)
    documented = {table: re.findall(r"`(\w+)`", keys) for table, keys in rows}
    expected = {
        section: [f.name for f in setting_fields() if about(f).section == section]
        for section in SECTIONS
        if section != "modes"
    }
    expected["modes.NAME"] = list(MODE_KEYS)
    assert documented == expected


def test_the_configuration_references_defaults_are_configs() -> None:
    """A row of one field whose default is one Python literal in code quotes states it."""
    text = OPERATIONS.read_text()
    start = text.index("\n## Configuration reference\n")
    reference = text[start : text.index("\n## ", start + 1)]
    defaults, checked = Config(), 0
    for line in reference.splitlines():
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        if not cells or not cells[0].startswith("`"):
            continue
        names, values = re.findall(r"`([^`]*)`", cells[0]), re.findall(r"`([^`]*)`", cells[1])
        if len(names) == 1 and len(values) == 1:
            assert ast.literal_eval(values[0]) == defaults.get(names[0]), names[0]
            checked += 1
    assert checked > 60


def test_the_docs_example_config_file_loads(tmp_path: Path) -> None:
    text = OPERATIONS.read_text()
    example = re.search(r"```toml\n(# server\.toml.*?)```", text, re.DOTALL)
    assert example is not None
    loaded = build([read_file(write(tmp_path, example.group(1)))])
    check_games(loaded)
    config = loaded.config
    game = config.game.game
    assert (config.network.port, config.rooms.tick_rate, game) == (9000, 20, "crazyeights")
    assert config.admission.allowed_origins == ("https://game.example",)
    assert [(m.name, m.game.game, m.room.max_players_per_room) for m in config.modes] == [
        ("duel", "arena", 2),
        ("table4", "crazyeights", 4),
    ]
    assert config.modes[0].game.game_settings == {"width": 500.0, "height": 500.0}


# -- the file


def test_a_file_sets_settings_by_section_with_their_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "# comment\n[network]\nport = 9001\n\n[rooms]\ntick_rate = 20\nseed = 7\n"
        '[interest]\ninterest_cell_size = 150\n[auth]\njwt_algorithms = ["RS256"]\n',
    )
    loaded = build([read_file(path)])
    config = loaded.config
    assert (config.network.port, config.rooms.tick_rate, config.rooms.seed) == (9001, 20, 7)
    cell_size = config.interest.interest_cell_size
    assert cell_size == 150.0 and isinstance(cell_size, float)
    assert config.auth.jwt_algorithms == ("RS256",)
    assert str(loaded.origin("tick_rate")) == f"{path}:6 (rooms.tick_rate)"
    assert loaded.origin("host").where == "default"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("[network]\nport = 70000\n", 2, r"network\.port: must be in 0\.\.65535, got 70000"),
        ("[network]\nhost = 1\n", 2, r"network\.host: expected text, got 1"),
        ('[rooms]\n\ntick_rate = "30"\n', 3, r"rooms\.tick_rate: expected an integer >= 0"),
        ("[rooms]\ntick_rate = 2.5\n", 2, r"expected an integer >= 0, got 2\.5"),
        ("[limits]\nsend_timeout_s = true\n", 2, r"expected a number > 0, got true"),
        ("[network]\nprot = 1\n", 2, r"network\.prot: unknown setting; did you mean port\?"),
        ("[network]\ntick_rate = 1\n", 2, r"not a setting of \[network\]: it goes under \[rooms\]"),
        ("port = 1\n", 1, r"port: a setting goes under its table: put it under \[network\]"),
        ("[netwrk]\n", 1, r"unknown table \[netwrk\]; did you mean network\?"),
        ('[network]\ntransport = "slow"\n', 2, r"must be one of 'fast', 'tasks', got 'slow'"),
        ("[admission]\nallowed_origins = \"x\"\n", 2, r"expected a list of texts"),
        ("[rooms]\ntick_rate = 30\nsnapshot_divisor = 7\n", 3,
         r"rooms\.snapshot_divisor: snapshot_divisor must divide tick_rate"),
        ("[interest]\nview_ring = 1\ninner_ring = 2\n", 3, r"inner_ring must not exceed view_ring"),
        ("[modes.Big]\n", 1, r"modes\.Big: mode name must be 1\.\.24 of a-z"),
        ("[modes.duel]\nmax_player = 2\n", 2, r"modes\.duel\.max_player: unknown mode setting; "
         r"did you mean max_players\?"),
        ("\n[modes.duel]\nmax_spectators = 0\n", 3,
         r"modes\.duel\.max_spectators: must be > 0, got 0"),
        ("[network\n", 1, r"not valid TOML"),
    ],
)  # fmt: skip
def test_a_wrong_file_names_its_line_key_and_what_is_allowed(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        build([read_file(path)])
    assert str(error.value).startswith(f"{path}:{line}: "), str(error.value)
    assert re.search(message, str(error.value)), str(error.value)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('[game]\ngame = "nosuch"\n', 2, r"game\.game: no game named 'nosuch'"),
        ('[modes.duel]\ngame = "arena"\n[modes.duel.settings]\nwidht = 3.0\n', 3,
         r"modes\.duel\.settings: game 'arena' has no setting 'widht'"),
        ('[game]\ngame = "crazyeights"\n[game.game_settings]\nturn_seconds = -3\n', 3,
         r"game\.game_settings: settings for game 'crazyeights': turn_seconds"),
    ],
)  # fmt: skip
def test_a_game_or_game_setting_that_is_wrong_is_placed_too(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        check_games(build([read_file(path)]))
    assert str(error.value).startswith(f"{path}:{line}: "), str(error.value)
    assert re.search(message, str(error.value)), str(error.value)


def test_modes_in_a_file_replace_the_examples(tmp_path: Path) -> None:
    loaded = build([read_file(write(tmp_path, '[modes.cards]\ngame = "crazyeights"\n'))])
    assert [mode.name for mode in loaded.config.modes] == ["cards"]
    assert build([read_file(write(tmp_path, "[modes]\n"))]).config.modes == ()
    assert [mode.name for mode in build([]).config.modes] == ["duel", "squad"]


def test_the_line_scan_follows_tables_and_dotted_keys() -> None:
    lines = key_lines('a = 1\n[network]\n port = 2 # x\n"quoted key" = 3\n[modes.duel]\n'
                      'settings.width = 4\n[[array]]\n')  # fmt: skip
    assert lines[("a",)] == 1
    assert lines[("network", "port")] == 3
    assert lines[("network", "quoted key")] == 4
    assert lines[("modes", "duel", "settings", "width")] == 6
    assert lines[("array",)] == 7


def test_a_secret_in_a_file_others_can_read_is_warned_of(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, f'[admin]\nadmin_token = "{SECRET}"\n')
    read_file(path)
    assert not caplog.records
    path.chmod(0o644)
    read_file(path)
    assert "admin_token" in caplog.text and "other users can read it" in caplog.text


# -- the environment


def test_the_environment_sets_every_kind_of_setting() -> None:
    env = {
        "GAMESERVER_TICK_RATE": "20",
        "GAMESERVER_SEND_TIMEOUT_S": "2.5",
        "GAMESERVER_INTEREST_MANAGEMENT": "no",
        "GAMESERVER_ALLOWED_ORIGINS": "https://a.example, https://b.example",
        "GAMESERVER_GAME_SETTINGS": "{width = 300.0}",
        "GAMESERVER_MODES": '{cards = {game = "crazyeights", max_players = 4}}',
        "GAMESERVER_CERTFILE": "",
        "GAMESERVER_ADMIN_TOKEN": "token",
        "GAMESERVER_SECRET": SECRET,
        "GAMESERVER_UNRELATED": "ignored",
    }
    config = build([read_env(env)]).config
    assert (config.rooms.tick_rate, config.limits.send_timeout_s) == (20, 2.5)
    assert config.interest.interest_management is False
    assert config.admission.allowed_origins == ("https://a.example", "https://b.example")
    assert config.game.game_settings == {"width": 300.0}
    assert [(m.name, m.game.game, m.room.max_players_per_room) for m in config.modes] == [
        ("cards", "crazyeights", 4)
    ]
    assert config.network.certfile is None
    assert (config.admin.admin_token, config.auth.join_secret) == ("token", SECRET)


def test_a_misspelt_variable_is_warned_of(caplog: pytest.LogCaptureFixture) -> None:
    config = build([read_env({"GAMESERVER_TICKRATE": "20", "GAMESERVER_CONFIG": "x"})]).config
    assert config.rooms.tick_rate == 0  # the default: the game's own
    (record,) = caplog.records
    assert record.getMessage() == (
        "GAMESERVER_TICKRATE is not a setting and is ignored (did you mean GAMESERVER_TICK_RATE?)"
    )


def test_numbers_must_be_finite(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"GAMESERVER_SEND_TIMEOUT_S: expected a number > 0"):
        build([read_env({"GAMESERVER_SEND_TIMEOUT_S": "nan"})])
    path = write(tmp_path, "[limits]\nsend_timeout_s = inf\n")
    with pytest.raises(ConfigError, match=r":2: limits.send_timeout_s: expected a finite number"):
        build([read_file(path)])


def test_gameserver_secret_is_read_before_the_fields_own_name() -> None:
    other = "b" * 40
    env = {"GAMESERVER_SECRET": SECRET, "GAMESERVER_JOIN_SECRET": other}
    assert build([read_env(env)]).config.auth.join_secret == SECRET
    assert build([read_env({"GAMESERVER_JOIN_SECRET": other})]).config.auth.join_secret == other


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("GAMESERVER_PORT", "http", r"GAMESERVER_PORT: expected an integer in 0\.\.65535"),
        ("GAMESERVER_RECORD_ALL", "maybe", r"GAMESERVER_RECORD_ALL: expected true or false"),
        ("GAMESERVER_GAME_SETTINGS", "width=3", r"a TOML inline table"),
        ("GAMESERVER_SECRET", "", r"GAMESERVER_SECRET: join_secret must be at least 32 bytes"),
        ("GAMESERVER_SECRET", "short", r"GAMESERVER_SECRET: join_secret must be at least 32"),
        ("GAMESERVER_MODES", "{Big = {}}", r"GAMESERVER_MODES: mode name must be"),
    ],
)
def test_a_wrong_environment_variable_is_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        build([read_env({name: value})])
    assert str(error.value).startswith("environment: "), str(error.value)
    assert re.search(message, str(error.value)), str(error.value)


# -- flags and precedence


def test_flags_beat_the_environment_which_beats_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[rooms]\ntick_rate = 20\nmax_rooms = 9\nseed = 1\n")
    env = {"GAMESERVER_TICK_RATE": "15", "GAMESERVER_MAX_ROOMS": "8"}
    args = parse("--max-rooms", "7")
    loaded = build([read_file(path), read_env(env), given_settings(args)])
    config = loaded.config
    assert (config.rooms.seed, config.rooms.tick_rate, config.rooms.max_rooms) == (1, 15, 7)
    assert loaded.origin("seed").where == f"{path}:4"
    assert loaded.origin("tick_rate").key == "GAMESERVER_TICK_RATE"
    assert loaded.origin("max_rooms").key == "--max-rooms"


def test_a_flag_left_out_leaves_the_files_value_alone(tmp_path: Path) -> None:
    path = write(tmp_path, "[network]\nport = 9001\n")
    assert build([read_file(path), given_settings(parse())]).config.network.port == 9001
    flagged = build([read_file(path), given_settings(parse("--port", "8000"))]).config
    assert flagged.network.port == 8000


def test_the_older_flags_still_set_their_fields() -> None:
    args = parse(
        "--max-players", "4", "--max-spectators", "5", "--cell-size", "150", "--no-interest",
        "--redis", "redis://h:1/0", "--node-ttl", "3", "--public-url", "ws://x/ws",
        "--match-rate-per-address", "0", "--jwt-leeway", "5", "--stats-window", "9",
        "--jwt-algorithms", "RS256,ES256", "--record", "recs", "--view-ring", "0",
        "--game-setting", "width=300", "--game-setting", "name=text",
    )  # fmt: skip
    config = build([given_settings(args)]).config
    assert (config.rooms.max_players_per_room, config.rooms.max_spectators_per_room) == (4, 5)
    interest = config.interest
    assert (interest.interest_cell_size, interest.interest_management) == (150.0, False)
    assert (config.cluster.redis_url, config.cluster.node_ttl_s, config.cluster.public_ws_url) == (
        "redis://h:1/0", 3.0, "ws://x/ws",
    )  # fmt: skip
    assert (
        config.matchmaking.match_rate_per_s,
        config.auth.jwt_leeway_s,
        config.stats.stats_window_s,
    ) == (0, 5, 9)
    assert config.auth.jwt_algorithms == ("RS256", "ES256")
    assert (config.recording.record_all, config.recording.recordings_dir) == (True, "recs")
    # The inner ring follows the view ring down.
    assert (config.interest.view_ring, config.interest.inner_ring) == (0, 0)
    assert config.game.game_settings == {"width": 300, "name": "text"}


def test_a_wrong_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse("--tick-rate", "-1")
    assert exit_.value.code == 2
    assert "argument --tick-rate: must be >= 0, got -1" in capsys.readouterr().err


# -- gameserver config


def test_mask_keeps_where_a_url_points_but_no_secret() -> None:
    assert mask("redis://:pw@cache.internal:6380/2") == "redis://********@cache.internal:6380/2"
    assert mask("redis://cache:6379/0?password=pw") == "redis://cache:6379/0?********"
    assert mask("s3cr3t-token") == "********"


def test_the_printed_configuration_masks_secrets_and_loads_back(tmp_path: Path) -> None:
    path = write(tmp_path, '[rooms]\ntick_rate = 20\n[modes.cards]\ngame = "crazyeights"\n'
                 "[modes.cards.settings]\nturn_seconds = 15\n")  # fmt: skip
    env = {"GAMESERVER_SECRET": SECRET, "GAMESERVER_REDIS_URL": "redis://:pw@h:6379/0"}
    loaded = build([read_file(path), read_env(env), given_settings(parse("--port", "9"))])
    printed = to_toml(loaded)
    assert SECRET not in printed and ":pw@" not in printed
    assert 'join_secret = "********"  # $GAMESERVER_SECRET (masked)' in printed
    assert "tick_rate = 20  # " + f"{path}:2" in printed
    assert "port = 9  # --port" in printed
    again = write(tmp_path, printed, "printed.toml")
    reloaded = build([read_file(again), read_env(env)]).config
    assert reloaded == loaded.config


def test_config_prints_what_serve_would_run_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "[rooms]\ntick_rate = 20\n")
    monkeypatch.setenv("GAMESERVER_ADMIN_TOKEN", "do-not-show-me")
    assert main(["config", "--config", str(path), "--max-rooms", "3"]) == 0
    out = capsys.readouterr().out
    assert "\n[rooms]\ntick_rate = 20  # " in out and "max_rooms = 3  # --max-rooms" in out
    assert "do-not-show-me" not in out
    assert "web_root = " in out and "clients/web" in out  # serve's own default


def test_config_check_says_ok_or_where_a_file_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GAMESERVER_TICK_RATE", "0")  # not read by --check
    good = write(tmp_path, "[rooms]\ntick_rate = 20\n", "good.toml")
    assert main(["config", "--check", str(good)]) == 0
    assert capsys.readouterr().out == f"{good}: OK\n"
    bad = write(tmp_path, "[rooms]\ntick_rate = 20\n\n[network]\nport = -1\n", "bad.toml")
    assert main(["config", "--check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err == f"gameserver config: {bad}:5: network.port: must be in 0..65535, got -1\n"


def test_serve_stops_at_a_wrong_file_with_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, '[game]\ngame = "nosuch"\n')
    assert main(["serve", "--config", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"gameserver: {bad}:2: game.game: no game named")
    assert main(["serve", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read the config file" in capsys.readouterr().err
