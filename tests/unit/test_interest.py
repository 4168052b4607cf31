"""Interest-managed bodies, checked against the world they came from.

A random world of moving, appearing and vanishing entities is watched by
viewers that follow entities around and sometimes miss snapshots. Each
viewer applies its bodies with the protocol's own ``apply``; after each one
its mirror must hold exactly the entities in its view, the inner ones exact
and the far ones at some state they really had.
"""

from __future__ import annotations

import random

import cbor2
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.protocol import apply
from gameserver.rules import PositionLayout
from gameserver.server.rooms.interest import Interest, InterestTick, array_header

SIZE = 1000.0
SMALL = 600.0  # few cells: viewers share and swap centres often
Q = 16  # POSITION_SCALE
EMPTY_EVENTS = cbor2.dumps([])

LAYOUT = PositionLayout(1, 2, 16.0, 16.0)  # x and y after the kind, in 1/16 units


def decode_body(body: bytes) -> tuple[list[list[int]], list[int], list[list[int]]]:
    changes, removed, events = cbor2.loads(b"\x83" + body)
    return changes, removed, events


class Viewer:
    def __init__(self, follows: int) -> None:
        self.follows = follows
        self.mirror: dict[int, tuple[int, ...]] = {}
        self.tick = 0
        self.centre: int | None = None

    def receive(self, shared: InterestTick, centre: int, steady_tick: int) -> None:
        """Apply this snapshot's body, as a client would: a delta if steady, else a full view."""
        if self.tick == steady_tick and self.centre is not None:
            changes, removed, _ = decode_body(shared.body(centre, self.centre))
            self.mirror = apply(self.mirror, changes, removed)
        else:
            changes, removed, _ = decode_body(shared.full_body(centre, EMPTY_EVENTS))
            self.mirror = apply({}, changes, removed)
        self.tick, self.centre = shared.tick, centre


def step_world(
    rng: random.Random, state: dict[int, tuple[int, ...]], next_id: list[int], size: float
) -> dict[int, tuple[int, ...]]:
    top = int(size * Q) - 1
    new: dict[int, tuple[int, ...]] = {}
    for eid, (kind, x, y, hp, *extra) in state.items():
        if rng.random() < 0.02 and eid > 8:
            continue  # vanished
        if rng.random() < 0.01:
            extra = [] if extra else [7]  # its field count changes: removed and added again
        roll = rng.random()
        if roll < 0.05:
            x, y = rng.randrange(top), rng.randrange(top)  # teleport
        elif roll < 0.8:
            x = min(top, max(0, x + rng.randint(-200, 200)))
            y = min(top, max(0, y + rng.randint(-200, 200)))
        if rng.random() < 0.1:
            hp = rng.randrange(100)
        new[eid] = (kind, x, y, hp, *extra)
    for _ in range(rng.randrange(3)):
        new[next_id[0]] = (1, rng.randrange(top), rng.randrange(top), 100)
        next_id[0] += 1
    return new


def run_world(
    seed: int, ticks: int, freeze_after: int | None = None, size: float = SIZE
) -> tuple[Interest, list[Viewer], dict[int, tuple[int, ...]]]:
    rng = random.Random(seed)
    # A small budget: only a cell or two of the far view is refreshed per snapshot.
    interest = Interest(
        size, size, cell_size=100.0, view_ring=2, inner_ring=1, budget_bytes=150, layout=LAYOUT
    )
    grid = interest.grid
    top = int(size * Q) - 1
    state = {eid: (0, rng.randrange(top), rng.randrange(top), 100) for eid in range(1, 151)}
    next_id = [151]
    history: dict[int, set[tuple[int, ...]]] = {eid: {e} for eid, e in state.items()}
    viewers = [Viewer(follows) for follows in range(1, 7)]
    for tick in range(1, ticks + 1):
        if freeze_after is None or tick <= freeze_after:
            state = step_world(rng, state, next_id, size)
        for eid, entity in state.items():
            history.setdefault(eid, set()).add(entity)
        steady_tick = interest.prev_tick
        shared = interest.for_tick(tick, state, EMPTY_EVENTS)
        for viewer in viewers:
            centre = grid.cell(state[viewer.follows])
            if freeze_after is None and rng.random() < 0.1:
                continue  # this snapshot was skipped (conflation)
            viewer.receive(shared, centre, steady_tick)
            in_view = {
                e for e, entity in state.items() if grid.cell(entity) in grid.view_set[centre]
            }
            assert set(viewer.mirror) == in_view
            for eid, known in viewer.mirror.items():
                assert known in history[eid]  # a state it really had
                if grid.cell(state[eid]) in grid.inner_set[centre]:
                    assert known == state[eid]  # near: exact
    return interest, viewers, state


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32))
def test_viewers_hold_exactly_their_view(seed: int) -> None:
    run_world(seed, ticks=40)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32), st.sampled_from([SIZE, SMALL]))
def test_far_cells_are_never_starved(seed: int, size: float) -> None:
    # The world stops changing after 20 ticks; 20 more snapshots refresh every far cell
    # (16 far cells, at least one per snapshot), so every mirror becomes exact.
    _, viewers, state = run_world(seed, ticks=40, freeze_after=20, size=size)
    for viewer in viewers:
        assert viewer.mirror == {e: state[e] for e in viewer.mirror}


def test_far_refreshes_stay_within_the_byte_budget_in_a_crowd() -> None:
    interest = Interest(
        SIZE, SIZE, cell_size=100.0, view_ring=2, inner_ring=1, budget_bytes=600, layout=LAYOUT
    )
    rng = random.Random(3)
    state = {eid: (0, rng.randrange(16000), rng.randrange(16000), 100) for eid in range(1, 501)}
    sizes = []
    for tick in range(1, 20):
        state = {e: (k, x, y, (hp + 1) % 100) for e, (k, x, y, hp) in state.items()}  # all change
        shared = interest.for_tick(tick, state, EMPTY_EVENTS)
        centre = interest.grid.cell(state[1])
        if tick > 1:
            sizes.append(len(shared.body(centre, centre)))
    inner_only = Interest(
        SIZE, SIZE, cell_size=100.0, view_ring=1, inner_ring=1, budget_bytes=1, layout=LAYOUT
    )
    inner_only.for_tick(1, state, EMPTY_EVENTS)
    nudged = {e: (k, x, y, (hp + 1) % 100) for e, (k, x, y, hp) in state.items()}
    inner_bytes = len(inner_only.for_tick(2, nudged, EMPTY_EVENTS).body(centre, centre))
    largest_far_cell = max(len(shared.full_chunk(c)[1]) for c in interest.grid.far[centre])
    # Inner deltas always go; far refreshes fill up to the budget (one cell may overshoot it).
    assert max(sizes) <= max(600, inner_bytes) + largest_far_cell + 16


def test_a_cell_that_changed_once_is_refreshed_among_busier_ones() -> None:
    # Budget for one far cell per snapshot; five far cells change every tick, one only once.
    interest = Interest(
        SIZE, SIZE, cell_size=100.0, view_ring=2, inner_ring=1, budget_bytes=1, layout=LAYOUT
    )
    grid = interest.grid
    centre = grid.cell((0, 500 * Q, 500 * Q))
    far = grid.far[centre]
    busy = {100 + i: (0, *_middle(grid, c), 0) for i, c in enumerate(far[:5])}
    quiet_id, quiet_cell = 200, far[8]
    state = {1: (0, 500 * Q, 500 * Q, 0), **busy, quiet_id: (0, *_middle(grid, quiet_cell), 0)}
    mirror: dict[int, tuple[int, ...]] = {}
    previous = None
    for tick in range(1, 40):
        state = {e: (k, x, y, hp + 1 if e in busy else hp) for e, (k, x, y, hp) in state.items()}
        if tick == 3:
            k, x, y, _ = state[quiet_id]
            state[quiet_id] = (k, x, y, 77)  # its only change
        shared = interest.for_tick(tick, state, EMPTY_EVENTS)
        body = (
            shared.full_body(centre, EMPTY_EVENTS)
            if previous is None
            else shared.body(centre, previous)
        )
        changes, removed, _ = decode_body(body)
        mirror = apply({} if previous is None else mirror, changes, removed)
        previous = centre
    assert mirror[quiet_id][3] == 77


def _middle(grid: object, c: int) -> tuple[int, int]:
    cols = grid.cols  # type: ignore[attr-defined]
    return (c % cols) * 100 * Q + 50 * Q, (c // cols) * 100 * Q + 50 * Q


def test_array_header_matches_cbor() -> None:
    for n in (0, 23, 24, 255, 256, 65535, 65536):
        assert array_header(n) == cbor2.dumps([0] * n)[: len(array_header(n))]


def test_a_viewer_moving_cells_is_refreshed_on_the_new_cells_schedule() -> None:
    # Viewer A sits in cell g, viewer B in cell h next to it; both see far cell c. c changes
    # once; g refreshes it at once, h is busy with other far cells. When B moves into g it
    # must still get c, although g's viewers are already up to date with it.
    interest = Interest(
        SIZE, SIZE, cell_size=100.0, view_ring=2, inner_ring=1, budget_bytes=1, layout=LAYOUT
    )
    grid = interest.grid
    g, h, c = 5 + 5 * 10, 4 + 5 * 10, 6 + 3 * 10
    busy_cells = [2 + y * 10 for y in range(3, 8)]  # far for h, out of g's view

    def at(cell: int) -> tuple[int, int]:
        return _middle(grid, cell)

    state = {1: (0, *at(g), 0), 2: (0, *at(h), 0), 3: (0, *at(c), 0)}
    state |= {10 + i: (0, *at(cell), 0) for i, cell in enumerate(busy_cells)}
    viewers = {1: Viewer(1), 2: Viewer(2)}
    for tick in range(1, 40):
        state = {e: (k, x, y, hp + 1 if e >= 10 else hp) for e, (k, x, y, hp) in state.items()}
        if tick == 5:
            state[3] = (0, *at(c), 99)  # c's only change
        if tick == 6:
            state[2] = (0, *at(g), 0)  # B moves into g
        steady = interest.prev_tick
        shared = interest.for_tick(tick, state, EMPTY_EVENTS)
        for eid, viewer in viewers.items():
            centre = grid.cell(state[eid])
            viewer.receive(shared, centre, steady)
    assert viewers[1].mirror[3][3] == 99
    assert viewers[2].mirror[3][3] == 99


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32))
def test_steady_bodies_are_the_general_bodies(seed: int) -> None:
    """The shortcut for a viewer that stayed in its cell gives the general path's bytes."""
    rng = random.Random(seed)
    interest = Interest(
        SIZE, SIZE, cell_size=100.0, view_ring=2, inner_ring=1, budget_bytes=150, layout=LAYOUT
    )
    top = int(SIZE * Q) - 1
    state = {eid: (0, rng.randrange(top), rng.randrange(top), 100) for eid in range(1, 151)}
    next_id = [151]
    for tick in range(1, 30):
        state = step_world(rng, state, next_id, SIZE)
        shared = interest.for_tick(tick, state, EMPTY_EVENTS)
        for centre in range(len(interest.grid.view)):
            assert shared.body(centre, centre) == shared._build(centre, centre)
