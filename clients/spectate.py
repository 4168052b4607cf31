"""The terminal spectator: a live top-down view of a room, or one JSON state.

Theory of operation: a spectator client mirrors the world; every frame
(``FRAME_S``) the view samples the interpolator at the client's render time,
so entities glide between snapshots, and draws them on a character grid
scaled to the arena, beside a scoreboard. Keys are read from the terminal in
cbreak mode by a small task; ``q`` quits, as does Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import trio
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from gameserver.games.arena import POSITION_SCALE, EntityKind
from gameserver.protocol import Role

from .client import GameClient, connect
from .world import ALIVE_FLAG, describe_world, scoreboard

FRAME_S = 0.1
GRID_COLUMNS = 64
GRID_ROWS = 28
_PLAYER_GLYPHS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


async def snapshot_json(url: str, timeout_s: float = 10.0) -> dict[str, Any]:
    """Connect as a spectator, take the first snapshot, return it as plain data."""
    with trio.fail_after(timeout_s):
        async with connect(url, role=Role.SPECTATOR, name="spectate", interpolate=False) as client:
            await client.next_snapshot()
            welcome = client.welcome
            assert welcome is not None
            return {
                "tick": client.tick,
                "server_time_ms": client.server_time_ms,
                "game": welcome.game,
                "world": {"width": welcome.world_width, "height": welcome.world_height},
                "tick_rate": welcome.tick_rate,
                "snapshot_rate": welcome.snapshot_rate,
                "entities": describe_world(client.world),
            }


def glyph(entity_id: int) -> str:
    return _PLAYER_GLYPHS[entity_id % len(_PLAYER_GLYPHS)]


def render_grid(client: GameClient, columns: int = GRID_COLUMNS, rows: int = GRID_ROWS) -> Text:
    welcome = client.welcome
    assert welcome is not None
    sx, sy = columns / welcome.world_width, rows / welcome.world_height
    cells = [[" "] * columns for _ in range(rows)]
    styles: dict[tuple[int, int], str] = {}

    def put(x: float, y: float, char: str, style: str) -> None:
        col, row = int(x * sx), int(y * sy)
        if 0 <= col < columns and 0 <= row < rows:
            cells[row][col] = char
            styles[(row, col)] = style

    for entity in client.world.values():
        if entity[0] == EntityKind.OBSTACLE:
            x, y, r = (v / POSITION_SCALE for v in entity[1:4])
            for row in range(max(0, int((y - r) * sy)), min(rows, int((y + r) * sy) + 1)):
                for col in range(max(0, int((x - r) * sx)), min(columns, int((x + r) * sx) + 1)):
                    cx, cy = (col + 0.5) / sx, (row + 0.5) / sy
                    if (cx - x) ** 2 + (cy - y) ** 2 <= r * r:
                        cells[row][col] = "#"
                        styles[(row, col)] = "grey50"
    views = client.remote_view()
    for eid, view in views.items():
        moving = client.world.get(eid)
        if moving is None:
            continue
        if moving[0] == EntityKind.PROJECTILE:
            put(view.x, view.y, "*", "yellow")
        elif moving[0] == EntityKind.PLAYER:
            alive = bool(moving[6] & ALIVE_FLAG)
            put(view.x, view.y, glyph(eid) if alive else "x", "bold green" if alive else "red")
    text = Text()
    border = "+" + "-" * columns + "+\n"
    text.append(border, style="grey39")
    for row in range(rows):
        text.append("|", style="grey39")
        for col in range(columns):
            text.append(cells[row][col], style=styles.get((row, col), ""))
        text.append("|\n", style="grey39")
    text.append(border.rstrip("\n"), style="grey39")
    return text


def render(client: GameClient, url: str, banner: str = "") -> Group:
    rtt = client.clock.rtt_s
    header = Text(
        f"{url}  tick {client.tick}  rtt {rtt * 1000:.0f} ms  "
        if rtt is not None
        else f"{url}  tick {client.tick}  rtt -  ",
        style="bold",
    )
    header.append("q quits", style="dim")
    board = Table(title="scoreboard", show_edge=False, min_width=24)
    board.add_column("player")
    board.add_column("score", justify="right")
    board.add_column("hp", justify="right")
    for eid, score, hp, alive in scoreboard(client.world)[: GRID_ROWS - 2]:
        board.add_row(f"{glyph(eid)} #{eid}", str(score), str(hp) if alive else "dead")
    layout = Table.grid(padding=(0, 2))
    layout.add_row(render_grid(client), board)
    if banner:
        return Group(Text(banner, style="bold green"), header, layout)
    return Group(header, layout)


@contextlib.contextmanager
def _cbreak(fd: int) -> Iterator[None]:
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


async def _wait_for_q(done: trio.CancelScope) -> None:
    if not sys.stdin.isatty():
        return
    fd = sys.stdin.fileno()
    with _cbreak(fd):
        try:
            async with trio.lowlevel.FdStream(os.dup(fd)) as stream:
                while True:
                    data = await stream.receive_some(16)
                    if not data or b"q" in data.lower():
                        done.cancel()
                        return
        finally:
            os.set_blocking(fd, True)  # the dup shared our O_NONBLOCK flag with the shell


async def spectate_live(url: str, duration_s: float | None = None, *, banner: str = "") -> None:
    """Show the room until ``q``, Ctrl-C, the server closing, or ``duration_s``."""
    console = Console()
    async with connect(url, role=Role.SPECTATOR, name="spectate") as client:
        await client.next_snapshot()
        with trio.move_on_after(duration_s if duration_s else float("inf")) as scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_wait_for_q, scope)
                with Live(console=console, auto_refresh=False, screen=console.is_terminal) as live:
                    while client.failure is None:
                        if client.stats.snapshots_received % 30 == 0:
                            await client.ping()
                        live.update(render(client, url, banner), refresh=True)
                        await trio.sleep(FRAME_S)
                nursery.cancel_scope.cancel()
        if client.failure is not None:
            console.print(f"connection ended: {client.failure}")


def dump_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2)
