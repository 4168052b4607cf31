// The world mirror (docs/protocol.md section 6.2); gameserver/protocol/delta.py and clients/world.py are the reference.
//
// Theory of operation: the mirror is a map entity id -> array of ints and the tick it
// represents. Each snapshot names its baseline: 0 means start from an empty world,
// anything else must be the mirror's tick. Removals apply first, then changes, on a
// copy, so a snapshot that does not fit (DeltaError) leaves the mirror untouched.

import { DeltaError } from "./protocol.js";

export const POSITION_SCALE = 16;
export const ANGLE_WIRE_STEPS = 256;
export const EntityKind = Object.freeze({ PLAYER: 0, PROJECTILE: 1, OBSTACLE: 2 });
export const EventKind = Object.freeze({ HIT: 0, DEATH: 1, RESPAWN: 2, SCORE: 3, SHOT: 4 });
export const ALIVE_FLAG = 1;
export const COOLDOWN_FLAG = 2;

function popcount(mask) {
  let count = 0;
  for (let m = mask; m > 0; m = Math.floor(m / 2)) count += m % 2;
  return count;
}

/**
 * Apply a delta to `baseline` (Map id -> array); returns a new Map, throws DeltaError.
 * Arrays of the baseline are never modified.
 */
export function applyDelta(baseline, changes, removed) {
  const state = new Map(baseline);
  for (const id of removed) {
    if (!state.delete(id)) throw new DeltaError(`removed entity ${id} is not in the baseline`);
  }
  for (const change of changes) {
    if (change.length < 3) {
      throw new DeltaError("a change needs an id, a mask and at least one field");
    }
    const id = change[0];
    const mask = change[1];
    const values = change.slice(2);
    const old = state.get(id);
    if (old === undefined) {
      if (mask !== 2 ** values.length - 1) {
        throw new DeltaError(`new entity ${id} must carry every field`);
      }
      state.set(id, values);
      continue;
    }
    if (mask < 0 || mask >= 2 ** old.length || popcount(mask) !== values.length) {
      throw new DeltaError(`mask 0x${mask.toString(16)} does not fit entity ${id}`);
    }
    const fields = old.slice();
    let next = 0;
    for (let i = 0, m = mask; i < old.length; i++, m = Math.floor(m / 2)) {
      if (m % 2) fields[i] = values[next++];
    }
    state.set(id, fields);
  }
  return state;
}

export class Mirror {
  constructor() {
    this.entities = new Map();
    this.tick = 0; // 0: nothing applied yet (no snapshot has tick 0)
  }

  clear() {
    this.entities = new Map();
    this.tick = 0;
  }

  /** Apply one decoded snapshot (protocol.js shape); throws DeltaError on a mismatch. */
  apply(snapshot) {
    let base;
    if (snapshot.baselineTick === 0) {
      base = new Map();
    } else if (snapshot.baselineTick === this.tick) {
      base = this.entities;
    } else {
      throw new DeltaError(
        `snapshot ${snapshot.tick} is against tick ${snapshot.baselineTick}, mirror has ${this.tick}`,
      );
    }
    this.entities = applyDelta(base, snapshot.changes, snapshot.removed);
    this.tick = snapshot.tick;
  }
}

/** One wire tuple as a plain object in world units (clients/world.py `describe`). */
export function describe(id, entity) {
  const kind = entity[0];
  const view = { id, x: entity[1] / POSITION_SCALE, y: entity[2] / POSITION_SCALE };
  if (kind === EntityKind.PLAYER) {
    view.kind = "player";
    view.angle = entity[3];
    view.hp = entity[4];
    view.score = entity[5];
    view.alive = Boolean(entity[6] & ALIVE_FLAG);
    view.cooldown = Boolean(entity[6] & COOLDOWN_FLAG);
  } else if (kind === EntityKind.PROJECTILE) {
    view.kind = "projectile";
    view.angle = entity[3];
    view.owner = entity[4];
  } else if (kind === EntityKind.OBSTACLE) {
    view.kind = "obstacle";
    view.radius = entity[3] / POSITION_SCALE;
  } else {
    view.kind = `unknown-${kind}`;
    view.fields = entity.slice(3);
  }
  return view;
}

/** Every entity of a mirror, in id order, as `describe` objects. */
export function describeWorld(entities) {
  return [...entities.keys()].sort((a, b) => a - b).map((id) => describe(id, entities.get(id)));
}
