"""A game between two steps, as data: the rules' saved state and what a host keeps for them.

Both hosts of rules, the room's ``GameHost`` and the testing kit's ``Headless``, keep the
same things besides the rules: the players in join order with their entities, each
player's held input (its wire fields, whether it is fresh, its view tick), the commands
and the membership hooks' events waiting for the next step, and the result once the
match is over. ``SavedGame`` is that, encoded as one CBOR map; recordings carry it as
their snapshots (``gameserver/recording.py``), so ``decode`` reads untrusted bytes: it
checks the shape of every part (``StateError`` naming it) and leaves the values to the
host, which decodes inputs, commands and events through the game's schema and the rules'
part through ``Rules.restore`` (which runs none of it).
"""

from __future__ import annotations

from typing import Any

import attrs
import cbor2

from gameserver.rules import MatchResult, Player, SchemaError, StateError, WireValue

HeldInput = tuple[str, list[WireValue], bool, float | None]  # player id, fields, fresh, view tick
PendingEvent = tuple[list[WireValue], frozenset[str] | None]  # [kind, *args], who may see it

_PARTS = frozenset({"rules", "players", "inputs", "commands", "events", "result"})


@attrs.frozen
class SavedGame:
    rules: bytes  # Rules.save()
    players: tuple[tuple[Player, int], ...] = ()  # with the entity each controls, in join order
    inputs: tuple[HeldInput, ...] = ()
    commands: tuple[tuple[str, list[WireValue]], ...] = ()  # player id, [kind, *args]
    events: tuple[PendingEvent, ...] = ()  # returned by join & co., for the next step
    result: tuple[int, MatchResult] | None = None  # the tick the match ended, and how

    def encode(self) -> bytes:
        result = self.result
        return cbor2.dumps(
            {
                "rules": self.rules,
                "players": [[p.id, p.name, dict(p.claims), e] for p, e in self.players],
                "inputs": [list(held) for held in self.inputs],
                "commands": [[player_id, wire] for player_id, wire in self.commands],
                "events": [[wire, None if to is None else sorted(to)] for wire, to in self.events],
                "result": None
                if result is None
                else [
                    result[0],
                    list(result[1].ranking),
                    dict(result[1].scores),
                    result[1].summary,
                ],
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> SavedGame:
        """The saved game in ``data``; ``StateError`` naming the part that is malformed."""
        try:
            doc = cbor2.loads(data)
        except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as error:
            raise StateError(f"not a saved game: {error}") from None
        _expect(type(doc) is dict and set(doc) == _PARTS, "a saved game's parts")
        _expect(type(doc["rules"]) is bytes, "the rules' saved state")
        players = tuple(_player(entry) for entry in _list(doc["players"], "the players"))
        ids = {player.id for player, _ in players}
        return cls(
            rules=doc["rules"],
            players=players,
            inputs=tuple(_input(entry, ids) for entry in _list(doc["inputs"], "the inputs")),
            commands=tuple(
                _command(entry, ids) for entry in _list(doc["commands"], "the commands")
            ),
            events=tuple(_event(entry) for entry in _list(doc["events"], "the pending events")),
            result=None if doc["result"] is None else _result(doc["result"]),
        )


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise StateError(f"damaged saved game: {what}")


def _list(value: object, what: str) -> list[Any]:
    _expect(type(value) is list, what)
    return value  # type: ignore[return-value]


def _items(value: object, count: int, what: str) -> list[Any]:
    _expect(type(value) is list and len(value) == count, what)
    return value  # type: ignore[return-value]


def _player(entry: object) -> tuple[Player, int]:
    player_id, name, claims, entity_id = _items(entry, 4, "a player")
    _expect(type(player_id) is str and type(name) is str, "a player's id and name")
    _expect(type(claims) is dict and type(entity_id) is int, "a player's claims and entity")
    return Player(player_id, name, claims), entity_id


def _input(entry: object, players: set[str]) -> HeldInput:
    player_id, fields, fresh, view_tick = _items(entry, 4, "an input")
    _expect(player_id in players and type(fields) is list, "an input's player and fields")
    _expect(type(fresh) is bool, "an input's freshness")
    _expect(view_tick is None or type(view_tick) in (int, float), "an input's view tick")
    return player_id, fields, fresh, view_tick


def _command(entry: object, players: set[str]) -> tuple[str, list[WireValue]]:
    player_id, wire = _items(entry, 2, "a command")
    _expect(player_id in players and type(wire) is list, "a command's player and fields")
    return player_id, wire


def _event(entry: object) -> PendingEvent:
    wire, to = _items(entry, 2, "a pending event")
    _expect(type(wire) is list and (to is None or type(to) is list), "a pending event")
    _expect(to is None or all(type(p) is str for p in to), "an event's recipients")
    return wire, None if to is None else frozenset(to)


def _result(entry: object) -> tuple[int, MatchResult]:
    tick, ranking, scores, summary = _items(entry, 4, "the result")
    _expect(type(tick) is int and type(summary) is str, "the result's tick and summary")
    _expect(type(ranking) is list and all(type(p) is str for p in ranking), "the ranking")
    _expect(type(scores) is dict and all(type(v) is int for v in scores.values()), "the scores")
    return tick, MatchResult(tuple(ranking), scores, summary)


def checked(decode: Any, fields: list[WireValue]) -> Any:
    """``decode(fields)`` (the game's schema), a ``SchemaError`` as a ``StateError``."""
    try:
        return decode(fields)
    except SchemaError as error:
        raise StateError(f"damaged saved game: {error}") from None
