"""Match recordings: the format, and re-simulating one to check it (pure: no I/O here).

A recording is a sequence of CBOR items (RFC 8742), appended as the match runs:

1. a header map: ``format`` ("gameserver-recording"), ``version`` (``FORMAT_VERSION``),
   ``rules`` and ``rules_version`` (the game's name and ``RULES_VERSION``), ``seed``,
   ``tick_rate``, ``settings`` (the arena settings), ``room``, ``mode``;
2. one array per tick, ``[tick, ops, inputs, state_hash, entities]``:
   - ``ops``: joins and leaves since the previous step, in order:
     ``[0, entity_id, name]`` (join) or ``[1, entity_id]`` (leave);
   - ``inputs``: ``[[entity_id, buttons, aim(, view_tick)], ...]`` applied before the step,
     in order, or ``null`` for "the same calls as the previous tick";
   - ``state_hash``: the game's full state hash after the step (16 bytes), or ``null``;
   - ``entities``: ``{entity_id: 32-bit digest of its wire tuple}`` after the step, or ``null``
     (written with the hash, so a divergence can be traced to an entity);
3. ``[-1, from_tick, to_tick]``: a gap, where the writer's buffer was full and ticks were
   lost (counted, and reported by ``verify``, never silent).

``verify`` rebuilds the game from the header and replays every tick: joins must
return the recorded ids, and each recorded hash must match. The first tick that does
not is reported with the first entity whose wire tuple differs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import attrs
import cbor2

from gameserver.sim.arena import RULES_VERSION, Arena, ArenaSettings

FORMAT = "gameserver-recording"
FORMAT_VERSION = 1
JOIN, LEAVE = 0, 1
GAP = -1


class RecordingError(Exception):
    """A recording that cannot be read or replayed (wrong format, version or rules)."""


@attrs.frozen
class Divergence:
    tick: int
    reason: str
    entity_id: int | None = None


@attrs.frozen
class VerifyResult:
    ticks: int  # ticks replayed
    hashes_checked: int
    gaps: tuple[tuple[int, int], ...]  # (from_tick, to_tick) the writer could not keep
    divergence: Divergence | None

    @property
    def ok(self) -> bool:
        return self.divergence is None and not self.gaps


def header(*, rules: str, seed: int, tick_rate: int, settings: ArenaSettings, room: str,
           mode: str) -> bytes:  # fmt: skip
    return cbor2.dumps(
        {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "rules": rules,
            "rules_version": RULES_VERSION,
            "seed": seed,
            "tick_rate": tick_rate,
            "settings": _settings_to_cbor(settings),
            "room": room,
            "mode": mode,
        }
    )


def entity_digests(state: dict[int, tuple[int, ...]]) -> dict[int, int]:
    # Python's hash of a tuple of ints is the same in every process (no hash seed for
    # ints) and far cheaper per tick than hashing an encoding. The digests only say which
    # entity differs once the state hash (blake2b, stable everywhere) found a divergence.
    return {eid: hash(values) & 0xFFFFFFFF for eid, values in state.items()}


def tick_record(
    tick: int,
    ops: list[list[Any]],
    inputs: list[list[int]] | None,
    state_hash: str | None,
    entities: dict[int, int] | None,
) -> bytes:
    digest = bytes.fromhex(state_hash) if state_hash is not None else None
    return cbor2.dumps([tick, ops, inputs, digest, entities])


def gap_record(from_tick: int, to_tick: int) -> bytes:
    return cbor2.dumps([GAP, from_tick, to_tick])


def _settings_to_cbor(settings: ArenaSettings) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in attrs.asdict(settings).items()}


def _settings_from_cbor(data: dict[str, Any]) -> ArenaSettings:
    known = {field.name for field in attrs.fields(ArenaSettings)}
    values: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known
    }
    return ArenaSettings(**values)


def read_items(source: BinaryIO) -> Iterator[Any]:
    """The recording's items; a last item cut short (the process died mid-write) ends it."""
    decoder = cbor2.CBORDecoder(source)
    while True:
        try:
            yield decoder.decode()
        except cbor2.CBORDecodeEOF:
            return
        except cbor2.CBORDecodeError as error:
            raise RecordingError(f"the recording is damaged: {error}") from None


def check_header(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or item.get("format") != FORMAT:
        raise RecordingError("not a gameserver recording")
    if item.get("version") != FORMAT_VERSION:
        raise RecordingError(
            f"recording format v{item.get('version')} is not supported "
            f"(this version reads v{FORMAT_VERSION})"
        )
    if item.get("rules") != "arena":
        raise RecordingError(f"recorded with rules {item.get('rules')!r}; only 'arena' replays")
    if item.get("rules_version") != RULES_VERSION:
        raise RecordingError(
            f"recorded with arena rules v{item.get('rules_version')}; this server has "
            f"v{RULES_VERSION}, so the match would not replay the same: use the version "
            "that recorded it"
        )
    return item


def new_game(head: dict[str, Any]) -> Arena:
    return Arena(_settings_from_cbor(head["settings"]), seed=head["seed"],
                 tick_rate=head["tick_rate"])  # fmt: skip


def replay_tick(
    game: Arena, record: list[Any], inputs: list[list[Any]]
) -> tuple[list[list[Any]], tuple[int, int] | None]:
    """Replay one tick record; (the inputs now in force, the first join that got another id
    as (got, recorded), or None). The step is not taken when a join went wrong."""
    _tick, ops, recorded_inputs, _hash, _entities = record
    for op in ops:
        if op[0] == JOIN:
            got = game.join(op[2])
            if got != op[1]:
                return inputs, (got, op[1])
        else:
            game.leave(op[1])
    if recorded_inputs is not None:
        inputs = recorded_inputs
    for entry in inputs:  # [entity_id, buttons, aim] or [..., view_tick]
        game.apply_input(*entry)
    game.step()
    return inputs, None


def verify(source: BinaryIO) -> VerifyResult:
    """Re-simulate a recording; the first divergence, if any (``RecordingError`` if unreadable)."""
    items = read_items(source)
    head = check_header(next(items, None))
    game = new_game(head)
    ticks = hashes = 0
    gaps: list[tuple[int, int]] = []
    inputs: list[list[Any]] = []
    for item in items:
        if not isinstance(item, list) or not item:
            raise RecordingError(f"damaged record after tick {game.tick}")
        if item[0] == GAP:
            gaps.append((item[1], item[2]))
            return VerifyResult(ticks, hashes, tuple(gaps), None)  # cannot replay past a gap
        tick, _ops, _inputs, state_hash, entities = item
        inputs, wrong_join = replay_tick(game, item, inputs)
        if wrong_join is not None:
            got, recorded = wrong_join
            reason = f"a join got entity {got}, the recording says {recorded}"
            return VerifyResult(ticks, hashes, (), Divergence(tick, reason, recorded))
        ticks += 1
        if game.tick != tick:
            reason = f"the replay is at tick {game.tick}, the recording at {tick}"
            return VerifyResult(ticks, hashes, (), Divergence(tick, reason))
        if state_hash is not None:
            hashes += 1
            if bytes.fromhex(game.state_hash()) != state_hash:
                return VerifyResult(ticks, hashes, (), _explain(game, tick, entities))
    return VerifyResult(ticks, hashes, tuple(gaps), None)


def _explain(game: Arena, tick: int, recorded: dict[int, int] | None) -> Divergence:
    replayed = entity_digests(game.wire_state())
    for entity_id in sorted(set(replayed) | set(recorded or {})):
        if recorded is not None and replayed.get(entity_id) != recorded.get(entity_id):
            where = game.entity_position(entity_id)
            at = f" (replayed at {where[0]:.2f}, {where[1]:.2f})" if where else ""
            reason = f"entity {entity_id} differs from the recording{at}"
            return Divergence(tick, reason, entity_id)
    return Divergence(tick, "hidden state differs (cooldowns, timers or the random generator)")
