"""Client prediction against the real arena: exact agreement, and corrections only when due.

The client's generic ``Predictor`` runs the arena's own prediction function on the
entities a client decodes (``ArenaPredictor`` speaks grid positions and buttons to it).
"""

from __future__ import annotations

import collections
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameserver.games.arena import POSITION_SCALE, ArenaSettings, Buttons

from .arena_prediction import CLIENT_SCHEMA, ArenaPredictor, controls, player, world_of
from .arena_world import ArenaWorld

Predictor = ArenaPredictor

TICK_RATE = 30
U, D, L, R = int(Buttons.UP), int(Buttons.DOWN), int(Buttons.LEFT), int(Buttons.RIGHT)
FIRE = int(Buttons.FIRE)
OPEN = ArenaSettings(obstacle_count=0)
DEFAULT_SETTINGS = ArenaSettings()

# Mostly held directions (runs), so players cross the map and hit walls and obstacles.
runs = st.lists(
    st.tuples(st.integers(min_value=0, max_value=31), st.integers(min_value=1, max_value=40)),
    min_size=1,
    max_size=12,
)


def expand(plan: list[tuple[int, int]]) -> list[int]:
    return [buttons for buttons, count in plan for _ in range(count)]


def server_q(arena: ArenaWorld, pid: int) -> tuple[int, int]:
    t = arena.wire_state()[pid]
    return t[1], t[2]


def setup(
    arena_settings: ArenaSettings = DEFAULT_SETTINGS,
    seed: int = 1,
    at: tuple[float, float] | None = None,
) -> tuple[ArenaWorld, int, Predictor]:
    """One player, at `at` or else just right of an obstacle so LEFT pushes against it."""
    arena = ArenaWorld(arena_settings, seed=seed, tick_rate=TICK_RATE)
    pid = arena.join("me")
    if at is not None:
        arena.place(pid, *at)
    elif arena.obstacles:
        o = arena.obstacles[0]
        arena.place(pid, o.x + o.radius + arena_settings.player_radius + 3.0, o.y + 5.0)
    predictor = Predictor(arena_settings, TICK_RATE)
    predictor.set_obstacles_from_world(arena.wire_state())
    x_q, y_q = server_q(arena, pid)
    predictor.reconcile(x_q, y_q, 0, True)
    return arena, pid, predictor


def server_step(arena: ArenaWorld, pid: int, buttons: int) -> None:
    arena.send(pid, buttons)
    arena.step()


# ----------------------------------------------------------------- no latency


@settings(max_examples=60, deadline=None)
@given(runs, st.integers(min_value=0, max_value=20))
def test_zero_latency_matches_server_exactly(plan: list[tuple[int, int]], seed: int) -> None:
    arena, pid, p = setup(seed=seed)
    for seq, buttons in enumerate(expand(plan), start=1):
        p.apply_input(seq, buttons)
        server_step(arena, pid, buttons)
        x_q, y_q = server_q(arena, pid)
        assert (p.x_q, p.y_q) == (x_q, y_q)  # right before the server even answers
        p.reconcile(x_q, y_q, seq, True)
        assert (p.x * POSITION_SCALE, p.y * POSITION_SCALE) == (x_q, y_q)
        assert p.pending == 0
    assert p.corrections == 0
    assert p.render_position(0.0) == (p.x, p.y)


def test_obstacle_push_is_predicted() -> None:
    arena, pid, p = setup()
    o = arena.obstacles[0]
    reach = o.radius + OPEN.player_radius
    touching = 0
    for seq in range(1, 31):
        p.apply_input(seq, L)
        server_step(arena, pid, L)
        x_q, y_q = server_q(arena, pid)
        # The player really slides along the obstacle (so the push is exercised) ...
        dist = math.hypot(x_q / POSITION_SCALE - o.x, y_q / POSITION_SCALE - o.y)
        assert dist >= reach
        touching += dist < reach + 0.5
        # ... and the prediction follows it exactly.
        assert (p.x_q, p.y_q) == (x_q, y_q)
    assert touching >= 5
    p.reconcile(x_q, y_q, 30, True)
    assert p.corrections == 0


def test_without_obstacles_the_same_run_mispredicts() -> None:
    """Guards the test above: the obstacles are what makes it pass."""
    arena, pid, _ = setup()
    blind = Predictor(DEFAULT_SETTINGS, TICK_RATE)  # never told about the obstacles
    blind.reconcile(*server_q(arena, pid), 0, True)
    for seq in range(1, 31):
        blind.apply_input(seq, L)
        server_step(arena, pid, L)
    blind.reconcile(*server_q(arena, pid), 30, True)
    assert blind.corrections == 1


# ----------------------------------------------------------------- latency


def run_with_latency(
    arena: ArenaWorld,
    pid: int,
    p: Predictor,
    inputs: list[int],
    up_ticks: int,
    down_ticks: int,
    snapshot_every: int,
    teleport_at: int | None = None,
) -> None:
    """Client sends one frame per tick; frames reach the server `up_ticks` later, snapshots
    reach the client `down_ticks` later. The server stops once the last frame is consumed
    (so it never repeats a frame); every snapshot still in flight is then delivered."""
    to_server: collections.deque[tuple[int, int, int]] = collections.deque()
    to_client: collections.deque[tuple[int, int, int, int]] = collections.deque()
    ack = 0
    tick = 0
    while ack < len(inputs):
        if tick < len(inputs):
            seq = tick + 1
            p.apply_input(seq, inputs[tick])
            to_server.append((tick + up_ticks, seq, inputs[tick]))
        if to_server and to_server[0][0] <= tick:
            _, ack, buttons = to_server.popleft()
            arena.send(pid, buttons)
        if teleport_at is not None and tick == teleport_at:
            x, y = arena.position(pid) or (0.0, 0.0)
            arena.place(pid, x + 5.0, y)
        arena.step()
        if tick % snapshot_every == 0 or ack == len(inputs):
            to_client.append((tick + down_ticks, *server_q(arena, pid), ack))
        while to_client and to_client[0][0] <= tick:
            _, x_q, y_q, a = to_client.popleft()
            p.reconcile(x_q, y_q, a, True)
        tick += 1
    for _, x_q, y_q, a in to_client:
        p.reconcile(x_q, y_q, a, True)


@settings(max_examples=40, deadline=None)
@given(
    runs,
    st.integers(min_value=0, max_value=6),
    st.integers(min_value=0, max_value=6),
    st.integers(min_value=1, max_value=3),
    st.integers(min_value=0, max_value=20),
)
def test_latency_with_steady_inputs_never_corrects(
    plan: list[tuple[int, int]], up: int, down: int, every: int, seed: int
) -> None:
    arena, pid, p = setup(seed=seed)
    inputs = expand(plan)
    run_with_latency(arena, pid, p, inputs, up, down, every)
    assert (p.x_q, p.y_q) == server_q(arena, pid)
    assert p.corrections == 0
    assert p.pending == 0


def test_latency_predicts_ahead_of_the_server() -> None:
    arena, pid, p = setup(OPEN)
    start = server_q(arena, pid)
    for seq in range(1, 6):
        p.apply_input(seq, R)
    assert p.pending == 5
    assert p.x_q > start[0]
    p.reconcile(*start, 0, True)  # the server has consumed nothing yet: replay all five
    assert p.pending == 5
    assert p.corrections == 0
    step_q = int(OPEN.player_speed / TICK_RATE * POSITION_SCALE)
    assert (p.x_q, p.y_q) == (start[0] + 5 * step_q, start[1])


# ----------------------------------------------------------------- server disagrees


def test_one_correction_is_smoothed_then_converges() -> None:
    arena, pid, p = setup(OPEN, at=(500.0, 500.0))
    seq = 0
    for _ in range(5):
        seq += 1
        p.apply_input(seq, R)
        server_step(arena, pid, R)
        p.reconcile(*server_q(arena, pid), seq, True)
    before = p.render_position(0.0)
    assert before == (p.x, p.y)

    seq += 1
    p.apply_input(seq, R)
    sx, sy = arena.position(pid) or (0.0, 0.0)
    arena.place(pid, sx - 5.0, sy)  # the server ends 5 units left of the prediction
    server_step(arena, pid, R)
    predicted_before = p.x
    p.reconcile(*server_q(arena, pid), seq, True)
    assert p.corrections == 1
    assert p.snaps == 0
    assert p.x == pytest.approx(predicted_before - 5.0)
    assert (p.x_q, p.y_q) == server_q(arena, pid)  # the prediction itself is exact at once

    drawn = p.render_position(0.0)
    assert drawn == pytest.approx((predicted_before, p.y))  # no visible jump
    first = p.render_position(1 / 60)
    assert 0.0 < predicted_before - first[0] < 5.0  # moved toward it, not all the way
    previous = first[0]
    for _ in range(60):  # one second of frames
        now = p.render_position(1 / 60)[0]
        assert now <= previous  # glides monotonically toward the prediction
        previous = now
    assert p.render_position(1 / 60) == (p.x, p.y)

    # Steady again: no further corrections.
    for _ in range(10):
        seq += 1
        p.apply_input(seq, D)
        server_step(arena, pid, D)
        p.reconcile(*server_q(arena, pid), seq, True)
    assert p.corrections == 1


def test_one_correction_under_latency() -> None:
    arena, pid, p = setup(OPEN, at=(300.0, 300.0))
    inputs = [R] * 20 + [D] * 20
    run_with_latency(arena, pid, p, inputs, 3, 2, 2, teleport_at=15)
    assert p.corrections == 1
    assert (p.x_q, p.y_q) == server_q(arena, pid)


def test_huge_error_snaps() -> None:
    arena, pid, p = setup(OPEN, at=(200.0, 200.0))
    p.apply_input(1, R)
    arena.place(pid, 800.0, 800.0)
    server_step(arena, pid, R)
    p.reconcile(*server_q(arena, pid), 1, True)
    assert p.corrections == 1
    assert p.snaps == 1
    assert p.offset == (0.0, 0.0)
    assert p.render_position(0.0) == (p.x, p.y)
    assert (p.x_q, p.y_q) == server_q(arena, pid)


def test_one_grid_step_is_not_a_correction() -> None:
    p = Predictor(OPEN, TICK_RATE)
    p.reconcile(1600, 1600, 0, True)
    p.reconcile(1601, 1600, 0, True)
    assert p.corrections == 0
    p.reconcile(1603, 1600, 0, True)
    assert p.corrections == 1


def test_smoothing_disabled_jumps() -> None:
    p = Predictor(OPEN, TICK_RATE, smoothing_s=0.0)
    p.reconcile(1600, 1600, 0, True)
    p.reconcile(1680, 1600, 0, True)
    assert p.corrections == 1
    assert p.render_position(0.0) == (105.0, 100.0)


def test_server_only_crowding_is_corrected() -> None:
    arena = ArenaWorld(OPEN, seed=3, tick_rate=TICK_RATE)
    me = arena.join("me")
    other = arena.join("other")
    arena.place(me, 500.0, 500.0)
    arena.place(other, 540.0, 500.0)
    p = Predictor(OPEN, TICK_RATE)
    p.reconcile(*server_q(arena, me), 0, True)
    for seq in range(1, 11):
        p.apply_input(seq, R)  # walk into the other player, who stands still
        server_step(arena, me, R)
        p.reconcile(*server_q(arena, me), seq, True)
        assert (p.x_q, p.y_q) == server_q(arena, me)
    assert p.corrections >= 1


def test_repeated_late_frame_is_corrected() -> None:
    """A frame that misses its tick makes the server repeat the previous one."""
    arena, pid, p = setup(OPEN, at=(300.0, 300.0))
    p.apply_input(1, R)
    server_step(arena, pid, R)
    p.reconcile(*server_q(arena, pid), 1, True)
    p.apply_input(2, D)
    arena.step()  # frame 2 is late: the server repeats R
    p.reconcile(*server_q(arena, pid), 1, True)
    assert p.corrections == 1
    assert p.pending == 1
    server_step(arena, pid, D)  # frame 2 arrives
    p.reconcile(*server_q(arena, pid), 2, True)
    assert p.corrections == 1
    assert (p.x_q, p.y_q) == server_q(arena, pid)


# ----------------------------------------------------------------- death, bounds, misuse


def test_dead_player_follows_server_and_respawn_snaps() -> None:
    p = Predictor(OPEN, TICK_RATE)
    p.reconcile(1600, 1600, 0, True)
    p.apply_input(1, R)
    p.apply_input(2, R)
    p.reconcile(1500, 1500, 1, False)  # died: follow the server, ignore the local move
    assert (p.x, p.y) == (1500 / 16, 1500 / 16)
    assert not p.alive
    p.apply_input(3, R)  # the server ignores a dead player's input
    assert (p.x, p.y) == (1500 / 16, 1500 / 16)
    assert p.pending == 2
    p.reconcile(4000, 4000, 2, True)  # respawned far away; frame 3 not consumed yet
    step_q = int(OPEN.player_speed / TICK_RATE * POSITION_SCALE)
    assert (p.x_q, p.y_q) == (4000 + step_q, 4000)
    assert p.corrections == 0
    assert p.render_position(0.0) == (p.x, p.y)


def test_input_before_first_position_is_replayed() -> None:
    p = Predictor(OPEN, TICK_RATE)
    assert not p.known
    p.apply_input(1, R)
    p.apply_input(2, R)
    p.reconcile(1600, 1600, 1, True)
    step_q = int(OPEN.player_speed / TICK_RATE * POSITION_SCALE)
    assert (p.x_q, p.y_q) == (1600 + step_q, 1600)
    assert p.corrections == 0


def test_pending_is_bounded() -> None:
    p = Predictor(OPEN, TICK_RATE, max_pending=256)
    p.reconcile(1600, 1600, 0, True)
    for seq in range(1, 1001):
        p.apply_input(seq, R | D)
    assert p.pending == 256
    p.reconcile(1600, 1600, 900, True)
    assert p.pending == 100


def test_seq_must_increase() -> None:
    p = Predictor(OPEN, TICK_RATE)
    p.apply_input(5, R)
    with pytest.raises(ValueError):
        p.apply_input(5, R)
    p.reset()
    p.apply_input(1, R)
    assert p.pending == 1


def test_reconcile_reads_position_and_alive_flag_from_the_decoded_entity() -> None:
    p = Predictor(OPEN, TICK_RATE)
    p.p.reconcile(CLIENT_SCHEMA.entity_from_wire((0, 1600, 1616, 0, 100, 0, 1)), 0, p.world)
    assert (p.x_q, p.y_q, p.alive) == (1600, 1616, True)
    p.p.apply_input(1, controls(R), p.world)
    p.p.reconcile(CLIENT_SCHEMA.entity_from_wire((0, 1700, 1716, 0, 0, 0, 0)), 0, p.world)
    assert (p.x_q, p.y_q, p.alive) == (1700, 1716, False)  # dead: follows the server


def test_obstacles_are_the_obstacle_entities_of_the_world() -> None:
    world = world_of(
        {
            1: (0, 1600, 1600, 0, 100, 0, 1),  # another player
            2: (2, 3200, 1600, 320),  # an obstacle
            3: (1, 1, 1, 1, 1),  # a projectile
        }
    )
    p = Predictor(OPEN, TICK_RATE)
    p.p.reconcile(player(round((200.0 - 20.0 - 16.0 - 7.0) * 16), 1600), 0, world)  # 7 units off
    for seq in range(1, 4):
        p.p.apply_input(seq, controls(R | FIRE), world)
    assert p.x == 200.0 - 20.0 - 16.0  # stopped at the obstacle, FIRE ignored
