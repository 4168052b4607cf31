"""The arena's rules: a top-down shooter among round obstacles.

Theory of operation
-------------------
All state lives in dicts keyed by entity id; ids only grow, so insertion order is id order
and every loop is deterministic. Randomness comes only from ``self.random``; timers count
whole ticks. Player positions always sit on the 1/POSITION_SCALE grid, so the wire carries
exactly the rules' state (projectiles keep exact float positions: nobody predicts them,
they are only rounded for the wire). The players, projectiles and obstacles are the
declared entity objects themselves (``schema.py``), carrying the rules' own fields too.

Inputs: each ``TickInput`` of a step sets its player's control (buttons and aim) and view
tick, as an input always has; a dead player's input is ignored. A disconnected
player stands still (its aim kept) until a fresh input arrives after ``reconnected``.

One ``step()`` then runs these phases, in order:

1. Timers: fire cooldowns count down; dead players' respawn timers count down and, on
   reaching zero, respawn them at a free random spot (RESPAWN).
1b. Hitscan: HITSCAN held with its cooldown at zero shoots along the aim, judged where the
   shooter saw its targets (``_hitscan.py``): SHOT, and HIT/DEATH/SCORE on a hit.
2. Move: each alive player's control goes through ``movement`` (the same code client
   prediction runs), then the player is pushed out of obstacles.
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

Dead players keep their last position, do not move, fire, block or get hit; their control
is cleared at death so a respawn starts idle.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Sequence
from typing import Any

import attrs

from gameserver import rules

from ._grid import SpatialGrid
from ._hitscan import PositionHistory, first_hit
from ._schema import (
    AIM_STEPS,
    ARENA_BUTTONS,
    POSITION_SCALE,
    SCHEMA,
    Controls,
    Death,
    Hit,
    Obstacle,
    Player,
    PlayerFlags,
    Projectile,
    Respawn,
    Score,
    Shot,
)
from ._settings import ArenaSettings
from .movement import bounds_q, clamp_snap, make_mover, push_out_of_circle

# Bumped whenever the rules change how a match plays out: a recording made under other
# rules would not replay the same (recordings refuse it).
RULES_VERSION = 2  # 2: the hitscan weapon

_SCALE = float(POSITION_SCALE)
_FIRE = 16  # Buttons.FIRE as a plain int: IntFlag arithmetic is slow in hot loops
_HITSCAN = 32
_MOVE_BITS = 15
_AIM_MASK = AIM_STEPS - 1
_AIM_TO_RAD = 2.0 * math.pi / AIM_STEPS
# The arena's bits of any 8-bit button set, by index: one lookup instead of IntFlag.__and__.
_ARENA_BITS = tuple(bits & ARENA_BUTTONS for bits in range(256))
_FLAGS = tuple(PlayerFlags(v) for v in range(4))  # by (alive | cooldown running << 1)
_PLAYER_KIND = 0
_PROJECTILE_KIND = 1
_OBSTACLE_KIND = 2
_SPAWN_ATTEMPTS = 32
_OBSTACLE_ATTEMPTS = 200
_OBSTACLE_CELL = 32.0
# Crowd pushes aim this far past touching so that snapping (<= 1/32 per axis per player)
# cannot bring the pair back into overlap.
_SEPARATION_SLACK = 2.0 / POSITION_SCALE
_NO_HIT = 2.0  # sweep "time" meaning no contact within this tick's segment [0, 1]
# What save() keeps; everything else is derived from it (_derive).
_SAVED = (
    "settings", "seed", "random", "tick", "tick_rate", "room_tick_rate", "_next_id",
    "_players", "_projectiles", "obstacles", "_history", "_entity_of", "_held", "_dead_aims",
)  # fmt: skip


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


class ArenaRules(rules.Rules[Controls, ArenaSettings]):
    """The arena: move, shoot projectiles and hitscan, die, respawn, score."""

    id = "arena"
    version = RULES_VERSION
    schema = SCHEMA
    settings_type = ArenaSettings
    tick_rate = 30
    max_players = 512  # one large world, shared with interest management; modes cap it
    prediction = "gameserver.games.arena.movement:predictor"

    def __init__(self, settings: ArenaSettings, seed: int, *, tick_rate: int | None = None) -> None:
        super().__init__(settings, seed, tick_rate=tick_rate)
        # The room's tick rate: durations in seconds become whole ticks with it.
        rate = self.room_tick_rate = self.tick_rate
        self._next_id = 1
        self._players: dict[int, Player] = {}
        self._projectiles: dict[int, Projectile] = {}
        self._entity_of: dict[str, int] = {}  # player id -> its entity
        # Disconnected players' entities: inputs are ignored until a fresh one arrives.
        self._held: set[int] = set()
        # Entity -> (tick, aim) of the newest input seen while the player was dead.
        self._dead_aims: dict[int, tuple[int, int]] = {}
        self._history = PositionHistory(math.ceil(settings.max_rewind_s * rate) + 2)
        self.obstacles: tuple[Obstacle, ...] = self._place_obstacles()
        self._derive()

    def _derive(self) -> None:
        """Everything computed from the settings, the tick rate and the obstacles."""
        s = self.settings
        rate = self.room_tick_rate
        r = s.player_radius
        self._mover = make_mover(1.0 / rate, s.player_speed, s.width, s.height, r)
        self._cooldown_ticks = _ticks(s.fire_cooldown_s, rate, 0)
        self._respawn_ticks = _ticks(s.respawn_delay_s, rate, 1)
        self._lifetime_ticks = _ticks(s.projectile_lifetime_s, rate, 1)
        self._projectile_step = s.projectile_speed / rate
        self._hitscan_cooldown_ticks = _ticks(s.hitscan_cooldown_s, rate, 1)
        self._max_rewind_ticks = s.max_rewind_s * rate
        self._bounds_q = bounds_q(s.width, r) + bounds_q(s.height, r)
        # Cells at least one player diameter wide, as SpatialGrid.close_pairs requires.
        self._player_grid = SpatialGrid(max(2.0 * r, 1.0))
        for p in self._players.values():
            if p.alive:
                self._player_grid.insert(p.id, p.x, p.y)
        self._obstacles_by_id = {o.id: o for o in self.obstacles}
        # Grid values index this list, which is what movement.push_out_of_circle wants.
        self._circles = [(o.x, o.y, o.radius) for o in self.obstacles]
        # Static grid answering "which obstacles may touch something centred here" with one
        # lookup: each obstacle is inflated by the largest reach of what is tested against it
        # (a player, or a projectile's segment measured from its midpoint).
        inflate = max(r, s.projectile_radius + 0.5 * self._projectile_step) + 1.0
        self._obstacle_grid = SpatialGrid(_OBSTACLE_CELL)
        for i, o in enumerate(self.obstacles):
            self._obstacle_grid.insert_circle(i, o.x, o.y, o.radius + inflate)
        self._obstacle_wire = {
            o.id: (_OBSTACLE_KIND, round(o.x * _SCALE), round(o.y * _SCALE),
                   round(o.radius * _SCALE))
            for o in self.obstacles
        }  # fmt: skip

    # ----------------------------------------------------------------- the world's extent

    @property
    def world_size(self) -> tuple[float, float]:
        return self.settings.width, self.settings.height

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
        rng = self.random
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
        return tuple(
            Obstacle(x=x, y=y, radius=radius, id=self._new_id()) for x, y, radius in placed
        )

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
        rng = self.random
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

    # ----------------------------------------------------------------- membership

    def join(self, player: rules.Player) -> int:
        pid = self._new_id()
        x, y = self._spawn_point()
        self._players[pid] = Player(
            x=x, y=y, aim=0, hp=self.settings.max_hp, score=0, id=pid, name=player.name
        )
        self._player_grid.insert(pid, x, y)
        self._entity_of[player.id] = pid
        return pid

    def leave(self, player: rules.Player) -> None:
        # Projectiles already fired stay in flight; their kills score for nobody.
        pid = self._entity_of.pop(player.id, 0)
        self._players.pop(pid, None)
        self._held.discard(pid)
        self._dead_aims.pop(pid, None)

    def disconnected(self, player: rules.Player) -> None:
        """The player stands still, aiming where its newest input aimed, until it is back."""
        pid = self._entity_of.get(player.id, 0)
        p = self._players.get(pid)
        if p is None:
            return
        self._held.add(pid)
        if p.alive:  # as an idle input with the newest aim would
            p.buttons = 0
            p.view_tick = None
            seen_dead = self._dead_aims.get(pid)
            if seen_dead is not None and seen_dead[0] == self.tick - 1:
                p.aim = seen_dead[1]  # respawned in the last step: that input was its newest

    def reconnected(self, player: rules.Player) -> None:
        pass  # still held: the first fresh input releases it

    def place(self, entity_id: int, x: float, y: float) -> None:
        """Teleport a player (tests, admin tools): clamped, snapped and kept out of obstacles."""
        p = self._players.get(entity_id)
        if p is None:
            return
        s = self.settings
        x, y = clamp_snap(x, y, s.width, s.height, s.player_radius)
        p.x, p.y = self._push_out_obstacles(x, y)
        self._player_grid.insert(entity_id, p.x, p.y)

    def score(self, player: rules.Player) -> int | None:
        p = self._players.get(self._entity_of.get(player.id, 0))
        return None if p is None else p.score

    # ----------------------------------------------------------------- the tick

    def step(
        self, inputs: Sequence[rules.TickInput[Controls]], commands: Sequence[rules.TickCommand]
    ) -> list[Any]:
        """One tick; phases as in the module docstring."""
        players = self._players
        held = self._held
        arena_bits = _ARENA_BITS
        for given in inputs:
            p = players.get(given.entity_id)
            if p is None:
                continue
            if held and p.id in held:
                if not given.fresh:
                    continue
                held.discard(p.id)
            control = given.value
            if p.alive:
                p.buttons = arena_bits[control.buttons]
                p.aim = control.aim & _AIM_MASK
                p.view_tick = given.view_tick
            else:
                self._dead_aims[p.id] = (self.tick, control.aim & _AIM_MASK)
        tick = self.tick + 1  # the tick this step makes
        events: list[Any] = []
        alive = self._timers(events)
        if any(p.buttons & _HITSCAN for p in alive):
            alive = self._hitscan(alive, events)
        self._move(alive)
        if self._crowd(alive):
            self._index_players(alive)  # else the grid built by _crowd is still exact
        self._fire(alive)
        if self._projectiles:
            self._fly(events)
        self._history.record(tick, {p.id: (p.x, p.y) for p in players.values() if p.alive})
        return events

    def _timers(self, events: list[Any]) -> list[Player]:
        """Phase 1; returns the players alive for the rest of the step, in id order."""
        alive: list[Player] = []
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
            events.append(Respawn(player=p.id, x=p.x, y=p.y))
            alive.append(p)
        return alive

    def _hitscan(self, alive: list[Player], events: list[Any]) -> list[Player]:
        """Phase 1b: hitscan shots, against the world as each shooter saw it."""
        s = self.settings
        now = self.tick  # the world as it stands: the end of the previous tick
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
            events.append(Shot(shooter=p.id, target=target_id, end_x=end_x, end_y=end_y))
            if hit is not None:
                self._damage(p.id, self._players[target_id], s.hitscan_damage, events)
        return [p for p in alive if p.alive]

    def _move(self, alive: list[Player]) -> None:
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

    def _crowd(self, alive: list[Player]) -> bool:
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
        pushed: dict[int, Player] = {}
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

    def _fire(self, alive: list[Player]) -> None:
        """Phase 5."""
        r = self.settings.player_radius
        step = self._projectile_step
        for p in alive:
            if not p.buttons & _FIRE or p.cooldown > 0:
                continue
            p.cooldown = self._cooldown_ticks
            angle = p.aim * _AIM_TO_RAD
            c = math.cos(angle)
            si = math.sin(angle)
            pid = self._new_id()
            self._projectiles[pid] = Projectile(
                x=p.x + c * r,
                y=p.y + si * r,
                aim=p.aim,
                owner=p.id,
                id=pid,
                vx=c * step,
                vy=si * step,
                life=self._lifetime_ticks,
            )

    def _index_players(self, alive: list[Player]) -> None:
        """Final positions into the grid: for projectile hits now, spawn checks until next step."""
        grid = self._player_grid
        grid.clear()
        for p in alive:
            grid.insert(p.id, p.x, p.y)

    def _fly(self, events: list[Any]) -> None:
        """Phase 6: sweep, hit, move, expire."""
        s = self.settings
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
        survivors: dict[int, Projectile] = {}
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
            target: Player | None = None
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
                self._damage(owner, target, damage, events)
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

    def _damage(self, shooter: int, target: Player, damage: int, events: list[Any]) -> None:
        hp = max(0, target.hp - damage)
        target.hp = hp
        events.append(Hit(shooter=shooter, target=target.id, damage=damage, hp_after=hp))
        if hp > 0:
            return
        target.alive = False
        target.respawn = self._respawn_ticks
        target.buttons = 0
        target.cooldown = 0
        events.append(Death(victim=target.id, killer=shooter))
        killer = self._players.get(shooter)
        if killer is not None:
            killer.score += self.settings.kill_score
            events.append(Score(player=killer.id, score=killer.score))

    # ----------------------------------------------------------------- reading the world

    def entities(self) -> dict[int, Obstacle | Player | Projectile]:
        """Every entity, by id: obstacles, then players, then projectiles (as ``wire_state``)."""
        out: dict[int, Obstacle | Player | Projectile] = dict(self._obstacles_by_id)
        flags = _FLAGS
        for pid, p in self._players.items():
            p.flags = flags[(1 if p.alive else 0) | (2 if p.cooldown > 0 else 0)]
            out[pid] = p
        out.update(self._projectiles)
        return out

    def wire_state(self) -> dict[int, rules.WireTuple]:
        """``schema.wire_state(self.entities())``, written out by hand: it runs every tick."""
        out: dict[int, rules.WireTuple] = dict(self._obstacle_wire)
        for p in self._players.values():
            flags = (1 if p.alive else 0) | (2 if p.cooldown > 0 else 0)
            out[p.id] = (
                _PLAYER_KIND,
                round(p.x * _SCALE),
                round(p.y * _SCALE),
                p.aim >> 8,
                p.hp,
                p.score,
                flags,
            )
        for pr in self._projectiles.values():
            out[pr.id] = (
                _PROJECTILE_KIND,
                round(pr.x * _SCALE),
                round(pr.y * _SCALE),
                pr.aim >> 8,
                pr.owner,
            )
        return out

    def player_entity(self, player: rules.Player) -> int:
        """The entity ``player`` controls (0: none)."""
        return self._entity_of.get(player.id, 0)

    # ----------------------------------------------------------------- whole state

    def save(self) -> bytes:
        return rules.save_state({name: getattr(self, name) for name in _SAVED})

    @classmethod
    def restore(cls, data: bytes) -> ArenaRules:
        state = rules.load_state(data, modules=rules.game_modules(cls))
        if type(state) is not dict or set(state) != set(_SAVED):
            raise rules.StateError("not a saved arena")
        arena = cls.__new__(cls)
        arena.__dict__.update(state)
        arena._derive()
        return arena

    def state_hash(self) -> str:
        """Blake2b over the quantized state, tick, names and generator; what recordings check."""
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
        version, internal, gauss = self.random.getstate()
        h.update(struct.pack(f"<{len(internal)}Q", *internal))
        h.update(repr((version, gauss)).encode("ascii"))
        return h.hexdigest()
