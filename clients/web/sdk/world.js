// The world mirror (docs/protocol.md section 6.2); gameserver/protocol/_delta.py is the reference.
//
// Theory of operation: the mirror is a map entity id -> array of ints and the tick it
// represents. Each snapshot names its baseline: 0 means start from an empty world,
// anything else must be the mirror's tick. Removals apply first, then changes, on a
// copy, so a snapshot that does not fit (DeltaError) leaves the mirror untouched.

import { DeltaError } from "./protocol.js";

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

/**
 * Decoded views of a mirror's tuples through a game's schema (schema.js), cached per
 * tuple: a snapshot replaces only the tuples it changes, so an unchanged entity is not
 * decoded again.
 */
export class DecodedWorld {
  constructor(schema) {
    this.schema = schema;
    this.cache = new WeakMap(); // tuple -> decoded entity
  }

  entity(id, tuple) {
    let decoded = this.cache.get(tuple);
    if (decoded === undefined || decoded.id !== id) {
      decoded = Object.freeze(this.schema.decodeEntity(id, tuple));
      this.cache.set(tuple, decoded);
    }
    return decoded;
  }

  /** Every entity of `entities` (Map id -> tuple), in id order. */
  all(entities) {
    return [...entities.keys()].sort((a, b) => a - b).map((id) => this.entity(id, entities.get(id)));
  }
}
