"""``gameserver config``, and the config sources every server command reads.

``gameserver serve`` and ``gameserver config`` take the same sources: ``--config FILE``
(else ``$GAMESERVER_CONFIG``), the environment and the setting flags (``cliflags.py``),
layered by ``configload.py``. ``gameserver config`` prints the result as a config file
(``configdump.py``); ``gameserver config --check FILE`` reads FILE alone and says whether a
server could start with it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping

from gameserver.cliflags import add_setting_flags, given_settings
from gameserver.config import Config
from gameserver.configdump import to_toml
from gameserver.configfile import read_file
from gameserver.configload import CONFIG_ENV_VAR, Loaded, build, check_games, read_env
from gameserver.configvalues import ConfigError


def add_config_sources(parser: argparse.ArgumentParser, shown_defaults: Mapping[str, str]) -> None:
    """``--config FILE`` and a flag for every setting."""
    parser.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="a config file (TOML; docs/operations.md, Config file); flags and GAMESERVER_* "
        f"environment variables override its settings (default: ${CONFIG_ENV_VAR})",
    )
    add_setting_flags(parser, shown_defaults)


def effective(
    args: argparse.Namespace, base: Config, env: Mapping[str, str] | None = None
) -> Loaded:
    """The configuration from ``base``, the config file, the environment and the flags, with
    every game checked; ``ConfigError`` names the value that is wrong and where it was set."""
    env = os.environ if env is None else env
    path = args.config if args.config is not None else env.get(CONFIG_ENV_VAR) or None
    from_file = read_file(path) if path else {}
    loaded = build([from_file, read_env(env), given_settings(args)], base)
    check_games(loaded)
    return loaded


def add_config_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], shown_defaults: Mapping[str, str]
) -> None:
    p = sub.add_parser(
        "config",
        help="print the effective configuration as a config file, or check a config file",
        usage="%(prog)s [-h] [--check FILE] [--config FILE] [--SETTING VALUE ...]",
        description="Prints the configuration gameserver serve would run with, given the "
        "same --config file, environment and options, as a config file (TOML) with secrets "
        "masked; exit status 2 if it is invalid. With --check FILE: reads FILE alone and "
        "exits 0 if a server could start with it, else 1 with the file, line, key and what "
        "is allowed.",
    )
    p.add_argument(
        "--check",
        default=None,
        metavar="FILE",
        help="check this config file (alone: not the environment or other options)",
    )
    add_config_sources(p, shown_defaults)


def run_config_command(args: argparse.Namespace, base: Config) -> int:
    if args.check is not None:
        try:
            check_games(build([read_file(args.check)], base))
        except ConfigError as error:
            print(f"gameserver config: {error}", file=sys.stderr)
            return 1
        print(f"{args.check}: OK")
        return 0
    try:
        loaded = effective(args, base)
    except ConfigError as error:
        print(f"gameserver config: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(to_toml(loaded))
    return 0
