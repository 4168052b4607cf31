"""Server configuration: one frozen class, every limit in one place.

Each field's comment is its documentation (``docs/operations.md`` repeats
them). Validation happens at construction so a bad value fails at start-up,
not in the middle of a match.
"""

from __future__ import annotations

from typing import Any

import attrs

from gameserver.sim.arena import ArenaSettings


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


@attrs.frozen
class Config:
    # Network
    host: str = "127.0.0.1"
    port: int = 8000  # 0 lets the OS pick a free port (tests)
    path: str = "/ws"  # WebSocket path advertised in the start-up log line
    # "fast": after the handshake the room's ticker reads and writes each socket itself,
    # once per tick; "tasks": a reader and a writer task per connection over trio-websocket.
    transport: str = attrs.field(default="fast", validator=attrs.validators.in_(("fast", "tasks")))

    # Ticks
    tick_rate: int = attrs.field(default=30, validator=_positive)  # simulation steps per second
    snapshot_divisor: int = attrs.field(default=1, validator=_positive)  # snapshot every Nth tick
    max_ticks_behind: int = attrs.field(default=5, validator=_positive)  # beyond this, skip ahead
    seed: int | None = None  # world seed; None picks one at random and logs it

    # Per-connection limits (memory per connection is bounded by these)
    max_message_bytes: int = attrs.field(default=256, validator=_positive)  # client message cap
    input_queue_size: int = attrs.field(
        default=8, validator=_positive
    )  # input frames buffered per player
    inbox_size: int = attrs.field(
        default=64, validator=_positive
    )  # received, not yet collected messages
    control_queue_size: int = attrs.field(default=16, validator=_positive)  # pending pongs/errors
    send_timeout_s: float = attrs.field(
        default=5.0, validator=_positive
    )  # stalled send -> close 4008
    join_timeout_s: float = attrs.field(
        default=10.0, validator=_positive
    )  # connect -> join message

    # Rooms
    max_players_per_room: int = attrs.field(default=512, validator=_positive)
    max_spectators_per_room: int = attrs.field(default=1024, validator=_positive)
    event_history_ticks: int = attrs.field(
        default=90, validator=_positive
    )  # events kept for skipped connections

    # Shutdown
    shutdown_timeout_s: float = attrs.field(default=2.0, validator=_positive)  # close frames to all

    # Observability
    stats_file: str | None = None  # write a JSON stats document here every stats_interval_s
    stats_interval_s: float = attrs.field(default=1.0, validator=_positive)
    stats_window_s: float = attrs.field(
        default=60.0, validator=_positive
    )  # tick percentiles over this

    # Game rules
    arena: ArenaSettings = attrs.field(factory=ArenaSettings)

    def __attrs_post_init__(self) -> None:
        if self.tick_rate % self.snapshot_divisor:
            raise ValueError("snapshot_divisor must divide tick_rate")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be in 0..65535, got {self.port}")

    @property
    def snapshot_rate(self) -> int:
        return self.tick_rate // self.snapshot_divisor

    @property
    def tick_interval_s(self) -> float:
        return 1.0 / self.tick_rate
