"""The arena's rules by entity id, for tests: ``ArenaWorld`` over the headless kit.

The arena's own tests speak of entities (the ids on the wire) and of the controls each
player holds, as a room applies them: ``send`` gives a player's buttons and aim from the
next step on, repeated every tick until the next ``send`` (a held key stays held). Every
step goes through ``Headless``, so each input, event and entity also goes through the
arena's schema as it would on the wire.
"""

from __future__ import annotations

from typing import Any

from gameserver.games.arena import ArenaRules, ArenaSettings, Buttons, Controls, Obstacle
from gameserver.rules import Player
from gameserver.testing import Headless, SentEvent

_ALIVE = 1  # bit 0 of a player's wire flags


class ArenaWorld:
    """One arena, stepped by hand; players are named by their entity ids."""

    def __init__(
        self, settings: ArenaSettings | None = None, *, seed: int = 0, tick_rate: int = 30
    ) -> None:
        self.game: Headless[Controls] = Headless(
            ArenaRules, settings or ArenaSettings(), seed=seed, tick_rate=tick_rate
        )
        rules = self.game.rules
        assert isinstance(rules, ArenaRules)
        self.rules = rules
        self._players: dict[int, Player] = {}

    @property
    def settings(self) -> ArenaSettings:
        return self.rules.settings

    @property
    def tick(self) -> int:
        return self.rules.tick

    @property
    def obstacles(self) -> tuple[Obstacle, ...]:
        return self.rules.obstacles

    # -- players --------------------------------------------------------------------

    def join(self, name: str) -> int:
        """A new player; its entity id."""
        player = self.game.join(name)
        entity = self.game.entity_of[player.id]
        self._players[entity] = player
        return entity

    def leave(self, entity: int) -> None:
        """The player leaves (nothing happens for an unknown id)."""
        player = self._players.pop(entity, None)
        if player is not None:
            self.game.leave(player)

    def player(self, entity: int) -> Player:
        return self._players[entity]

    def send(self, entity: int, buttons: int, aim: int = 0, view_tick: float | None = None) -> None:
        """The player's controls from the next step on (nothing happens for an unknown id)."""
        player = self._players.get(entity)
        if player is not None:
            self.game.input(player, Controls(buttons=Buttons(buttons), aim=aim),
                            view_tick=view_tick)  # fmt: skip

    def place(self, entity: int, x: float, y: float) -> None:
        """Teleport a player: clamped, snapped and kept out of obstacles."""
        self.rules.place(entity, x, y)

    # -- time -----------------------------------------------------------------------------

    def step(self, ticks: int = 1) -> list[SentEvent]:
        """Run ``ticks`` steps; their events, each with the tick it happened on."""
        return self.game.step(ticks)

    def events(self, ticks: int = 1) -> list[Any]:
        """Run ``ticks`` steps; their events (the declared objects: ``Hit``, ``Death``...)."""
        return [sent.event for sent in self.game.step(ticks)]

    # -- reading ----------------------------------------------------------------------------

    def wire_state(self) -> dict[int, tuple[Any, ...]]:
        return self.rules.wire_state()

    def wire(self, entity: int) -> tuple[Any, ...]:
        """One entity's wire tuple."""
        return self.rules.wire_state()[entity]

    def position(self, entity: int) -> tuple[float, float] | None:
        """Where an entity is in the rules (exact, not rounded for the wire), None if gone."""
        found = self.rules.entities().get(entity)
        return None if found is None else (found.x, found.y)

    def alive(self, entity: int) -> bool:
        return bool(self.wire(entity)[6] & _ALIVE)

    def state_hash(self) -> str:
        return self.rules.state_hash()
