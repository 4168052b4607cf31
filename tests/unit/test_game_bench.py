"""The benchmark game: the Colyseus peer's rules, its wire, its bot, played headless."""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import cbor2
import pytest

from gameserver import rules
from gameserver.games.bench import Bench, BenchInput, BenchPlayer, Bot
from gameserver.games.bench._game import ANGLE_STEP, ANGLE_STEPS, POSITION_SCALE, STEP, WORLD
from gameserver.rules import BotView, Player, TickInput
from gameserver.testing import Headless, run_seeded

TWO_PI = 2 * math.pi
RIGHT, LEFT, DOWN, UP = (
    BenchInput(dx=1, dy=0),
    BenchInput(dx=-1, dy=0),
    BenchInput(dx=0, dy=1),
    BenchInput(dx=0, dy=-1),
)
STILL = BenchInput(dx=0, dy=0)


def player_state(game: Headless[BenchInput], player: Player) -> BenchPlayer:
    state = game.rules.entities()[game.entity_of[player.id]]
    assert isinstance(state, BenchPlayer)
    return state


def peer_angle_after(angle: float, ticks: int) -> float:
    """server.mjs: ``let a = p.angle + ANGLE_STEP; if (a >= TWO_PI) a -= TWO_PI;``"""
    for _ in range(ticks):
        angle += 0.05
        if angle >= TWO_PI:
            angle -= TWO_PI
    return angle


# ---------------------------------------------------------------- the rules


def test_moves_200_units_a_second_one_thirtieth_per_tick() -> None:
    game: Headless[BenchInput] = Headless(Bench, seed=3)
    ada = game.join("ada")
    start = player_state(game, ada)
    toward = RIGHT if start.x < WORLD / 2 else LEFT
    game.input(ada, toward)
    game.step()
    assert abs(player_state(game, ada).x - start.x) == pytest.approx(200 / 30, abs=1e-12)
    game.step(Bench.tick_rate - 1)  # one second in all
    moved = player_state(game, ada)
    assert abs(moved.x - start.x) == pytest.approx(200.0, abs=1e-9)
    assert moved.y == start.y  # the other axis untouched, bit for bit


def test_diagonals_are_not_normalised_as_in_the_peer() -> None:
    game: Headless[BenchInput] = Headless(Bench, seed=4)
    ada = game.join("ada")
    start = player_state(game, ada)
    dx = 1 if start.x < WORLD / 2 else -1
    dy = 1 if start.y < WORLD / 2 else -1
    game.input(ada, BenchInput(dx=dx, dy=dy))
    game.step()
    now = player_state(game, ada)
    assert (now.x, now.y) == (start.x + dx * STEP, start.y + dy * STEP)


@pytest.mark.parametrize(
    ("toward", "axis", "wall"),
    [(LEFT, "x", 0.0), (RIGHT, "x", WORLD), (UP, "y", 0.0), (DOWN, "y", WORLD)],
)
def test_clamped_at_every_edge(toward: BenchInput, axis: str, wall: float) -> None:
    game: Headless[BenchInput] = Headless(Bench, seed=5)
    ada = game.join("ada")
    other_axis = "y" if axis == "x" else "x"
    before = getattr(player_state(game, ada), other_axis)
    game.input(ada, toward)
    game.step(151)  # 151 * 6.67 > 1000: from anywhere to the wall, and then pushing on it
    state = player_state(game, ada)
    assert getattr(state, axis) == wall
    assert getattr(state, other_axis) == before
    wire = game.wire_state()[game.entity_of[ada.id]]
    assert wire[1 if axis == "x" else 2] == wall * POSITION_SCALE
    game.step(10)  # pushing on the wall changes nothing but the angle
    assert getattr(player_state(game, ada), axis) == wall
    assert game.wire_state()[game.entity_of[ada.id]][1:3] == wire[1:3]


def test_still_and_silent_players_do_not_move() -> None:
    game: Headless[BenchInput] = Headless(Bench, seed=6)
    still, silent = game.join("still"), game.join("silent")
    game.input(still, STILL)
    before = {p.id: player_state(game, p) for p in (still, silent)}
    game.step(20)
    for p in (still, silent):
        now = player_state(game, p)
        assert (now.x, now.y) == (before[p.id].x, before[p.id].y)


def test_angle_steps_0_05_rad_every_tick_and_wraps_below_two_pi() -> None:
    game: Headless[BenchInput] = Headless(Bench, seed=7)
    players = [game.join(f"p{i}") for i in range(20)]
    first = {p.id: player_state(game, p).angle for p in players}
    previous_wire = game.wire_state()
    for tick in range(1, 200):  # 200 * 0.05 = 10 rad: every player wraps at least once
        game.step()
        wire = game.wire_state()
        for p in players:
            angle = player_state(game, p).angle
            assert angle == peer_angle_after(first[p.id], tick)
            assert 0.0 <= angle < TWO_PI
            eid = game.entity_of[p.id]
            assert wire[eid] != previous_wire[eid]  # the peer's point: everyone changes
        previous_wire = wire
    assert ANGLE_STEP == 0.05


def test_join_spawns_in_the_world_with_hp_100_and_leave_removes() -> None:
    game: Headless[BenchInput] = Headless(Bench, seed=8)
    players = [game.join(f"p{i}") for i in range(6)]
    ids = [game.entity_of[p.id] for p in players]
    assert ids == sorted(set(ids)) and ids[0] >= 1
    for state in game.rules.entities().values():
        assert 0 <= state.x < WORLD and 0 <= state.y < WORLD and 0 <= state.angle < TWO_PI
        assert state.hp == 100
    for p in players:
        game.input(p, RIGHT)
    game.step()
    kept = {
        eid: player_state(game, p) for eid, p in zip(ids, players, strict=True) if p.name != "p2"
    }
    game.leave(players[2])
    assert ids[2] not in game.wire_state() and len(game.wire_state()) == 5
    game.step()  # everyone after the leaver still moves its own entity
    for eid, before in kept.items():
        after = game.rules.entities()[eid]
        assert after.x == min(before.x + STEP, WORLD) and after.y == before.y
    newcomer = game.join("late")
    assert game.entity_of[newcomer.id] == max(ids) + 1  # ids never reused
    game.rules.leave(Player("nobody", "nobody"))  # an unknown player: nothing happens
    assert len(game.wire_state()) == 6


def test_world_size_hints_and_class_are_sound() -> None:
    rules_ = Bench(rules.NoSettings(), 1)
    assert rules_.world_size == (1000.0, 1000.0)
    assert rules.rules_class_problems(Bench) == []
    layout = Bench.schema.position_layout(0)
    assert layout == rules.PositionLayout(1, 2, 64.0, 64.0)
    fields = {f["name"]: f for f in Bench.schema.describe()["entities"][0]["fields"]}
    assert fields["x"]["interpolate"] and fields["y"]["interpolate"]
    assert fields["angle"] == {
        "name": "angle",
        "type": "angle",
        "steps": 65536,
        "interpolate": True,
    }
    assert Bench.tick_rate == 30 and Bench.max_players >= 500


# ---------------------------------------------------------------- determinism, save, restore


def random_script(seed: int, players: int, ticks: int) -> list[tuple[int, str, Any]]:
    draw = random.Random(seed)
    return [
        (
            draw.randrange(ticks),
            f"p{draw.randrange(players)}",
            BenchInput(dx=draw.randint(-1, 1), dy=draw.randint(-1, 1)),
        )
        for _ in range(players * 4)
    ]


def test_same_calls_same_hash_other_seed_other_hash() -> None:
    script = random_script(1, 12, 120)
    first = run_seeded(Bench, script, seed=11, ticks=150)
    assert run_seeded(Bench, script, seed=11, ticks=150) == first
    assert run_seeded(Bench, script, seed=12, ticks=150) != first


def test_save_restore_continues_identically_and_the_cache_is_not_state() -> None:
    game: Headless[BenchInput] = Headless(Bench, seed=13)
    players = [game.join(f"p{i}") for i in range(10)]
    given = [
        TickInput(p, game.entity_of[p.id], BenchInput(dx=i % 3 - 1, dy=(i // 3) % 3 - 1))
        for i, p in enumerate(players)
    ]
    for tick_input in given:
        game.input(tick_input.player, tick_input.value)
    game.step(40)
    unread_hash = game.rules.state_hash()
    game.wire_state()  # reading the world is not a change of state
    assert game.rules.state_hash() == unread_hash
    copy = Bench.restore(game.rules.save())
    assert copy.state_hash() == game.rules.state_hash()
    assert copy.wire_state() == game.wire_state()
    for _ in range(60):
        game.step()
        copy.step(given, ())
        copy.tick += 1
    assert copy.state_hash() == game.rules.state_hash()
    assert copy.wire_state() == game.wire_state()
    assert copy.join(Player("x", "x")) == game.rules.join(Player("x", "x"))  # the RNG too
    assert copy.wire_state() == game.wire_state()


# ---------------------------------------------------------------- the wire


@pytest.mark.parametrize("seed", range(8))
def test_wire_state_override_equals_the_schema_encoder(seed: int) -> None:
    """Seeded random games (joins, leaves, inputs, walls): the override == the generic path."""
    draw = random.Random(seed)
    game: Headless[BenchInput] = Headless(Bench, seed=seed)
    schema = Bench.schema
    present: list[Player] = []
    for tick in range(300):
        if draw.random() < 0.3 or not present:
            present.append(game.join(f"t{tick}"))
        if draw.random() < 0.05 and len(present) > 1:
            game.leave(present.pop(draw.randrange(len(present))))
        for p in present:
            if draw.random() < 0.1:
                game.input(p, BenchInput(dx=draw.randint(-1, 1), dy=draw.randint(-1, 1)))
        game.step()
        generic = schema.wire_state(game.rules.entities())
        assert game.wire_state() == generic
        assert list(game.wire_state()) == list(generic)  # and in the same order
    walls = [w for w in game.wire_state().values() if w[1] in (0, 64000) or w[2] in (0, 64000)]
    assert walls  # the games did reach the walls


def test_quantization_bounds_and_sizes() -> None:
    """1/64 unit (error <= 1/128) and 1/65536 turn, each in a 3-byte CBOR integer at most."""
    game: Headless[BenchInput] = Headless(Bench, seed=21)
    players = [game.join(f"p{i}") for i in range(40)]
    draw = random.Random(21)
    client = rules.GameSchema.from_description(Bench.schema.describe())
    for _ in range(12):
        for p in players:
            game.input(p, BenchInput(dx=draw.randint(-1, 1), dy=draw.randint(-1, 1)))
        game.step(25)
        truth = game.rules.entities()
        for eid, wire in game.wire_state().items():
            x, y, turn = (int(v) for v in wire[1:4])
            assert 0 <= x <= 64000 and 0 <= y <= 64000 and 0 <= turn < 65536
            seen = client.entity_from_wire(wire)
            assert abs(seen.x - truth[eid].x) <= 0.5 / POSITION_SCALE
            assert abs(seen.y - truth[eid].y) <= 0.5 / POSITION_SCALE
            turn_error = abs(seen.angle - truth[eid].angle) % TWO_PI
            assert min(turn_error, TWO_PI - turn_error) <= math.pi / ANGLE_STEPS + 1e-12
    assert len(cbor2.dumps(64000)) == 3 and len(cbor2.dumps(65535)) == 3
    x_type = Bench.schema.entities[0].wire_types[0]
    assert x_type.to_wire(0.0) == 0 and x_type.to_wire(1000.0) == 64000  # the walls exact
    with pytest.raises(rules.EncodeError):
        x_type.to_wire(1000.01)


def test_input_outside_minus_one_to_one_is_refused() -> None:
    """The peer clamps dx to its sign; this server refuses the frame (close code 4002)."""
    schema = Bench.schema.input
    assert schema is not None
    assert schema.from_wire([1, -1]) == BenchInput(dx=1, dy=-1)
    for bad in ([2, 0], [0, -2], [0.5, 0], [True, 0], [0]):
        with pytest.raises(rules.SchemaError):
            schema.from_wire(bad)


# ---------------------------------------------------------------- the bot


def bot_inputs(seed: int, first_tick: int, count: int) -> list[tuple[int, int]]:
    bot = Bot(seed)
    sent = []
    for tick in range(first_tick, first_tick + count):
        act = bot.act(BotView(tick=tick, me=1, entities={}))
        assert act.input is not None  # an input every tick, like the peer's 30 Hz loop
        sent.append((act.input.dx, act.input.dy))
    return sent


def test_bot_redraws_once_a_second_at_its_own_phase() -> None:
    """bots.mjs: a uniform draw of {-1, 0, 1} per axis once per second, at a random phase."""
    phases, draws = [], []
    for seed in range(300):
        sent = bot_inputs(seed, first_tick=1000 + seed, count=30 * 10)
        draw = random.Random(seed)  # the bot's own stream: dx, dy, then the phase
        first = (math.floor(draw.random() * 3) - 1, math.floor(draw.random() * 3) - 1)
        phase_ms = draw.random() * 1000
        redraw_at = max(1, math.ceil(phase_ms / (1000 / 30)))  # the first send at or after it
        assert sent[0] == first or redraw_at == 1
        phases.append(redraw_at % 30)
        # Changes happen only on that tick of each second (a redraw may repeat a value).
        for k in range(1, len(sent)):
            if sent[k] != sent[k - 1]:
                assert (k + 1 - redraw_at) % 30 == 0
        draws += sent[redraw_at - 1 :: 30]
    assert set(phases) == set(range(30))  # phases spread over the whole second
    for axis in (0, 1):
        counts = [sum(1 for d in draws if d[axis] == v) for v in (-1, 0, 1)]
        assert all(abs(c / len(draws) - 1 / 3) < 0.03 for c in counts), counts


def colyseus_peer() -> Path | None:
    configured = os.environ.get("GAMESERVER_COLYSEUS_PEER")
    repo = Path(__file__).resolve().parents[2]
    candidates = [Path(configured)] if configured else []
    candidates += [
        repo.parent / "shared/peers/colyseus",
        repo.parent.parent / "shared/peers/colyseus",
    ]
    return next((c for c in candidates if (c / "bots.mjs").is_file()), None)


def node_with_module_register() -> tuple[str | None, str]:
    """A ``node`` on PATH whose ``node:module`` has ``register`` (the resolve hook needs it;
    Node 18.19+ and 20.6+ have it), or None and the reason to skip."""
    node = shutil.which("node")
    if node is None:
        return None, "needs Node.js (no `node` on PATH)"
    probe = 'import("node:module").then((m) => console.log(typeof m.register, process.version))'
    try:
        done = subprocess.run(
            [node, "--input-type=module", "--eval", probe],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"needs a working Node.js ({node}: {error})"
    kind, _, version = done.stdout.strip().partition(" ")
    if done.returncode != 0 or kind != "function":
        found = version or done.stderr.strip()[-200:] or f"exit code {done.returncode}"
        return None, f"needs Node.js with module.register (18.19+ or 20.6+); {node}: {found}"
    return node, ""


_SDK_STUB = """
export class Client {
  constructor(url) {}
  async joinOrCreate(name) {
    globalThis.__joins.push(name);
    return {
      roomId: "room", state: null,
      connection: { isOpen: true, events: { onmessage() {} } },
      send(type, msg) { globalThis.__sends.push([type, msg]); },
      onError() {}, onDrop() {}, onLeave() {},
      leave() { return Promise.resolve(); },
    };
  }
}
"""
_RESOLVE_HOOK = """
export async function resolve(specifier, context, next) {
  if (specifier === "@colyseus/sdk") {
    return { url: new URL("./sdk.mjs", import.meta.url).href, shortCircuit: true };
  }
  return next(specifier, context);
}
"""
# The entry point: ``node drive.mjs BOTS_MJS N DURATION_S``. It installs a fake clock
# (timers fire in due order, performance.now() is the due time) and feeds Math.random the
# given stream, registers the hook that resolves @colyseus/sdk to the stub, imports
# bots.mjs itself with its own argv, and only once that import has settled (bots.mjs has
# run its top level: the first loop tick and the join are under way) drives the timers
# until SENDS inputs are sent. It prints what was joined and sent; anything else (the
# feed running out, a thrown callback, a bot that never joined) exits nonzero on stderr.
# Waiting on the import, not on a count of event-loop turns: loading goes through the
# hooks' thread and takes a number of turns that varies from run to run.
_DRIVER = """
import { register } from "node:module";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

const exit = process.exit.bind(process);
const out = process.stdout.write.bind(process.stdout);
const fail = (why) => {
  process.stderr.write(`drive.mjs: ${why && why.stack || why}\\n`, () => exit(3));
};
process.on("uncaughtException", fail);

const feed = JSON.parse(process.env.FEED);
const SENDS = Number(process.env.SENDS);
let fedOut = false;
Math.random = () => {
  if (feed.length === 0) { fedOut = true; throw new Error("random feed exhausted"); }
  return feed.shift();
};
let now = 0;
performance.now = () => now;
const timers = [];
let order = 0;
const realSetImmediate = setImmediate;
globalThis.setTimeout = (fn, ms = 0) => {
  const t = { fn, due: now + Math.max(0, ms), order: order++, unref() { return t; } };
  timers.push(t);
  return t;
};
globalThis.clearTimeout = (t) => { const i = timers.indexOf(t); if (i >= 0) timers.splice(i, 1); };
globalThis.setInterval = () => ({ unref() { return this; } });
globalThis.clearInterval = () => {};
globalThis.__joins = [];
globalThis.__sends = [];
process.stdout.write = () => true;  // bots.mjs's own progress lines
const settle = () => new Promise((r) => realSetImmediate(r));

try {
  register("./hooks.mjs", import.meta.url);
  const [bots, ...args] = process.argv.slice(2);
  process.argv = [process.argv[0], bots, ...args];
  await import(pathToFileURL(bots).href);
  await settle();  // the join resolves in microtasks: the bot is in bots.mjs's list now
  if (globalThis.__joins.length === 0) throw new Error("bots.mjs ran but never joined");
  // Bounded in fake time: the sends wanted, and a second to spare.
  const until = (SENDS / 30 + 1) * 1000;
  while (globalThis.__sends.length < SENDS && timers.length > 0 && now <= until) {
    timers.sort((a, b) => a.due - b.due || a.order - b.order);
    const t = timers.shift();
    now = t.due;
    t.fn();
    await settle();
    if (fedOut) throw new Error("random feed exhausted");
  }
  if (globalThis.__sends.length < SENDS) {
    throw new Error(`${globalThis.__sends.length} sends by ${now} ms, ${SENDS} wanted`);
  }
} catch (e) {
  fail(e);
  await new Promise(() => {});
}
const report = { joins: globalThis.__joins, sends: globalThis.__sends };
out(JSON.stringify(report) + "\\n", () => exit(0));
"""


@pytest.fixture
def peer_bots_mjs() -> Path:
    peer = colyseus_peer()
    if peer is None:
        pytest.skip("needs the Colyseus peer's bots.mjs (set GAMESERVER_COLYSEUS_PEER)")
    return peer / "bots.mjs"


def test_bot_sends_what_the_peers_bots_mjs_sends(peer_bots_mjs: Path, tmp_path: Path) -> None:
    """The peer's own bots.mjs (SDK stubbed, clock faked, Math.random fed the bot's seeded
    stream) sends, loop tick by loop tick, exactly the inputs this bot sends tick by tick."""
    node, why_not = node_with_module_register()
    if node is None:
        pytest.skip(why_not)
    (tmp_path / "sdk.mjs").write_text(_SDK_STUB)
    (tmp_path / "hooks.mjs").write_text(_RESOLVE_HOOK)
    (tmp_path / "drive.mjs").write_text(_DRIVER)
    sends = 30 * 8
    redraws = 0
    for seed in (1, 2, 3, 42):
        stream = random.Random(seed)
        # dx, dy and the phase at the join, then dx, dy once a second, with some to spare.
        feed = [stream.random() for _ in range(3 + 2 * (sends // 30 + 2))]
        done = subprocess.run(
            [node, str(tmp_path / "drive.mjs"), str(peer_bots_mjs), "1", "100000"],
            env={**os.environ, "FEED": json.dumps(feed), "SENDS": str(sends)},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, f"seed {seed}: {done.stderr or done.stdout}"
        report = json.loads(done.stdout)
        assert report["joins"] == ["arena"], seed
        assert len(report["sends"]) == sends, seed
        assert all(kind == "input" and set(msg) == {"dx", "dy"} for kind, msg in report["sends"])
        peer_sent = [(msg["dx"], msg["dy"]) for _, msg in report["sends"]]
        ours = bot_inputs(seed, first_tick=77, count=sends)
        if ours != peer_sent:
            k = next(k for k, (a, b) in enumerate(zip(ours, peer_sent, strict=True)) if a != b)
            pytest.fail(f"seed {seed}, send {k}: the bot sent {ours[k]}, bots.mjs {peer_sent[k]}")
        redraws += sum(1 for k in range(1, sends) if peer_sent[k] != peer_sent[k - 1])
    assert redraws >= 16  # the comparison did span the once-a-second re-draws


def test_bots_play_headless_from_what_a_client_sees() -> None:
    game: Headless[BenchInput] = Headless(Bench, seed=31)
    players = [game.join(f"bot{i}") for i in range(5)]
    bots = [Bot(100 + i) for i in range(5)]
    spawn = {p.id: player_state(game, p) for p in players}
    client = rules.GameSchema.from_description(Bench.schema.describe())
    seen_events = {p.id: 0 for p in players}
    for _ in range(90):
        for player, bot in zip(players, bots, strict=True):
            events = game.events_for(player)
            view = BotView(
                tick=game.tick,
                me=game.entity_of[player.id],
                entities=game.decoded_view(player),
                events=[
                    client.events.from_wire(e.wire(game.rules)[1:])
                    for e in events[seen_events[player.id] :]
                ],
            )
            seen_events[player.id] = len(events)
            act = bot.act(view)
            assert act.input is not None and not act.commands
            game.input(player, act.input)
        game.step()
    moved = [
        p
        for p in players
        if (player_state(game, p).x, player_state(game, p).y) != (spawn[p.id].x, spawn[p.id].y)
    ]
    assert len(moved) >= 4  # a bot that drew (0, 0) for all three seconds may stay put
    assert len(game.decoded_view(players[0])) == 5  # everyone sees everyone


def test_timing_reports_each_figure() -> None:
    from gameserver.games.bench.timing import measure

    figures = measure(players=20, seconds=1, repeat=1)
    assert figures["ticks"] == 30 and figures["players"] == 20
    for name in ("step", "wire_state", "generic_wire_state", "generic_encode_only"):
        assert figures[name] > 0
