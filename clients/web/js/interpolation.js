// Snapshot interpolation for remote entities; clients/interpolation.py is the reference.
//
// Theory of operation: snapshots arrive with jitter, so remote entities are drawn as they
// were `delayS` (about three snapshot intervals) behind the estimated server clock, where
// two buffered snapshots almost always bracket the render time; each entity sits on the
// straight line between its two positions. When the render time overtakes the newest
// snapshot, entities keep their last velocity for at most `maxExtrapolationS`, then hold.
// Per entity: in both snapshots -> interpolated; only in the later -> appears there; only
// in the earlier -> dropped. A move faster than `teleportSpeed` is not interpolated: the
// entity stays put, then cuts. Angles (wire steps, 0..255) turn along the shorter arc.
// Obstacles are static and drawn from the mirror, so they are not buffered here.
// Pure: the caller passes server times in seconds.

import { ANGLE_WIRE_STEPS, EntityKind, POSITION_SCALE } from "./world.js";

const SCALE = POSITION_SCALE;
const INV_SCALE = 1 / SCALE;
const TURN = ANGLE_WIRE_STEPS;
const HALF_TURN = ANGLE_WIRE_STEPS / 2;

/** Python's `a % n` (the result takes the sign of n), for ints and floats. */
export function pyMod(a, n) {
  let m = a % n;
  if (m !== 0) {
    if (m < 0 !== n < 0) m += n;
  } else {
    m = n < 0 ? -0 : 0;
  }
  return m;
}

/** About three snapshot intervals: survives one lost or late snapshot. */
export function defaultDelayS(snapshotRate) {
  if (!(snapshotRate > 0)) throw new RangeError("snapshotRate must be positive");
  return 3 / snapshotRate;
}

/** Signed steps from a to b along the shorter arc, in [-128, 128). */
function shortestTurn(a, b) {
  return pyMod(b - a + HALF_TURN, TURN) - HALF_TURN;
}

function view(x, y, angle) {
  return { x, y, angle };
}

function hold(poses) {
  const out = new Map();
  for (const [id, [x, y, angle]] of poses) out.set(id, view(x * INV_SCALE, y * INV_SCALE, angle));
  return out;
}

export class Interpolator {
  constructor({ delayS = 0.1, maxExtrapolationS = 0.05, capacity = 32, teleportSpeed = 1000 } = {}) {
    if (capacity < 2) throw new RangeError("capacity must be at least 2 (interpolation needs a pair)");
    this.delayS = delayS;
    this.maxExtrapolationS = maxExtrapolationS;
    this.capacity = capacity;
    this.teleportSpeed = teleportSpeed; // world units per second; faster moves cut
    this.snaps = []; // [serverTimeS, Map id -> [x_q, y_q, angle]], oldest first
  }

  get length() {
    return this.snaps.length;
  }

  get newestTimeS() {
    return this.snaps.length ? this.snaps[this.snaps.length - 1][0] : null;
  }

  renderTime(serverNowS) {
    return serverNowS - this.delayS;
  }

  clear() {
    this.snaps = [];
  }

  /** Record one snapshot (Map id -> tuple); one not newer than the newest is ignored. */
  push(serverTimeS, entities) {
    const snaps = this.snaps;
    if (snaps.length && serverTimeS <= snaps[snaps.length - 1][0]) return;
    const poses = new Map();
    for (const [id, t] of entities) {
      if (t[0] === EntityKind.OBSTACLE || t.length < 3) continue;
      poses.set(id, [t[1], t[2], t.length > 3 ? pyMod(t[3], TURN) : 0]);
    }
    snaps.push([serverTimeS, poses]);
    if (snaps.length > this.capacity) snaps.shift();
  }

  /** Map id -> {x, y, angle} (world units, wire steps) at `renderTimeS`. */
  sample(renderTimeS) {
    const snaps = this.snaps;
    if (!snaps.length) return new Map();
    const [t1, newest] = snaps[snaps.length - 1];
    if (renderTimeS >= t1) {
      if (snaps.length === 1 || renderTimeS === t1) return hold(newest);
      const [t0, previous] = snaps[snaps.length - 2];
      const ahead = Math.min(renderTimeS - t1, this.maxExtrapolationS);
      return this.extrapolate(previous, newest, t1 - t0, Math.max(ahead, 0));
    }
    const [t0, oldest] = snaps[0];
    if (renderTimeS <= t0) return hold(oldest); // older than the buffer: the best we have
    let i = snaps.length - 2; // the render time sits just behind the newest snapshot
    while (snaps[i][0] > renderTimeS) i -= 1;
    const [ta, a] = snaps[i];
    const [tb, b] = snaps[i + 1];
    return this.interpolate(a, b, (renderTimeS - ta) / (tb - ta), tb - ta);
  }

  tooFast(dxQ, dyQ, dt) {
    const reachQ = this.teleportSpeed * dt * SCALE;
    return dxQ * dxQ + dyQ * dyQ > reachQ * reachQ;
  }

  interpolate(a, b, alpha, dt) {
    const out = new Map();
    for (const [id, [bx, by, bang]] of b) {
      const pa = a.get(id);
      if (pa === undefined) {
        out.set(id, view(bx * INV_SCALE, by * INV_SCALE, bang)); // spawned in between
        continue;
      }
      const [ax, ay, aang] = pa;
      const dx = bx - ax;
      const dy = by - ay;
      if (this.tooFast(dx, dy, dt)) {
        out.set(id, view(ax * INV_SCALE, ay * INV_SCALE, aang)); // teleport: cut at b
        continue;
      }
      const angle = pyMod(aang + shortestTurn(aang, bang) * alpha, TURN);
      out.set(id, view((ax + dx * alpha) * INV_SCALE, (ay + dy * alpha) * INV_SCALE, angle));
    }
    return out;
  }

  extrapolate(a, b, dt, ahead) {
    const out = new Map();
    const k = ahead / dt; // fraction of the last interval's displacement to add
    for (const [id, [bx, by, bang]] of b) {
      const pa = a.get(id);
      if (pa === undefined) {
        out.set(id, view(bx * INV_SCALE, by * INV_SCALE, bang)); // no velocity known
        continue;
      }
      let dx = bx - pa[0];
      let dy = by - pa[1];
      if (this.tooFast(dx, dy, dt)) dx = dy = 0;
      // The angle holds: aim is a player's whim, not a trend worth guessing.
      out.set(id, view((bx + dx * k) * INV_SCALE, (by + dy * k) * INV_SCALE, bang));
    }
    return out;
  }
}
