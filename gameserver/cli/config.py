"""``gameserver config``: print the effective configuration, or check a config file."""

from __future__ import annotations

import argparse

from gameserver.cli.common import SERVE_SHOWN_DEFAULTS, SubParsers, serve_base


def add(sub: SubParsers) -> None:
    from gameserver.configcli import add_config_command

    add_config_command(sub, SERVE_SHOWN_DEFAULTS)


def run(args: argparse.Namespace) -> int:
    from gameserver.configcli import run_config_command

    return run_config_command(args, serve_base())
