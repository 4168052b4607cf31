from __future__ import annotations

import math
import sys

import trio

from gameserver.games.arena import AIM_STEPS, POSITION_SCALE


def position(entity: tuple[int, ...]) -> tuple[float, float]:
    return entity[1] / POSITION_SCALE, entity[2] / POSITION_SCALE


def aim_at(source: tuple[int, ...], target: tuple[int, ...]) -> int:
    (sx, sy), (tx, ty) = position(source), position(target)
    return round(math.atan2(ty - sy, tx - sx) / (2 * math.pi) * AIM_STEPS) % AIM_STEPS


async def run_swarm(*args: str) -> tuple[int, str, str]:
    """``gameserver swarm ARGS`` as a process: (exit status, stdout, stderr)."""
    result = await trio.run_process(
        [sys.executable, "-m", "gameserver", "swarm", *args],
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    return result.returncode, result.stdout.decode(), result.stderr.decode()
