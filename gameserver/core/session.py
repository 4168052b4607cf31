"""One joined connection inside a room: its role, entity and baseline."""

from __future__ import annotations

import attrs

from gameserver.protocol import Role, WireState

from .inputs import InputQueue
from .limits import TokenBucket
from .seams import Connection

EMPTY_STATE: WireState = {}


@attrs.define(eq=False)
class Session:
    connection: Connection
    role: Role
    name: str
    entity_id: int  # 0 for spectators
    input_queue: InputQueue
    joined_tick: int
    resume_token: str = ""  # players: reclaims the entity after a drop
    subject: str = ""  # join-token subject ("" without tokens)
    player_id: str = ""  # the rules' stable id of this player ("" for spectators)
    # The last snapshot this connection accepted: deltas are computed against it.
    baseline_tick: int = 0
    baseline_state: WireState = EMPTY_STATE
    interest_centre: int | None = None  # the player's cell at its last snapshot
    ack_seq: int = 0  # seq of the newest input consumed by the simulation
    sent_ack_seq: int = 0  # the ack_seq its last delivered snapshot carried
    last_client_tick: int = 0  # newest snapshot tick the client says it applied
    inputs_tick: int = -1  # the tick inputs_this_tick counts for
    commands_tick: int = -1  # likewise for commands_this_tick
    commands_this_tick: int = 0
    inputs_this_tick: int = 0
    chat_bucket: TokenBucket | None = None  # made at the first Say

    # Read several times per connection per tick: a plain attribute, not a property.
    is_player: bool = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.is_player = self.role is Role.PLAYER
