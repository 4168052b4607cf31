// Snapshot interpolation of the fields a game's schema marks `interpolate`;
// clients/_interpolation.py is the reference for the arena's positions and angles.
//
// Theory of operation: snapshots arrive with jitter, so entities are drawn as they were
// `delayS` (about three snapshot intervals) behind the estimated server clock, where two
// buffered snapshots almost always bracket the render time; each interpolated field sits
// on the straight line between its two values (angles turn along the shorter arc). When
// the render time overtakes the newest snapshot, fields keep their last rate of change
// for at most `maxExtrapolationS`, then hold; angles hold (aim is a whim, not a trend).
// Per entity: in both snapshots -> interpolated; only in the later -> appears there; only
// in the earlier -> dropped. An entity whose position (the fields marked `position` x and
// y) moves faster than `teleportSpeed` is not interpolated: it stays put, then cuts.
// Entity types without interpolated fields are not buffered (draw them from the mirror).
// Pure: the caller passes server times in seconds. Values come out decoded (world units,
// radians), keyed by field name.

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

/**
 * What to interpolate for each entity kind, from a GameSchema: per kind null (nothing) or
 * {tracks: [{index, name, steps, scale}], x, y} where `index` is the tuple index, `steps`
 * is an angle's steps (0 for a straight line), `scale` divides the wire value, and `x`, `y`
 * are the indices into `tracks` of the position fields (or -1).
 */
export function interpolationPlan(schema) {
  return schema.entities.map((type) => {
    const tracks = [];
    let x = -1;
    let y = -1;
    type.fields.forEach((field, i) => {
      if (!field.interpolate) return;
      if (field.position === "x") x = tracks.length;
      if (field.position === "y") y = tracks.length;
      tracks.push({
        index: i + 1,
        name: field.name,
        steps: field.type === "angle" ? field.steps : 0,
        scale: field.type === "fixed" ? field.scale : 1,
      });
    });
    return tracks.length ? { tracks, x, y } : null;
  });
}

/** About three snapshot intervals: survives one lost or late snapshot. */
export function defaultDelayS(snapshotRate) {
  if (!(snapshotRate > 0)) throw new RangeError("snapshotRate must be positive");
  return 3 / snapshotRate;
}

/** Signed steps from a to b along the shorter arc, in [-steps/2, steps/2). */
function shortestTurn(a, b, steps) {
  const half = steps / 2;
  return pyMod(b - a + half, steps) - half;
}

/** Wire values (floats while blending) to decoded values keyed by field name. */
function decoded(tracks, values) {
  const out = {};
  for (let i = 0; i < tracks.length; i++) {
    const track = tracks[i];
    out[track.name] = track.steps ? (values[i] * 2 * Math.PI) / track.steps : values[i] / track.scale;
  }
  return out;
}

function hold(poses) {
  const out = new Map();
  for (const [id, pose] of poses) out.set(id, decoded(pose.plan.tracks, pose.values));
  return out;
}

export class Interpolator {
  /** `plan`: interpolationPlan(schema), what to buffer of each entity kind. */
  constructor(plan, { delayS = 0.1, maxExtrapolationS = 0.05, capacity = 32, teleportSpeed = 1000 } = {}) {
    if (capacity < 2) throw new RangeError("capacity must be at least 2 (interpolation needs a pair)");
    this.plan = plan;
    this.delayS = delayS;
    this.maxExtrapolationS = maxExtrapolationS;
    this.capacity = capacity;
    this.teleportSpeed = teleportSpeed; // world units per second; faster moves cut
    this.snaps = []; // [serverTimeS, Map id -> {plan, values}], oldest first
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
      const plan = this.plan[t[0]];
      if (!plan) continue;
      const values = plan.tracks.map((track) =>
        track.steps ? pyMod(t[track.index], track.steps) : t[track.index],
      );
      poses.set(id, { plan, values });
    }
    snaps.push([serverTimeS, poses]);
    if (snaps.length > this.capacity) snaps.shift();
  }

  /** Map id -> {field name: decoded value} of the interpolated fields at `renderTimeS`. */
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

  /** Whether the position moved faster than teleportSpeed between a and b. */
  tooFast(plan, a, b, dt) {
    if (plan.x < 0 || plan.y < 0) return false;
    const dx = (b[plan.x] - a[plan.x]) / plan.tracks[plan.x].scale;
    const dy = (b[plan.y] - a[plan.y]) / plan.tracks[plan.y].scale;
    const reach = this.teleportSpeed * dt;
    return dx * dx + dy * dy > reach * reach;
  }

  interpolate(a, b, alpha, dt) {
    const out = new Map();
    for (const [id, pb] of b) {
      const pa = a.get(id);
      const tracks = pb.plan.tracks;
      if (pa === undefined || pa.plan !== pb.plan) {
        out.set(id, decoded(tracks, pb.values)); // spawned in between
        continue;
      }
      if (this.tooFast(pb.plan, pa.values, pb.values, dt)) {
        out.set(id, decoded(tracks, pa.values)); // teleport: cut at b
        continue;
      }
      const values = tracks.map((track, i) => {
        const va = pa.values[i];
        const vb = pb.values[i];
        if (track.steps) return pyMod(va + shortestTurn(va, vb, track.steps) * alpha, track.steps);
        return va + (vb - va) * alpha;
      });
      out.set(id, decoded(tracks, values));
    }
    return out;
  }

  extrapolate(a, b, dt, ahead) {
    const out = new Map();
    const k = ahead / dt; // fraction of the last interval's change to add
    for (const [id, pb] of b) {
      const pa = a.get(id);
      const tracks = pb.plan.tracks;
      if (pa === undefined || pa.plan !== pb.plan) {
        out.set(id, decoded(tracks, pb.values)); // no rate known
        continue;
      }
      const still = this.tooFast(pb.plan, pa.values, pb.values, dt);
      const values = tracks.map((track, i) => {
        const vb = pb.values[i];
        if (track.steps || still) return vb;
        return vb + (vb - pa.values[i]) * k;
      });
      out.set(id, decoded(tracks, values));
    }
    return out;
  }
}
