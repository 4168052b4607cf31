"""The terminal spectator: a live top-down view of a room of any game, or one JSON state.

Theory of operation: a spectator client mirrors the world; at every redraw
(``REDRAW_S``) the view samples the interpolator at the client's render time,
so entities glide between snapshots, and draws every entity that has a position
(fields the game's description marks ``position``) on a character grid scaled
to the world, beside a scoreboard. What to draw how is read from the
description, never from the game's name: a type without interpolated fields is
scenery, drawn as ``#`` (a filled disc when it has a ``radius`` field); a type
with a ``score`` field is a contender, drawn with a letter per entity and
listed on the scoreboard (best score first, with its fields that neither move
nor place it); any other moving type is drawn as ``*``. Keys are read from the
terminal in cbreak mode by a small task; ``q`` quits, as does Ctrl-C.
"""

from __future__ import annotations

import collections
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

from gameserver.protocol import Role
from gameserver.rules import GameSchema, wire_fields

from ._client import GameClient, connect
from ._prediction import position_of
from ._world import plain_value

REDRAW_S = 0.1
GRID_COLUMNS = 64
GRID_ROWS = 28
SCORE_FIELD = "score"  # a type with this field is listed on the scoreboard
RADIUS_FIELD = "radius"  # scenery with this field is drawn as a disc
_GLYPHS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


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
                "entities": client.entities.describe(),
            }


def summary(data: dict[str, Any]) -> str:
    """One line about a ``snapshot_json`` state: its tick and how many of each type."""
    counts = collections.Counter(e["type"] for e in data["entities"])
    kinds = ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))
    return f"tick {data['tick']}: {len(data['entities'])} entities ({kinds or 'none'})"


def glyph(entity_id: int) -> str:
    return _GLYPHS[entity_id % len(_GLYPHS)]


def _moving_types(schema: GameSchema) -> set[str]:
    return {e.name for e in schema.entities if any(t.interpolate for t in e.wire_types)}


def _position(entity: object) -> tuple[float, float] | None:
    layout = position_of(type(entity))
    return None if layout is None else (getattr(entity, layout[0]), getattr(entity, layout[1]))


def render_grid(client: GameClient, columns: int = GRID_COLUMNS, rows: int = GRID_ROWS) -> Text:
    welcome, schema = client.welcome, client.session.schema
    assert welcome is not None and schema is not None
    width, height = max(welcome.world_width, 1), max(welcome.world_height, 1)
    sx, sy = columns / width, rows / height
    cells = [[" "] * columns for _ in range(rows)]
    styles: dict[tuple[int, int], str] = {}

    def put(x: float, y: float, char: str, style: str) -> None:
        col, row = int(x * sx), int(y * sy)
        if 0 <= col < columns and 0 <= row < rows:
            cells[row][col] = char
            styles[(row, col)] = style

    moving = _moving_types(schema)
    for entity in client.entities.values():
        if type(entity).__name__ in moving:
            continue
        at = _position(entity)
        if at is None:
            continue
        x, y = at
        r = float(getattr(entity, RADIUS_FIELD, 0.0))
        put(x, y, "#", "grey50")
        for row in range(max(0, int((y - r) * sy)), min(rows, int((y + r) * sy) + 1)):
            for col in range(max(0, int((x - r) * sx)), min(columns, int((x + r) * sx) + 1)):
                cx, cy = (col + 0.5) / sx, (row + 0.5) / sy
                if (cx - x) ** 2 + (cy - y) ** 2 <= r * r:
                    cells[row][col] = "#"
                    styles[(row, col)] = "grey50"
    for eid, view in client.remote_view().items():
        at = _position(view)
        if at is None:
            continue
        if hasattr(view, SCORE_FIELD):
            put(*at, glyph(eid), "bold green")
        else:
            put(*at, "*", "yellow")
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


def scoreboard(client: GameClient) -> Table:
    """Entities with a score, best first, with their plain fields (positions left out)."""
    board = Table(title="scoreboard", show_edge=False, min_width=24)
    contenders = [(eid, e) for eid, e in client.entities.items() if hasattr(e, SCORE_FIELD)]
    contenders.sort(key=lambda item: (-getattr(item[1], SCORE_FIELD), item[0]))
    columns: list[str] = []
    if contenders:
        first = contenders[0][1]
        layout = position_of(type(first))
        hidden = {SCORE_FIELD, *(layout[:2] if layout is not None else ())}
        columns = [n for n, t in wire_fields(type(first)) if n not in hidden and not t.interpolate]
    board.add_column("who")
    board.add_column(SCORE_FIELD, justify="right")
    for name in columns:
        board.add_column(name, justify="right")
    for eid, entity in contenders[: GRID_ROWS - 2]:
        cells = [str(plain_value(getattr(entity, n, ""))) for n in columns]
        board.add_row(f"{glyph(eid)} #{eid}", str(getattr(entity, SCORE_FIELD)), *cells)
    return board


def render(client: GameClient, url: str, banner: str = "") -> Group:
    rtt = client.clock.rtt_s
    header = Text(
        f"{url}  tick {client.tick}  rtt {rtt * 1000:.0f} ms  "
        if rtt is not None
        else f"{url}  tick {client.tick}  rtt -  ",
        style="bold",
    )
    header.append("q quits", style="dim")
    layout = Table.grid(padding=(0, 2))
    layout.add_row(render_grid(client), scoreboard(client))
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
                        await trio.sleep(REDRAW_S)
                nursery.cancel_scope.cancel()
        if client.failure is not None:
            console.print(f"connection ended: {client.failure}")


def dump_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2)
