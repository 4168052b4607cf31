"""Interest management: each player receives what is near it, encoded once per cell.

Theory of operation
-------------------
The world is cut into square cells. A player centred in cell ``g`` sees the
cells within Chebyshev ring ``view_ring`` of ``g``; the cells within
``inner_ring`` are its *inner* view, the rest its *far* view. Entities are
placed by the position fields every wire tuple starts with (kind, x_q, y_q).

Per snapshot, work is shared: every changed entity's delta entry and every
entity's full entry are encoded at most once, and joined per cell into
chunks. A player's body is a concatenation of chunks, and is itself shared by
every player with the same (current cell, previous cell).

What the client knows decides what it gets. After a snapshot delivered at the
previous snapshot tick, a player's mirror holds every entity that was in its
view, exactly for inner cells and possibly stale for far cells. So:

- inner cells that were inner before get delta entries (full entries for
  entities that came from outside the old inner view);
- far cells are refreshed with full entries only now and then: each centre
  keeps a priority accumulator per far cell, grown while the cell has changes;
  the oldest go first while the snapshot stays under ``budget_bytes``, and at
  least one goes every snapshot, so none starves;
- cells (or entities) the client did not have in view before always come in
  full, and entities that left the view are listed as removed.

A player whose previous snapshot was skipped (conflation) or who just joined
gets a full snapshot of its view (baseline 0) instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import cbor2

from gameserver.protocol import change_entry
from gameserver.rules import PositionLayout

WireState = Mapping[int, tuple[Any, ...]]
Chunk = tuple[int, bytes]  # (entries, encoded entries)
EMPTY_CHUNK: Chunk = (0, b"")
_NOTHING: list[int] = []  # shared, never mutated


def array_header(n: int) -> bytes:
    """CBOR header of an array of ``n`` items."""
    if n < 24:
        return bytes((0x80 | n,))
    if n < 256:
        return bytes((0x98, n))
    if n < 65536:
        return bytes((0x99, n >> 8, n & 0xFF))
    return b"\x9a" + n.to_bytes(4, "big")


class Grid:
    """Cell geometry and each cell's rings, computed once."""

    def __init__(
        self,
        width: float,
        height: float,
        cell_size: float,
        view_ring: int,
        inner_ring: int,
        layout: PositionLayout,
    ):
        if not 0 <= inner_ring <= view_ring:
            raise ValueError("need 0 <= inner_ring <= view_ring")
        self.x_index, self.y_index = layout.x_index, layout.y_index
        self.cell_qx = cell_size * layout.x_scale  # a cell's side in wire units
        self.cell_qy = cell_size * layout.y_scale
        self.cols = max(1, math.ceil(width / cell_size))
        self.rows = max(1, math.ceil(height / cell_size))
        cells = self.cols * self.rows
        self.view: list[tuple[int, ...]] = []
        self.inner: list[tuple[int, ...]] = []
        self.far: list[tuple[int, ...]] = []
        self.view_set: list[frozenset[int]] = []
        self.inner_set: list[frozenset[int]] = []
        self.far_of: list[list[int]] = [[] for _ in range(self.cols * self.rows)]
        for c in range(cells):
            cx, cy = c % self.cols, c // self.cols
            ring: dict[int, int] = {}
            for y in range(max(0, cy - view_ring), min(self.rows, cy + view_ring + 1)):
                for x in range(max(0, cx - view_ring), min(self.cols, cx + view_ring + 1)):
                    ring[x + y * self.cols] = max(abs(x - cx), abs(y - cy))
            self.view.append(tuple(ring))
            self.inner.append(tuple(k for k, r in ring.items() if r <= inner_ring))
            self.far.append(tuple(k for k, r in ring.items() if r > inner_ring))
            self.view_set.append(frozenset(ring))
            self.inner_set.append(frozenset(self.inner[-1]))
        for g, far in enumerate(self.far):
            for c in far:
                self.far_of[c].append(g)  # g sees c as far

    def cell(self, entity: Sequence[int]) -> int:
        cols, rows = self.cols, self.rows
        cx = min(cols - 1, max(0, int(entity[self.x_index] // self.cell_qx)))
        cy = min(rows - 1, max(0, int(entity[self.y_index] // self.cell_qy)))
        return cx + cy * cols


class Interest:
    """Builds interest-managed snapshot bodies; one instance per room."""

    def __init__(
        self,
        width: float,
        height: float,
        *,
        cell_size: float,
        view_ring: int,
        inner_ring: int,
        budget_bytes: int,
        layout: PositionLayout,
    ) -> None:
        self.grid = Grid(width, height, cell_size, view_ring, inner_ring, layout)
        self.budget_bytes = budget_bytes
        self.prev_tick = 0  # tick of the previous snapshot built
        self._prev_state: WireState = {}
        self._prev_cell_of: dict[int, int] = {}
        self._prev_cells: list[list[int]] = [[] for _ in self.grid.view]
        # Per centre: far cells with changes its viewers have not been sent yet, and the
        # tick of the oldest such change (the priority: oldest first).
        self.pending: list[dict[int, int]] = [{} for _ in self.grid.view]

    def for_tick(self, tick: int, state: WireState, events: bytes) -> InterestTick:
        """Shared data of one snapshot; ``events``: encoded events since the previous one."""
        shared = InterestTick(self, tick, state, events)
        pending, far_of = self.pending, self.grid.far_of
        for c, dirty in enumerate(shared.dirty):
            if dirty:
                for g in far_of[c]:
                    pending[g].setdefault(c, tick)
        self.prev_tick = tick
        self._prev_state = state
        self._prev_cell_of = shared.cell_of
        self._prev_cells = shared.cells
        return shared


class InterestTick:
    """One snapshot tick's cells, chunks and bodies, shared by every viewer: built lazily
    and cached."""

    def __init__(self, interest: Interest, tick: int, state: WireState, events: bytes) -> None:
        self.interest = interest
        grid = self.grid = interest.grid
        self.tick = tick
        self.state = state
        self.events = events
        self.prev_state = interest._prev_state
        self.prev_cell_of = prev_cell_of = interest._prev_cell_of
        self.prev_cells = interest._prev_cells
        cells: list[list[int]] = [[] for _ in grid.view]
        cell_of: dict[int, int] = {}
        dirty = self.dirty = [False] * len(cells)  # an entity in the cell changed, came or went
        prev_state = self.prev_state
        cols, last_col, last_row = grid.cols, grid.cols - 1, grid.rows - 1
        qx, qy, xi, yi = grid.cell_qx, grid.cell_qy, grid.x_index, grid.y_index
        # An entity whose field count changed is removed and added again (delta rule), so
        # it is treated as new wherever it is: entity id -> its previous cell.
        reshaped: dict[int, int] = {}
        for eid, entity in state.items():  # the hot loop: Grid.cell inlined
            cx = int(entity[xi] // qx)
            cy = int(entity[yi] // qy)
            c = (last_col if cx > last_col else 0 if cx < 0 else cx) + cols * (
                last_row if cy > last_row else 0 if cy < 0 else cy
            )
            cell_of[eid] = c
            cells[c].append(eid)
            prev = prev_state.get(eid)
            if prev != entity:
                dirty[c] = True
                if prev is not None and len(prev) != len(entity):
                    reshaped[eid] = prev_cell_of[eid]  # the previous state's ids: same keys
        for eid, c in prev_cell_of.items():
            if cell_of.get(eid) != c:
                dirty[c] = True
        self.reshaped = reshaped
        if reshaped:
            self.prev_cell_of = prev_cell_of = {
                eid: c for eid, c in prev_cell_of.items() if eid not in self.reshaped
            }
        self.cells = cells
        self.cell_of = cell_of
        # Where each cell's entities were at the previous snapshot (None: not there).
        self._sources: list[frozenset[int | None] | None] = [None] * len(cells)
        self._delta_entries: dict[int, bytes | None] = {}
        self._full_entries: dict[int, bytes] = {}
        self._delta_chunks: dict[int, Chunk] = {}
        self._full_chunks: dict[int, Chunk] = {}
        self._departures: dict[int, list[int]] | None = None
        self._far_choice: dict[int, frozenset[int]] = {}
        self._bodies: dict[tuple[int, int], bytes] = {}
        self._steady_removed: dict[int, list[int]] | None = None
        self._full_bodies: dict[tuple[int, bytes], bytes] = {}

    # -- entries and chunks ---------------------------------------------------------

    def full_entry(self, eid: int) -> bytes:
        entry = self._full_entries.get(eid)
        if entry is None:
            entity = self.state[eid]
            entry = self._full_entries[eid] = cbor2.dumps([eid, (1 << len(entity)) - 1, *entity])
        return entry

    def delta_entry(self, eid: int) -> bytes | None:
        """The entity's change since the previous snapshot (None: unchanged)."""
        if eid in self._delta_entries:
            return self._delta_entries[eid]
        entry = change_entry(eid, self.prev_state.get(eid), self.state[eid])
        encoded = self._delta_entries[eid] = None if entry is None else cbor2.dumps(entry)
        return encoded

    def full_chunk(self, c: int) -> Chunk:
        chunk = self._full_chunks.get(c)
        if chunk is None:
            state = self.state
            # One encoder call per cell: the entries are the array's items, its head cut off.
            entries = [[eid, (1 << len(e)) - 1, *e] for eid in self.cells[c] for e in (state[eid],)]
            n = len(entries)
            chunk = self._full_chunks[c] = (n, cbor2.dumps(entries)[len(array_header(n)) :])
        return chunk

    def delta_chunk(self, c: int) -> Chunk:
        chunk = self._delta_chunks.get(c)
        if chunk is None:
            get_prev, state = self.prev_state.get, self.state
            entries = [
                entry
                for eid in self.cells[c]
                if (entry := change_entry(eid, get_prev(eid), state[eid])) is not None
            ]
            n = len(entries)
            chunk = self._delta_chunks[c] = (n, cbor2.dumps(entries)[len(array_header(n)) :])
        return chunk

    def sources(self, c: int) -> frozenset[int | None]:
        found = self._sources[c]
        if found is None:
            prev = self.prev_cell_of
            found = self._sources[c] = frozenset(map(prev.get, self.cells[c]))
        return found

    def departures(self) -> dict[int, list[int]]:
        """Cell -> entities that were in it at the previous snapshot and are not now."""
        if self._departures is None:
            gone: dict[int, list[int]] = {}
            cell_of = self.cell_of
            for eid, pc in self.prev_cell_of.items():
                if cell_of.get(eid) != pc:
                    gone.setdefault(pc, []).append(eid)
            self._departures = gone
        return self._departures

    # -- far cells: priority accumulator under a byte budget -----------------------

    def far_choice(self, centre: int) -> frozenset[int]:
        """Far cells of ``centre`` refreshed in full this snapshot (chosen once per centre).

        Oldest pending change first, while the snapshot stays under the byte budget, and
        at least one cell per snapshot: a cell waits at most as many snapshots as there
        are far cells, however busy the others are.
        """
        chosen = self._far_choice.get(centre)
        if chosen is not None:
            return chosen
        pending = self.interest.pending[centre]
        if not pending:
            self._far_choice[centre] = frozenset()
            return self._far_choice[centre]
        delta_chunks, delta_chunk = self._delta_chunks, self.delta_chunk
        spent = 0
        for c in self.grid.inner[centre]:
            spent += len((delta_chunks.get(c) or delta_chunk(c))[1])
        budget = self.interest.budget_bytes
        full_chunks, full_chunk = self._full_chunks, self.full_chunk
        picked: list[int] = []
        # A pending dict is oldest first already: entries are added with the tick that
        # found the change, which only grows, and never updated (ties: insertion order,
        # deterministic).
        for c in pending:
            cost = len((full_chunks.get(c) or full_chunk(c))[1])
            if picked and spent + cost > budget:
                break
            picked.append(c)
            spent += cost
        for c in picked:
            del pending[c]
        chosen = self._far_choice[centre] = frozenset(picked)
        return chosen

    def stale_for_mover(self, prev_centre: int) -> frozenset[int]:
        """Far cells a viewer leaving ``prev_centre`` may hold stale (this snapshot included)."""
        return frozenset(self.interest.pending[prev_centre]) | self._far_choice.get(
            prev_centre, frozenset()
        )

    # -- bodies -----------------------------------------------------------------------

    def full_body(self, centre: int, events: bytes) -> bytes:
        """Everything in view, for a client starting from an empty world (baseline 0).

        ``events``: the encoded events this client has not had yet.
        """
        key = (centre, events)
        body = self._full_bodies.get(key)
        if body is None:
            chunks = [self.full_chunk(c) for c in self.grid.view[centre]]
            count = sum(n for n, _ in chunks)
            empty_removed = b"\x80"
            body = b"".join([array_header(count), *(d for _, d in chunks), empty_removed, events])
            self._full_bodies[key] = body
        return body

    def body(self, centre: int, prev_centre: int) -> bytes:
        """Delta body for a client whose previous snapshot was this room's previous one."""
        key = (centre, prev_centre)
        body = self._bodies.get(key)
        if body is None:
            if centre == prev_centre:
                body = self._build_steady(centre)
            else:
                body = self._build(centre, prev_centre)
            self._bodies[key] = body
        return body

    def _build(self, centre: int, prev_centre: int) -> bytes:
        """Any viewer's delta body (``_build_steady``: the same bytes, faster, if it stayed)."""
        grid = self.grid
        old_view = grid.view_set[prev_centre]
        old_inner = grid.inner_set[prev_centre]
        sources, delta_chunk, full_chunk = self.sources, self.delta_chunk, self.full_chunk
        count = 0
        parts = [b""]  # the array header goes first, once the count is known
        for c in grid.inner[centre]:
            if c not in old_inner:
                n, data = full_chunk(c)
            elif sources(c) <= old_inner:
                n, data = delta_chunk(c)
            else:
                n, data = self._mixed(c, old_inner)
            if n:
                count += n
                parts.append(data)
        refresh = self.far_choice(centre)
        if centre != prev_centre:
            # Far cells were refreshed on the old centre's schedule, not this one's.
            refresh = refresh | self.stale_for_mover(prev_centre)
        for c in grid.far[centre]:
            if c not in old_view or c in refresh:
                n, data = full_chunk(c)
            elif not sources(c) <= old_view:
                n, data = self._newcomers(c, old_view)
            else:
                continue
            if n:
                count += n
                parts.append(data)
        parts[0] = array_header(count)
        removed = self._removed(prev_centre, grid.view_set[centre])
        removed.extend(e for e, pc in self.reshaped.items() if pc in old_view)
        parts.append(cbor2.dumps(removed))
        parts.append(self.events)
        return b"".join(parts)

    def _build_steady(self, centre: int) -> bytes:
        """``_build`` for a viewer that stayed in its cell: every view cell was in view."""
        grid = self.grid
        view = grid.view_set[centre]
        inner = grid.inner_set[centre]
        sources, found = self._sources, self.sources
        delta_chunks, delta_chunk = self._delta_chunks, self.delta_chunk
        full_chunks, full_chunk = self._full_chunks, self.full_chunk
        count = 0
        parts = [b""]  # the array header goes first, once the count is known
        for c in grid.inner[centre]:
            if (sources[c] or found(c)) <= inner:
                n, data = delta_chunks.get(c) or delta_chunk(c)
            else:
                n, data = self._mixed(c, inner)
            if n:
                count += n
                parts.append(data)
        refresh = self.far_choice(centre)
        for c in grid.far[centre]:
            if c in refresh:
                n, data = full_chunks.get(c) or full_chunk(c)
            elif not (sources[c] or found(c)) <= view:
                n, data = self._newcomers(c, view)
            else:
                continue
            if n:
                count += n
                parts.append(data)
        parts[0] = array_header(count)
        removed = self.steady_removed(centre)
        if self.reshaped:
            removed = removed + [e for e, pc in self.reshaped.items() if pc in view]
        parts.append(cbor2.dumps(removed))
        parts.append(self.events)
        return b"".join(parts)

    def _mixed(self, c: int, old_inner: frozenset[int]) -> Chunk:
        """Inner cell with entities from elsewhere: exact deltas only for the ones we tracked."""
        prev = self.prev_cell_of
        entries = []
        for eid in self.cells[c]:
            entry = self.delta_entry(eid) if prev.get(eid) in old_inner else self.full_entry(eid)
            if entry is not None:
                entries.append(entry)
        return len(entries), b"".join(entries)

    def _newcomers(self, c: int, old_view: frozenset[int]) -> Chunk:
        """Far cell not refreshed now: only entities the client has never had."""
        prev = self.prev_cell_of
        ids = [e for e in self.cells[c] if prev.get(e) not in old_view]
        return len(ids), b"".join(map(self.full_entry, ids))

    def _removed(self, prev_centre: int, new_view: frozenset[int]) -> list[int]:
        cell_of = self.cell_of
        departed = self.departures()
        prev_cells = self.prev_cells
        reshaped = self.reshaped  # removed separately, once
        removed = []
        for c in self.grid.view[prev_centre]:
            # A cell still in view can only lose what left it; a cell out of view loses all
            # its entities except those that moved into view.
            candidates = departed.get(c, ()) if c in new_view else prev_cells[c]
            for eid in candidates:
                if cell_of.get(eid) not in new_view and eid not in reshaped:
                    removed.append(eid)
        return removed

    def steady_removed(self, centre: int) -> list[int]:
        """``_removed(centre, view of centre)`` for every centre at once (do not mutate).

        Only entities that left their cell can leave a view that did not move, so one
        pass over the departures serves every steady viewer: an entity that left cell
        ``pc`` is removed for each centre that sees ``pc`` (the view relation is
        symmetric) but not the entity's new cell. Cells ascending, as ``_removed`` lists.
        """
        by_centre = self._steady_removed
        if by_centre is None:
            by_centre = self._steady_removed = {}
            view, view_set = self.grid.view, self.grid.view_set
            cell_of, reshaped = self.cell_of, self.reshaped
            departed = self.departures()
            for pc in sorted(departed):
                for eid in departed[pc]:
                    if eid in reshaped:
                        continue
                    nc = cell_of.get(eid)
                    for g in view[pc]:
                        if nc not in view_set[g]:
                            by_centre.setdefault(g, []).append(eid)
        return by_centre.get(centre, _NOTHING)
