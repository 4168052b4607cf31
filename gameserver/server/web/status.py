"""The server's state as plain data: what /healthz, /api/rooms and /monitor show.

Every document here is built on request from counters the tick already keeps,
so observing the server costs nothing while nobody looks. ``health`` and
``roster`` are public (load balancers, the game page): they name no private
room, and ``health`` names no player.

Private rooms (reached by a code) are left out of the public listings: their
names, rosters and scores are for the players invited. An operator's listing
asks for them with ``include_private=True``; each room document carries a
``private`` flag.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sized
from typing import TYPE_CHECKING, Any, Protocol

import trio

from gameserver.server.rooms.room import Room

if TYPE_CHECKING:
    from gameserver.config import Config
    from gameserver.server.metrics import Metrics
    from gameserver.server.rooms.manager import RoomManager


class ServerState(Protocol):
    """What the status documents (and ``/metrics``) read of the server: ``GameServer``."""

    @property
    def config(self) -> Config: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def rooms(self) -> Mapping[str, Room]: ...
    @property
    def room_manager(self) -> RoomManager: ...
    @property
    def uptime_s(self) -> float: ...
    @property
    def draining(self) -> bool: ...
    @property
    def connections(self) -> Sized: ...
    @property
    def http_connections(self) -> int: ...


def window_ticks(server: ServerState, window_s: float | None = None) -> int:
    """Ticks in the last ``window_s`` seconds (default: ``stats_window_s``), at least one."""
    config = server.config
    return max(1, round((window_s or config.stats.stats_window_s) * config.rooms.tick_rate))


def is_private(server: ServerState, room_name: str) -> bool:
    """A room reachable only by its code, which the public may not see listed."""
    return server.room_manager.is_private(room_name)


def roster(room: Room) -> list[dict[str, Any]]:
    """The room's players: what its scoreboard shows every player in it."""
    return [
        {
            "entity_id": entity_id,
            "name": name,
            "score": score or 0,
            "connected": connected,
        }
        for entity_id, name, connected, score in room.roster()
    ]


def _result(room: Room) -> dict[str, Any] | None:
    """The match's result once the game declared it over (player ids, scores, a summary)."""
    result = room.game.result
    if result is None:
        return None
    return {
        "tick": room.game.result_tick,
        "ranking": list(result.ranking),
        "scores": dict(result.scores),
        "summary": result.summary,
    }


def room_status(
    room: Room, *, window_ticks: int, with_roster: bool = True, private: bool = False
) -> dict[str, Any]:
    """One room; tick percentiles over its last ``window_ticks`` ticks."""
    config = room.config
    summary = room.ticker.stats.summary(window_ticks)
    status: dict[str, Any] = {
        "name": room.name,
        "private": private,
        "game": room.game.name,
        "players": room.player_count,
        "spectators": room.spectator_count,
        "max_players": config.rooms.max_players_per_room,
        "max_spectators": config.rooms.max_spectators_per_room,
        "tick": room.game.tick,
        "tick_rate": config.rooms.tick_rate,
        "snapshot_rate": config.rooms.tick_rate // config.rooms.snapshot_divisor,
        "running": not room.stopped,
        "tick_ms": {
            "p50": round(summary["duration_ms_p50"], 3),
            "p99": round(summary["duration_ms_p99"], 3),
            "max": round(summary["duration_ms_max"], 3),
        },
        "lateness_ms": {
            "p50": round(summary["lateness_ms_p50"], 3),
            "p99": round(summary["lateness_ms_p99"], 3),
        },
        "skipped_ticks": room.ticker.stats.skipped_ticks,
        "result": _result(room),
    }
    if with_roster:
        status["roster"] = roster(room)
    return status


def rooms_status(
    server: ServerState, *, window_s: float | None = None, include_private: bool = False
) -> list[dict[str, Any]]:
    """Every public room (and the private ones too, for an operator)."""
    ticks = window_ticks(server, window_s)
    is_private = server.room_manager.is_private
    return [
        room_status(room, window_ticks=ticks, private=is_private(name))
        for name, room in server.rooms.items()
        if include_private or not is_private(name)
    ]


def server_status(
    server: ServerState, *, window_s: float | None = None, include_private: bool = False
) -> dict[str, Any]:
    """The live monitor's document: server counters and every public room."""
    metrics = server.metrics
    return {
        "time_s": round(trio.current_time(), 3),
        "uptime_s": round(server.uptime_s, 3),
        "draining": server.draining,
        "server": {
            "connections": len(server.connections),
            "http_connections": server.http_connections,
            "messages_in": metrics.messages_in,
            "messages_out": metrics.messages_out,
            "bytes_in": metrics.bytes_in,
            "bytes_out": metrics.bytes_out,
            "protocol_errors": {str(k): v for k, v in sorted(metrics.protocol_errors.items())},
        },
        "rooms": rooms_status(server, window_s=window_s, include_private=include_private),
    }


def health(server: ServerState) -> tuple[int, dict[str, Any]]:
    """(HTTP status, document): 503 while draining for shutdown.

    A room whose tick raised is closed and forgotten (its players were told with 1011),
    so it does not make the process unhealthy; ``rooms_crashed`` counts such rooms.
    Private rooms count in the totals but are not named in ``tick``.
    """
    ticks = window_ticks(server)
    is_private = server.room_manager.is_private
    rooms = [
        room_status(r, window_ticks=ticks, with_roster=False, private=is_private(name))
        for name, r in server.rooms.items()
    ]
    status = "draining" if server.draining else "ok"
    document = {
        "status": status,
        "uptime_s": round(server.uptime_s, 3),
        "rooms": len(rooms),
        "players": sum(room["players"] for room in rooms),
        "spectators": sum(room["spectators"] for room in rooms),
        "connections": len(server.connections),
        "rooms_crashed": server.metrics.rooms_crashed,
        "tick": {
            room["name"]: {
                "tick_ms_p99": room["tick_ms"]["p99"],
                "lateness_ms_p99": room["lateness_ms"]["p99"],
                "skipped_ticks": room["skipped_ticks"],
                "running": room["running"],
            }
            for room in rooms
            if not room["private"]  # counted above, never named
        },
    }
    return (200 if status == "ok" else 503), document


def stats_document(server: ServerState) -> dict[str, Any]:
    """Counters and per-room tick health, as plain data (the ``stats_file``)."""
    ticks = window_ticks(server)
    return {
        "time_s": trio.current_time(),
        "metrics": server.metrics.as_dict(),
        "rooms": {
            name: {
                "players": room.player_count,
                "spectators": room.spectator_count,
                "tick": room.game.tick,
                "ticker": room.ticker.stats.summary(ticks),
            }
            for name, room in server.rooms.items()
        },
    }


async def write_stats_forever(server: ServerState, path: str) -> None:
    """Write ``stats_document`` to ``path`` every ``stats_interval_s``, until cancelled."""

    def write(document: str) -> None:
        temporary = f"{path}.tmp"
        with open(temporary, "w") as file:
            file.write(document)
        os.replace(temporary, path)  # readers never see a half-written file

    while True:
        await trio.to_thread.run_sync(write, json.dumps(stats_document(server)))
        await trio.sleep(server.config.stats.stats_interval_s)
