"""The arena: a top-down shooter among round obstacles.

Theory of operation
-------------------
All state lives in dicts keyed by entity id; ids only grow, so insertion order is id order
and every loop is deterministic. Randomness comes only from the world's own
``random.Random(seed)``; timers count whole ticks. Player positions always sit on the
1/POSITION_SCALE grid, so the wire carries exactly the server's state (projectiles keep
exact float positions: nobody predicts them, they are only rounded for the wire).

One ``step()`` runs these phases, in order:

1. Timers: ``tick += 1``; fire cooldowns count down; dead players' respawn timers count
   down and, on reaching zero, respawn them at a free random spot (RESPAWN).
2. Move: each alive player's current control goes through ``movement`` (the same code
   client prediction runs), then the player is pushed out of obstacles.
3. Crowding: overlapping alive players are pushed apart symmetrically, one pass per tick,
   pairs found with the spatial grid and visited in id order; leftovers settle next tick.
4. Players moved in 3 are re-clamped, snapped and pushed out of obstacles again, so
   obstacles always have the last word.
5. Fire: FIRE held with the cooldown at zero spawns a projectile at the player's edge
   along the aim and restarts the cooldown.
6. Projectiles, in id order (new ones included), sweep this tick's segment: the earliest
   contact with an obstacle or an alive non-owner player wins. A hit deals damage (HIT)
   and may kill (DEATH, then SCORE for the shooter if still present). Projectiles that
   hit anything, leave the world or run out of lifetime disappear.

Dead players keep their last position, do not move, fire, block or get hit, and their
inputs are ignored; their control is cleared at death so a respawn starts idle.
"""

from __future__ import annotations

import hashlib
import math
import random
import struct

import attrs

from gameserver.sim.game import (
    AIM_STEPS,
    ALL_BUTTONS,
    POSITION_SCALE,
    EntityKind,
    Event,
    EventKind,
)
from gameserver.sim.grid import SpatialGrid
from gameserver.sim.movement import bounds_q, clamp_snap, make_mover, push_out_of_circle

from .hitscan import PositionHistory, first_hit

_SCALE = float(POSITION_SCALE)
_FIRE = 16  # Buttons.FIRE as a plain int: IntFlag arithmetic is slow in hot loops
_HITSCAN = 32
_MOVE_BITS = 15
_AIM_MASK = AIM_STEPS - 1
_AIM_TO_RAD = 2.0 * math.pi / AIM_STEPS
_SPAWN_ATTEMPTS = 32
_OBSTACLE_ATTEMPTS = 200
_OBSTACLE_CELL = 32.0
# Crowd pushes aim this far past touching so that snapping (<= 1/32 per axis per player)
# cannot bring the pair back into overlap.
_SEPARATION_SLACK = 2.0 / POSITION_SCALE
_NO_HIT = 2.0  # sweep "time" meaning no contact within this tick's segment [0, 1]


# Bumped whenever the rules change how a match plays out: a recording made under other
# rules would not replay the same (gameserver/recording.py refuses it).
RULES_VERSION = 2  # 2: the hitscan weapon


@attrs.frozen
class ArenaSettings:
    width: float = 1000.0  # world size in units; origin top-left, +y down
    height: float = 1000.0
    player_radius: float = 16.0
    player_speed: float = 200.0  # units per second
    max_hp: int = 100
    fire_cooldown_s: float = 0.4  # minimum time between two shots of one player
    projectile_speed: float = 600.0  # units per second
    projectile_radius: float = 4.0
    projectile_lifetime_s: float = 1.0
    projectile_damage: int = 25
    respawn_delay_s: float = 2.0
    obstacle_count: int = 8  # fewer are placed if the world is too crowded to fit them
    obstacle_radius: tuple[float, float] = (30.0, 70.0)  # (min, max)
    kill_score: int = 1
    # The hitscan weapon (HITSCAN button): instant, along the aim, up to hitscan_range.
    hitscan_damage: int = 20
    hitscan_range: float = 700.0
    hitscan_cooldown_s: float = 0.5
    # Judge hitscan shots where the shooter saw its targets (gameserver/sim/hitscan.py),
    # rewinding at most max_rewind_s; False judges them at the current positions.
    lag_compensation: bool = True
    max_rewind_s: float = 0.2


DEFAULT_SETTINGS = ArenaSettings()


@attrs.frozen
class Obstacle:
    id: int
    x: float
    y: float
    radius: float


@attrs.define(eq=False)
class _Player:
    id: int
    name: str
    x: float
    y: float
    hp: int
    score: int = 0
    alive: bool = True
    buttons: int = 0
    aim: int = 0
    cooldown: int = 0  # ticks until the next shot is allowed
    respawn: int = 0  # while dead: ticks until respawn
    hitscan_cooldown: int = 0
    view_tick: float | None = None  # what the player saw when it sent its control


@attrs.define(eq=False)
class _Projectile:
    id: int
    owner: int
    x: float
    y: float
    vx: float  # displacement per tick
    vy: float
    aim: int
    life: int  # moves left


def _sweep(x: float, y: float, vx: float, vy: float, cx: float, cy: float, reach: float) -> float:
    """First t in [0, 1] where (x, y) + t * (vx, vy) is within `reach` of (cx, cy), else _NO_HIT."""
    fx = x - cx
    fy = y - cy
    c = fx * fx + fy * fy - reach * reach
    if c <= 0.0:
        return 0.0
    a = vx * vx + vy * vy
    if a == 0.0:
        return _NO_HIT
    b = fx * vx + fy * vy
    disc = b * b - a * c
    if b >= 0.0 or disc < 0.0:  # moving away, or the line misses the circle
        return _NO_HIT
    t = (-b - math.sqrt(disc)) / a
    return t if t <= 1.0 else _NO_HIT


def _ticks(seconds: float, tick_rate: int, minimum: int) -> int:
    return max(minimum, round(seconds * tick_rate))


class Arena:
    """The arena game; implements gameserver.sim.game.Game."""

    name = "arena"

    def __init__(
        self, settings: ArenaSettings = DEFAULT_SETTINGS, *, seed: int = 0, tick_rate: int = 30
    ) -> None:
        lo_r, hi_r = settings.obstacle_radius
        if tick_rate <= 0 or settings.width <= 0 or settings.height <= 0 or lo_r > hi_r:
            raise ValueError("invalid arena settings")
        self.settings = settings
        self.tick_rate = tick_rate
        self.tick = 0
        self.world_width = settings.width
        self.world_height = settings.height
        self._rng = random.Random(seed)
        self._next_id = 1
        self._players: dict[int, _Player] = {}
        self._projectiles: dict[int, _Projectile] = {}

        r = settings.player_radius
        self._mover = make_mover(
            1.0 / tick_rate, settings.player_speed, settings.width, settings.height, r
        )
        self._cooldown_ticks = _ticks(settings.fire_cooldown_s, tick_rate, 0)
        self._respawn_ticks = _ticks(settings.respawn_delay_s, tick_rate, 1)
        self._lifetime_ticks = _ticks(settings.projectile_lifetime_s, tick_rate, 1)
        self._projectile_step = settings.projectile_speed / tick_rate
        self._hitscan_cooldown_ticks = _ticks(settings.hitscan_cooldown_s, tick_rate, 1)
        self._max_rewind_ticks = settings.max_rewind_s * tick_rate
        self._history = PositionHistory(math.ceil(self._max_rewind_ticks) + 2)
        # Cells at least one player diameter wide, as SpatialGrid.close_pairs requires.
        self._player_grid = SpatialGrid(max(2.0 * r, 1.0))
        self._bounds_q = bounds_q(settings.width, r) + bounds_q(settings.height, r)

        self.obstacles: tuple[Obstacle, ...] = self._place_obstacles()
        self._obstacles_by_id = {o.id: o for o in self.obstacles}
        # Grid values index this list, which is what movement.push_out_of_circle wants.
        self._circles = [(o.x, o.y, o.radius) for o in self.obstacles]
        # Static grid answering "which obstacles may touch something centred here" with one
        # lookup: each obstacle is inflated by the largest reach of what is tested against it
        # (a player, or a projectile's segment measured from its midpoint).
        inflate = max(r, settings.projectile_radius + 0.5 * self._projectile_step) + 1.0
        self._obstacle_grid = SpatialGrid(_OBSTACLE_CELL)
        for i, o in enumerate(self.obstacles):
            self._obstacle_grid.insert_circle(i, o.x, o.y, o.radius + inflate)
        self._obstacle_wire = {
            o.id: (
                int(EntityKind.OBSTACLE),
                round(o.x * _SCALE),
                round(o.y * _SCALE),
                round(o.radius * _SCALE),
            )
            for o in self.obstacles
        }

    def client_params(self) -> dict[str, float]:
        """Every scalar setting: ``ArenaSettings(**params)`` rebuilds the rules on a client."""
        fields = attrs.asdict(self.settings)
        # Booleans travel as 0/1: the wire's parameters are numbers.
        return {k: int(v) if isinstance(v, bool) else v for k, v in fields.items()
                if isinstance(v, int | float)}  # fmt: skip

    # ----------------------------------------------------------------- construction

    def _new_id(self) -> int:
        eid = self._next_id
        self._next_id = eid + 1
        return eid

    def _place_obstacles(self) -> tuple[Obstacle, ...]:
        """Seeded, on the grid, and at least a player diameter (+2) from borders and each other.

        That gap guarantees a player touches at most one obstacle and an obstacle push never
        crosses a border, which keeps movement.resolve_obstacles order-independent.
        """
        s = self.settings
        rng = self._rng
        gap = 2.0 * s.player_radius + 2.0
        rq_lo = math.ceil(s.obstacle_radius[0] * _SCALE)
        rq_hi = max(rq_lo, math.floor(s.obstacle_radius[1] * _SCALE))
        placed: list[tuple[float, float, float]] = []
        for _ in range(s.obstacle_count):
            for _attempt in range(_OBSTACLE_ATTEMPTS):
                radius = rng.randint(rq_lo, rq_hi) / _SCALE
                margin = radius + gap
                xlo, xhi = math.ceil(margin * _SCALE), math.floor((s.width - margin) * _SCALE)
                ylo, yhi = math.ceil(margin * _SCALE), math.floor((s.height - margin) * _SCALE)
                if xhi < xlo or yhi < ylo:
                    continue
                x = rng.randint(xlo, xhi) / _SCALE
                y = rng.randint(ylo, yhi) / _SCALE
                if all(
                    (x - ox) ** 2 + (y - oy) ** 2 >= (radius + orad + gap) ** 2
                    for ox, oy, orad in placed
                ):
                    placed.append((x, y, radius))
                    break
        return tuple(Obstacle(self._new_id(), x, y, radius) for x, y, radius in placed)

    # ----------------------------------------------------------------- spawning

    def _push_out_obstacles(self, x: float, y: float) -> tuple[float, float]:
        r = self.settings.player_radius
        circles = self._circles
        for i in self._obstacle_grid.query_point(x, y):
            cx, cy, cr = circles[i]
            x, y = push_out_of_circle(x, y, r, cx, cy, cr)
        return x, y

    def _in_obstacle(self, x: float, y: float) -> bool:
        r = self.settings.player_radius
        circles = self._circles
        for i in self._obstacle_grid.query_point(x, y):
            cx, cy, cr = circles[i]
            if (x - cx) ** 2 + (y - cy) ** 2 < (r + cr) ** 2:
                return True
        return False

    def _crowded(self, x: float, y: float) -> bool:
        # The player grid holds end-of-last-step positions plus spawns since; stale ids
        # (left or dead players) are filtered here.
        sep = 2.0 * self.settings.player_radius
        players = self._players
        for pid in self._player_grid.query_radius(x, y, sep):
            p = players.get(pid)
            if p is not None and p.alive and (x - p.x) ** 2 + (y - p.y) ** 2 < sep * sep:
                return True
        return False

    def _spawn_point(self) -> tuple[float, float]:
        """A seeded random grid point clear of obstacles and, if possible, of alive players."""
        s = self.settings
        rng = self._rng
        xlo, xhi = bounds_q(s.width, s.player_radius)
        ylo, yhi = bounds_q(s.height, s.player_radius)
        fallback: tuple[float, float] | None = None
        x = y = 0.0
        for _ in range(_SPAWN_ATTEMPTS):
            x = rng.randint(xlo, xhi) / _SCALE
            y = rng.randint(ylo, yhi) / _SCALE
            if self._in_obstacle(x, y):
                continue
            if not self._crowded(x, y):
                return x, y
            if fallback is None:
                fallback = (x, y)
        return fallback if fallback is not None else self._push_out_obstacles(x, y)

    # ----------------------------------------------------------------- Game interface

    def join(self, name: str) -> int:
        pid = self._new_id()
        x, y = self._spawn_point()
        self._players[pid] = _Player(pid, name, x, y, self.settings.max_hp)
        self._player_grid.insert(pid, x, y)
        return pid

    def leave(self, entity_id: int) -> None:
        # Projectiles already fired stay in flight; their kills score for nobody.
        self._players.pop(entity_id, None)

    def apply_input(
        self, entity_id: int, buttons: int, aim: int, view_tick: float | None = None
    ) -> None:
        p = self._players.get(entity_id)
        if p is not None and p.alive:
            p.buttons = buttons & ALL_BUTTONS
            p.aim = aim & _AIM_MASK
            p.view_tick = view_tick

    def place(self, entity_id: int, x: float, y: float) -> None:
        """Teleport a player (tests, admin tools): clamped, snapped and kept out of obstacles."""
        p = self._players.get(entity_id)
        if p is None:
            return
        s = self.settings
        x, y = clamp_snap(x, y, s.width, s.height, s.player_radius)
        p.x, p.y = self._push_out_obstacles(x, y)
        self._player_grid.insert(entity_id, p.x, p.y)

    def score(self, entity_id: int) -> int | None:
        p = self._players.get(entity_id)
        return None if p is None else p.score

    def entity_position(self, entity_id: int) -> tuple[float, float] | None:
        p = self._players.get(entity_id)
        if p is not None:
            return p.x, p.y
        pr = self._projectiles.get(entity_id)
        if pr is not None:
            return pr.x, pr.y
        o = self._obstacles_by_id.get(entity_id)
        if o is not None:
            return o.x, o.y
        return None

    def step(self) -> list[Event]:
        """One tick; phases as in the module docstring. Events carry the new self.tick."""
        self.tick += 1
        events: list[Event] = []
        alive = self._timers(events)
        if any(p.buttons & _HITSCAN for p in alive):
            alive = self._hitscan(alive, events)
        self._move(alive)
        if self._crowd(alive):
            self._index_players(alive)  # else the grid built by _crowd is still exact
        self._fire(alive)
        if self._projectiles:
            self._fly(events)
        self._history.record(
            self.tick, {p.id: (p.x, p.y) for p in self._players.values() if p.alive}
        )
        return events

    def _hitscan(self, alive: list[_Player], events: list[Event]) -> list[_Player]:
        """Phase 1b: hitscan shots, against the world as each shooter saw it."""
        s = self.settings
        now = self.tick - 1  # the world as it stands: the end of the previous tick
        current: dict[int, tuple[float, float]] = {p.id: (p.x, p.y) for p in alive}
        for p in alive:
            if not p.buttons & _HITSCAN or p.hitscan_cooldown > 0 or not p.alive:
                continue
            p.hitscan_cooldown = self._hitscan_cooldown_ticks
            targets = current
            if s.lag_compensation and p.view_tick is not None and p.view_tick < now:
                seen = self._history.at(max(p.view_tick, now - self._max_rewind_ticks))
                targets = {eid: seen.get(eid, pos) for eid, pos in current.items()}
            targets = {eid: pos for eid, pos in targets.items() if self._players[eid].alive}
            angle = p.aim * _AIM_TO_RAD
            hit = first_hit(p.x, p.y, angle, s.hitscan_range, targets, s.player_radius, p.id)
            reach = hit[1] if hit else s.hitscan_range
            end_x, end_y = p.x + math.cos(angle) * reach, p.y + math.sin(angle) * reach
            target_id = hit[0] if hit else 0
            events.append(
                Event(self.tick, EventKind.SHOT,
                      (p.id, target_id, round(end_x * _SCALE), round(end_y * _SCALE)))
            )  # fmt: skip
            if hit is not None:
                self._damage(self.tick, p.id, self._players[target_id], s.hitscan_damage, events)
        return [p for p in alive if p.alive]

    def wire_state(self) -> dict[int, tuple[int, ...]]:
        out: dict[int, tuple[int, ...]] = dict(self._obstacle_wire)
        player_kind = int(EntityKind.PLAYER)
        for p in self._players.values():
            flags = (1 if p.alive else 0) | (2 if p.cooldown > 0 else 0)
            out[p.id] = (
                player_kind,
                round(p.x * _SCALE),
                round(p.y * _SCALE),
                p.aim >> 8,
                p.hp,
                p.score,
                flags,
            )
        projectile_kind = int(EntityKind.PROJECTILE)
        for pr in self._projectiles.values():
            out[pr.id] = (
                projectile_kind,
                round(pr.x * _SCALE),
                round(pr.y * _SCALE),
                pr.aim >> 8,
                pr.owner,
            )
        return out

    def state_hash(self) -> str:
        ints: list[int] = [self.tick, self._next_id, len(self.obstacles), len(self._players)]
        for o in self.obstacles:
            ints.extend(self._obstacle_wire[o.id])
        for p in self._players.values():
            ints += (
                p.id,
                round(p.x * _SCALE),
                round(p.y * _SCALE),
                p.hp,
                p.score,
                int(p.alive),
                p.buttons,
                p.aim,
                p.cooldown,
                p.respawn,
                p.hitscan_cooldown,
            )
        ints.append(len(self._projectiles))
        for pr in self._projectiles.values():
            ints += (pr.id, pr.owner, round(pr.x * _SCALE), round(pr.y * _SCALE), pr.aim, pr.life)
        h = hashlib.blake2b(digest_size=16)
        h.update(struct.pack(f"<{len(ints)}q", *ints))
        for p in self._players.values():
            name = p.name.encode("utf-8")
            h.update(struct.pack("<I", len(name)))
            h.update(name)
        version, internal, gauss = self._rng.getstate()
        h.update(struct.pack(f"<{len(internal)}Q", *internal))
        h.update(repr((version, gauss)).encode("ascii"))
        return h.hexdigest()

    # ----------------------------------------------------------------- step phases

    def _timers(self, events: list[Event]) -> list[_Player]:
        """Phase 1; returns the players alive for the rest of the step, in id order."""
        alive: list[_Player] = []
        for p in self._players.values():
            if p.alive:
                if p.cooldown:
                    p.cooldown -= 1
                if p.hitscan_cooldown:
                    p.hitscan_cooldown -= 1
                alive.append(p)
                continue
            p.respawn -= 1
            if p.respawn > 0:
                continue
            p.x, p.y = self._spawn_point()
            p.hp = self.settings.max_hp
            p.alive = True
            p.cooldown = 0
            self._player_grid.insert(p.id, p.x, p.y)
            events.append(
                Event(
                    self.tick,
                    EventKind.RESPAWN,
                    (p.id, round(p.x * _SCALE), round(p.y * _SCALE)),
                )
            )
            alive.append(p)
        return alive

    def _move(self, alive: list[_Player]) -> None:
        """Phase 2: movement then obstacles, for players with any direction bit."""
        mover = self._mover
        query = self._obstacle_grid.query_point
        circles = self._circles
        r = self.settings.player_radius
        for p in alive:
            buttons = p.buttons
            if not buttons & _MOVE_BITS:
                continue
            x, y = mover(p.x, p.y, buttons)
            for i in query(x, y):
                cx, cy, cr = circles[i]
                x, y = push_out_of_circle(x, y, r, cx, cy, cr)
            p.x = x
            p.y = y

    def _crowd(self, alive: list[_Player]) -> bool:
        """Phases 3 and 4: symmetric push-apart of overlapping players, then fix-up.

        Leaves the player grid indexing the pre-push positions; returns whether anyone moved.
        """
        s = self.settings
        sep = 2.0 * s.player_radius
        sep2 = sep * sep
        target = sep + _SEPARATION_SLACK
        grid = self._player_grid
        grid.clear()
        for p in alive:
            grid.insert(p.id, p.x, p.y)
        players = self._players
        pushed: dict[int, _Player] = {}
        for aid, bid in grid.close_pairs():
            a = players[aid]
            b = players[bid]
            dx = b.x - a.x
            dy = b.y - a.y
            d2 = dx * dx + dy * dy
            if d2 >= sep2:
                continue
            if d2 == 0.0:
                # Exactly stacked: any direction works; hash the ids so a stacked crowd
                # spreads in 2D instead of lining up along one axis.
                angle = ((aid * 40503 + bid) & _AIM_MASK) * _AIM_TO_RAD
                nx, ny, half = math.cos(angle), math.sin(angle), target * 0.5
            else:
                d = math.sqrt(d2)
                nx, ny, half = dx / d, dy / d, (target - d) * 0.5
            a.x -= nx * half
            a.y -= ny * half
            b.x += nx * half
            b.y += ny * half
            pushed[aid] = a
            pushed[bid] = b
        xlo, xhi, ylo, yhi = self._bounds_q
        for p in pushed.values():
            # Same rounding and inward-rounded bounds as movement.clamp_snap, precomputed.
            xq = min(max(round(p.x * _SCALE), xlo), xhi)
            yq = min(max(round(p.y * _SCALE), ylo), yhi)
            p.x, p.y = self._push_out_obstacles(xq / _SCALE, yq / _SCALE)
        return bool(pushed)

    def _fire(self, alive: list[_Player]) -> None:
        """Phase 5."""
        s = self.settings
        r = s.player_radius
        step = self._projectile_step
        for p in alive:
            if not p.buttons & _FIRE or p.cooldown > 0:
                continue
            p.cooldown = self._cooldown_ticks
            angle = p.aim * _AIM_TO_RAD
            c = math.cos(angle)
            si = math.sin(angle)
            pid = self._new_id()
            self._projectiles[pid] = _Projectile(
                pid,
                p.id,
                p.x + c * r,
                p.y + si * r,
                c * step,
                si * step,
                p.aim,
                self._lifetime_ticks,
            )

    def _index_players(self, alive: list[_Player]) -> None:
        """Final positions into the grid: for projectile hits now, spawn checks until next step."""
        grid = self._player_grid
        grid.clear()
        for p in alive:
            grid.insert(p.id, p.x, p.y)

    def _fly(self, events: list[Event]) -> None:
        """Phase 6: sweep, hit, move, expire."""
        s = self.settings
        tick = self.tick
        players = self._players
        circles = self._circles
        query_obstacles = self._obstacle_grid.query_point
        query_players = self._player_grid.query_radius
        pr_r = s.projectile_radius
        reach = s.player_radius + pr_r
        half_len = self._projectile_step * 0.5
        player_query_r = half_len + reach
        w, h = s.width, s.height
        damage = s.projectile_damage
        survivors: dict[int, _Projectile] = {}
        for pr in self._projectiles.values():
            x, y, vx, vy = pr.x, pr.y, pr.vx, pr.vy
            mx = x + vx * 0.5
            my = y + vy * 0.5
            best_t = _NO_HIT
            hit_wall = False
            for i in query_obstacles(mx, my):
                cx, cy, cr = circles[i]
                t = _sweep(x, y, vx, vy, cx, cy, cr + pr_r)
                if t < best_t:
                    best_t = t
                    hit_wall = True
            target: _Player | None = None
            owner = pr.owner
            for tid in query_players(mx, my, player_query_r):
                if tid == owner:
                    continue
                cand = players.get(tid)
                if cand is None or not cand.alive:
                    continue  # left, or killed earlier this tick
                t = _sweep(x, y, vx, vy, cand.x, cand.y, reach)
                # Ties: an obstacle beats a player (walls block), a lower id beats a higher.
                if t < best_t or (t == best_t and target is not None and tid < target.id):
                    best_t = t
                    target = cand
                    hit_wall = False
            if target is not None and not hit_wall:
                self._damage(tick, owner, target, damage, events)
                continue
            if hit_wall:
                continue
            x += vx
            y += vy
            if x < 0.0 or y < 0.0 or x > w or y > h:
                continue
            pr.life -= 1
            if pr.life <= 0:
                continue
            pr.x = x
            pr.y = y
            survivors[pr.id] = pr
        self._projectiles = survivors

    def _damage(
        self, tick: int, shooter: int, target: _Player, damage: int, events: list[Event]
    ) -> None:
        hp = max(0, target.hp - damage)
        target.hp = hp
        events.append(Event(tick, EventKind.HIT, (shooter, target.id, damage, hp)))
        if hp > 0:
            return
        target.alive = False
        target.respawn = self._respawn_ticks
        target.buttons = 0
        target.cooldown = 0
        events.append(Event(tick, EventKind.DEATH, (target.id, shooter)))
        killer = self._players.get(shooter)
        if killer is not None:
            killer.score += self.settings.kill_score
            events.append(Event(tick, EventKind.SCORE, (killer.id, killer.score)))
