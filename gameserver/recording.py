"""Match recordings: the format, and re-simulating one to check it (pure: no I/O here).

A recording is a sequence of CBOR items (RFC 8742), appended as the match runs:

1. a header map: ``format`` ("gameserver-recording"), ``version`` (``FORMAT_VERSION``),
   ``rules`` and ``rules_version`` (the game's id and its rules class's ``version``),
   ``seed``, ``tick_rate``, ``settings`` (the game's settings as a table), ``room``,
   ``mode``;
2. one array per tick, ``[tick, ops, state_hash, entities]``:
   - ``ops``: every call the room made to its game since the previous step, in order:
     ``[0, player_id, name, entity_id, claims]`` join, ``[1, player_id]`` leave,
     ``[2, player_id]`` disconnected, ``[3, player_id]`` reconnected,
     ``[4, player_id, fields, view_tick]`` an input (its wire fields; ``view_tick`` or
     null), ``[5, player_id, [kind, *args]]`` a command;
   - ``state_hash``: the game's full state hash after the step (16 bytes), or ``null``;
   - ``entities``: ``{entity_id: 32-bit digest of its wire tuple}`` after the step, or
     ``null`` (written with the hash, so a divergence can be traced to an entity);
3. ``[-1, from_tick, to_tick]``: a gap, where the writer's buffer was full and ticks were
   lost (counted, and reported by ``verify``, never silent);
4. (version 3) ``[-2, tick, state_hash, game]``: a snapshot, right after tick ``tick``'s
   record, every ``recording_snapshot_every_s``: ``game`` is ``GameHost.save()`` (the
   rules' whole state as data, the players, held inputs and pending commands) and
   ``state_hash`` the game's state hash at that tick (16 bytes).

``verify`` finds the rules by their id (``gameserver.rules.loading``), rebuilds the game
from the header and replays every tick: joins must give the recorded entities, and each
recorded hash must match. The first tick that does not is reported with the first entity
whose wire tuple differs. Each snapshot is checked twice: the re-simulated state must
have its hash, and the snapshot restored on its own must too (so a snapshot that was
altered, or that does not capture the whole state, is found). ``verify(from_tick=N)``
and ``seek`` start from the newest snapshot at or before tick N instead of the start
and re-simulate only from there. A snapshot is restored as untrusted data (nothing in
it is run: ``gameserver/rules/_savedstate.py``); its hash is a check of consistency, not
of who wrote the file. Version 2 recordings (no snapshots) replay as before.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

import attrs
import cbor2

from gameserver.core import GameHost
from gameserver.errors import GameServerError
from gameserver.rules import Player, Rules, StateError
from gameserver.rules.loading import GameLoadError, load_rules, make_settings, settings_to_table

FORMAT = "gameserver-recording"
FORMAT_VERSION = 3
READABLE_VERSIONS = (2, 3)  # version 2: the same without snapshots
JOIN, LEAVE, DISCONNECTED, RECONNECTED, INPUT, COMMAND = range(6)
GAP = -1
SNAPSHOT = -2


class RecordingError(GameServerError):
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
    snapshots_checked: int = 0
    start_tick: int = 0  # the snapshot's tick the replay started from (0: the start)

    @property
    def ok(self) -> bool:
        return self.divergence is None and not self.gaps


def header(*, rules: str, rules_version: int, seed: int, tick_rate: int, settings: object,
           room: str, mode: str, game: str = "") -> bytes:  # fmt: skip
    return cbor2.dumps(
        {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "rules": rules,
            "game": game or rules,  # how the server found it: a name or module:Class
            "rules_version": rules_version,
            "seed": seed,
            "tick_rate": tick_rate,
            "settings": _plain(settings_to_table(settings)),
            "room": room,
            "mode": mode,
        }
    )


def _plain(value: Any) -> Any:
    """Tuples as lists, recursively (CBOR has arrays; settings classes take either)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def entity_digests(state: dict[int, tuple[Any, ...]], *, has_text: bool = False) -> dict[int, int]:
    # Python's hash of a tuple of ints is the same in every process (no hash seed for
    # ints) and far cheaper per tick than hashing an encoding; text is hashed with a
    # per-process seed, so a game with text fields gets a CRC of each tuple's CBOR instead.
    # The digests only say which entity differs once the state hash (blake2b, stable
    # everywhere) found a divergence.
    if has_text:
        return {eid: zlib.crc32(cbor2.dumps(values)) for eid, values in state.items()}
    return {eid: hash(values) & 0xFFFFFFFF for eid, values in state.items()}


def tick_record(
    tick: int, ops: list[list[Any]], state_hash: str | None, entities: dict[int, int] | None
) -> bytes:
    digest = bytes.fromhex(state_hash) if state_hash is not None else None
    return cbor2.dumps([tick, ops, digest, entities])


def gap_record(from_tick: int, to_tick: int) -> bytes:
    return cbor2.dumps([GAP, from_tick, to_tick])


def snapshot_record(tick: int, state_hash: str, game: bytes) -> bytes:
    return cbor2.dumps([SNAPSHOT, tick, bytes.fromhex(state_hash), game])


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
    if item.get("version") not in READABLE_VERSIONS:
        readable = ", ".join(f"v{v}" for v in READABLE_VERSIONS)
        raise RecordingError(
            f"recording format v{item.get('version')} is not supported "
            f"(this version reads {readable})"
        )
    rules = _recorded_rules(item)
    if item.get("rules_version") != rules.version:
        raise RecordingError(
            f"recorded with {rules.id} rules v{item.get('rules_version')}; this server has "
            f"v{rules.version}, so the match would not replay the same: use the version "
            "that recorded it"
        )
    return item


def _recorded_rules(head: dict[str, Any]) -> type[Rules[Any, Any]]:
    """The rules a recording was made with: found as the server found them, else by id."""
    tried: list[str] = []
    for spec in dict.fromkeys((str(head.get("game") or ""), str(head.get("rules")))):
        if not spec:
            continue
        try:
            rules = load_rules(spec)
        except GameLoadError as error:
            tried.append(str(error))
            continue
        if rules.id == head.get("rules"):
            return rules
        tried.append(f"{spec!r} is game {rules.id!r}, the recording says {head.get('rules')!r}")
    raise RecordingError("cannot replay: " + "; ".join(tried))


def new_game(head: dict[str, Any]) -> GameHost:
    """The recorded game at its start: same rules, settings and seed."""
    rules = _recorded_rules(head)
    try:
        settings = make_settings(rules, head["settings"])
    except GameLoadError as error:
        raise RecordingError(f"cannot replay: {error}") from None
    tick_rate = head["tick_rate"]
    return GameHost(rules(settings, head["seed"], tick_rate=tick_rate), tick_rate=tick_rate)


def replay_tick(game: GameHost, record: list[Any]) -> tuple[int, int] | None:
    """Replay one tick record; the first join that got another entity, as (got, recorded),
    or None. The step is not taken when a join went wrong."""
    _tick, ops, _hash, _entities = record
    for op in ops:
        kind, player_id = op[0], op[1]
        if kind == JOIN:
            got = game.join(Player(player_id, op[2], op[4] or {}))
            if got != op[3]:
                return got, op[3]
        elif kind == LEAVE:
            game.leave(player_id)
        elif kind == DISCONNECTED:
            game.disconnected(player_id)
        elif kind == RECONNECTED:
            game.reconnected(player_id)
        elif kind == INPUT:
            game.set_input(player_id, game.decode_input(op[2]), op[3])
        elif kind == COMMAND:
            game.command(player_id, game.decode_command(op[2]))
    game.step()
    return None


def restore_game(head: dict[str, Any], record: list[Any]) -> GameHost:
    """The game as a snapshot record saved it, checked against the snapshot's state hash
    (``RecordingError`` saying which snapshot, if it cannot be restored or differs)."""
    if len(record) != 4 or type(record[1]) is not int or type(record[3]) is not bytes:
        raise RecordingError("a damaged snapshot record")
    tick, state_hash = record[1], record[2]
    try:
        game = GameHost.restored(_recorded_rules(head), record[3], tick_rate=head["tick_rate"])
    except StateError as error:
        raise RecordingError(f"the snapshot at tick {tick} cannot be restored: {error}") from None
    if game.tick != tick or bytes.fromhex(game.state_hash()) != state_hash:
        raise RecordingError(
            f"the snapshot at tick {tick} does not restore to its recorded state hash "
            "(it was altered, or the game's save() leaves part of its state out)"
        )
    return game


def _records(items: Iterator[Any]) -> Iterator[list[Any]]:
    for item in items:
        if not isinstance(item, list) or not item or type(item[0]) is not int:
            raise RecordingError("a damaged record in the recording")
        yield item


def _newest_snapshot(source: BinaryIO, tick: int) -> list[Any] | None:
    """The last snapshot record at or before ``tick`` (a pass over the file that decodes
    but does not simulate), and the file back at its start."""
    found = None
    items = read_items(source)
    next(items, None)
    for record in _records(items):
        if record[0] == SNAPSHOT and type(record[1]) is int and record[1] <= tick:
            found = record
    source.seek(0)
    return found


@attrs.frozen
class Seek:
    game: GameHost  # at the wanted tick (or the last recorded one before it)
    from_snapshot: int  # the snapshot's tick it was restored at (0: re-simulated from the start)


def seek(source: BinaryIO, tick: int, *, use_snapshots: bool = True) -> Seek:
    """The recorded game at ``tick``: restored from the newest snapshot at or before it,
    then re-simulated to it (from the start without a snapshot, or ``use_snapshots``
    False). Snapshots and hashes on the way are not checked: ``verify`` does that."""
    snapshot = _newest_snapshot(source, tick) if use_snapshots else None
    items = read_items(source)
    head = check_header(next(items, None))
    game = new_game(head) if snapshot is None else restore_game(head, snapshot)
    start = game.tick
    for record in _records(items):
        if record[0] == GAP and record[2] > start and record[1] <= tick:
            raise RecordingError(f"ticks {record[1]}..{record[2]} were not recorded")
        if record[0] < 0 or record[0] <= start:
            continue
        if record[0] > tick:
            break
        if replay_tick(game, record) is not None:
            raise RecordingError(f"tick {record[0]}: a join got another entity")
    return Seek(game, start)


def verify(source: BinaryIO, *, from_tick: int | None = None) -> VerifyResult:
    """Re-simulate a recording; the first divergence, if any (``RecordingError`` if
    unreadable). ``from_tick``: start from the newest snapshot at or before it (the
    file must be seekable)."""
    snapshot = _newest_snapshot(source, from_tick) if from_tick is not None else None
    items = read_items(source)
    head = check_header(next(items, None))
    ticks = hashes = snapshots = 0
    if snapshot is None:
        game = new_game(head)
    else:
        try:
            game = restore_game(head, snapshot)
        except RecordingError as error:
            return VerifyResult(0, 0, (), Divergence(snapshot[1], str(error)), 1, snapshot[1])
        snapshots = 1
    start = game.tick
    gaps: list[tuple[int, int]] = []

    def result(divergence: Divergence | None = None) -> VerifyResult:
        return VerifyResult(ticks, hashes, tuple(gaps), divergence, snapshots, start)

    for item in _records(items):
        if item[0] == GAP:
            if item[2] <= start:
                continue  # lost before the snapshot the replay starts from: not needed
            gaps.append((item[1], item[2]))
            return result()  # cannot replay past a gap
        if item[0] == SNAPSHOT:
            if item[1] <= start:
                continue
            snapshots += 1
            problem = _check_snapshot(head, game, item)
            if problem is not None:
                return result(Divergence(item[1], problem))
            continue
        tick, _ops, state_hash, entities = item
        if tick <= start:
            continue
        wrong_join = replay_tick(game, item)
        if wrong_join is not None:
            got, recorded = wrong_join
            reason = f"a join got entity {got}, the recording says {recorded}"
            return result(Divergence(tick, reason, recorded))
        ticks += 1
        if game.tick != tick:
            reason = f"the replay is at tick {game.tick}, the recording at {tick}"
            return result(Divergence(tick, reason))
        if state_hash is not None:
            hashes += 1
            if bytes.fromhex(game.state_hash()) != state_hash:
                return result(_explain(game, tick, entities))
    return result()


def _check_snapshot(head: dict[str, Any], game: GameHost, record: list[Any]) -> str | None:
    """Why a snapshot is wrong: not the re-simulated state, or not restoring to it."""
    tick = record[1]
    if game.tick != tick or bytes.fromhex(game.state_hash()) != record[2]:
        return f"the snapshot at tick {tick} does not match the re-simulated state"
    try:
        restore_game(head, record)
    except RecordingError as error:
        return str(error)
    return None


def _explain(game: GameHost, tick: int, recorded: dict[int, int] | None) -> Divergence:
    state = game.wire_state()
    replayed = entity_digests(state, has_text=game.schema.has_text)
    for entity_id in sorted(set(replayed) | set(recorded or {})):
        if recorded is not None and replayed.get(entity_id) != recorded.get(entity_id):
            where = game.schema.position(state[entity_id]) if entity_id in state else None
            at = f" (replayed at {where[0]:.2f}, {where[1]:.2f})" if where else ""
            reason = f"entity {entity_id} differs from the recording{at}"
            return Divergence(tick, reason, entity_id)
    return Divergence(tick, "hidden state differs (cooldowns, timers or the random generator)")
