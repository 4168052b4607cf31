// The arena's client-side prediction with server reconciliation, plugged into the SDK's
// prediction hook (arenaPrediction); clients/_prediction.py is the reference.
//
// Theory of operation: every input sent also moves the local player at once, with
// exactly the server's per-tick step (movement.js, then the obstacle push), and is kept
// as pending. A snapshot gives the authoritative position and ack_seq, the newest Input
// the server consumed: drop pending Inputs up to it, restart from the server position and
// replay the rest. A correct prediction lands exactly where it was, so nothing moves.
// A wrong one (player pushes, repeated or dropped Inputs, deaths) is hidden by moving the
// difference into a render offset that decays exponentially (time constant smoothingS);
// an error beyond snapDistance (a teleport) snaps instead. While the server says the
// player is dead, the prediction follows the server and ignores input, but keeps pending
// Inputs: those consumed after the respawn are replayed from the spawn point.

import { makeMover, MOVE_BITS, POSITION_SCALE, pushOutOfCircle, roundHalfEven } from "./movement.js";

// The arena's wire tuples (docs/protocol.md section 7): [kind, x_q, y_q, ...], players
// kind 0 with their flags last, obstacles kind 2 with their radius at index 3.
export const EntityKind = Object.freeze({ PLAYER: 0, PROJECTILE: 1, OBSTACLE: 2 });
export const ALIVE_FLAG = 1;
// Arena params prediction needs; a Welcome without them is not predicted.
const PREDICTION_PARAMS = ["width", "height", "player_radius", "player_speed"];

const SCALE = POSITION_SCALE;
const ALL_BUTTONS = 31;
// An error of exactly one grid step (per axis) is not a correction: squared distance in q.
const CORRECTION_Q2 = 1;
// Below this a decaying offset is invisible; zeroing it keeps renderPosition exact again.
const OFFSET_EPSILON = 1 / 256;

export class Predictor {
  /**
   * `params`: the Welcome's arena params (width, height, player_radius, player_speed);
   * `tickRate`: the Welcome's tick rate. Both define the per-tick step.
   */
  constructor(params, tickRate, { smoothingS = 0.1, snapDistance = 100, maxPending = 256 } = {}) {
    if (!(tickRate > 0) || !(maxPending > 0)) {
      throw new RangeError("tickRate and maxPending must be positive");
    }
    this.radius = params.player_radius;
    this.mover = makeMover(
      1 / tickRate,
      params.player_speed,
      params.width,
      params.height,
      params.player_radius,
    );
    this.circles = [];
    this.smoothingS = smoothingS; // exponential time constant; <= 0 disables smoothing
    this.snapDistance = snapDistance; // world units; larger errors snap
    this.maxPending = maxPending;
    this.corrections = 0; // reconciliations that moved the prediction by > 1/16 unit
    this.snaps = 0; // corrections too large to smooth (a subset of `corrections`)
    this.pending = []; // [seq, buttons], oldest first
    this.lastSeq = 0;
    this.x = 0;
    this.y = 0;
    this.ox = 0; // render offset, world units
    this.oy = 0;
    this.known = false; // no server position yet
    this.alive = true;
  }

  /** Obstacles from entity wire tuples; anything that is not an obstacle is ignored. */
  setObstacles(tuples) {
    const r = this.radius;
    this.circles = [];
    for (const t of tuples) {
      if (t.length >= 4 && t[0] === EntityKind.OBSTACLE) {
        const cx = t[1] / SCALE;
        const cy = t[2] / SCALE;
        const cr = t[3] / SCALE;
        const reach = r + cr;
        this.circles.push([cx, cy, cr, reach * reach]);
      }
    }
  }

  /** Obstacles from a mirror (Map id -> tuple), in id order as the server creates them. */
  setObstaclesFromWorld(entities) {
    const ids = [...entities.keys()].sort((a, b) => a - b);
    this.setObstacles(ids.map((id) => entities.get(id)));
  }

  /** Forget everything but the configuration (after a reconnect: seqs restart). */
  reset() {
    this.pending = [];
    this.lastSeq = 0;
    this.ox = this.oy = 0;
    this.known = false;
    this.alive = true;
  }

  /** One server tick for this player: the arena's move phase, minus what only it knows. */
  step(x, y, buttons) {
    if (!(buttons & MOVE_BITS)) return [x, y]; // the server skips idle players entirely
    [x, y] = this.mover(x, y, buttons);
    const r = this.radius;
    for (const [cx, cy, cr, reach2] of this.circles) {
      const dx = x - cx;
      const dy = y - cy;
      if (dx * dx + dy * dy < reach2) [x, y] = pushOutOfCircle(x, y, r, cx, cy, cr);
    }
    return [x, y];
  }

  /** Input `seq` was just sent: predict its tick now and remember it. */
  applyInput(seq, buttons) {
    if (seq <= this.lastSeq) throw new RangeError(`input seq ${seq} is not after ${this.lastSeq}`);
    this.lastSeq = seq;
    buttons &= ALL_BUTTONS;
    this.pending.push([seq, buttons]);
    if (this.pending.length > this.maxPending) this.pending.shift();
    if (this.known && this.alive) [this.x, this.y] = this.step(this.x, this.y, buttons);
  }

  /** A snapshot gave the authoritative position and the newest consumed input seq. */
  reconcile(serverXq, serverYq, ackSeq, alive) {
    const pending = this.pending;
    let acked = 0;
    while (acked < pending.length && pending[acked][0] <= ackSeq) acked++;
    if (acked) pending.splice(0, acked);
    let x = serverXq / SCALE;
    let y = serverYq / SCALE;
    const wasTracking = this.known && this.alive;
    this.known = true;
    this.alive = alive;
    if (alive) {
      for (const [, buttons] of pending) [x, y] = this.step(x, y, buttons);
    }
    if (!(wasTracking && alive)) {
      // First position, death or respawn: nothing predicted could be wrong; follow.
      this.x = x;
      this.y = y;
      this.ox = this.oy = 0;
      return;
    }
    const exQ = roundHalfEven((this.x - x) * SCALE); // old prediction minus new, grid steps
    const eyQ = roundHalfEven((this.y - y) * SCALE);
    if (exQ === 0 && eyQ === 0) return;
    if (exQ * exQ + eyQ * eyQ > CORRECTION_Q2) this.corrections += 1;
    // Keep the rendered position where it was: render = prediction + offset.
    let ox = this.ox + (this.x - x);
    let oy = this.oy + (this.y - y);
    this.x = x;
    this.y = y;
    const limit2 = this.snapDistance * this.snapDistance;
    if ((exQ * exQ + eyQ * eyQ) / (SCALE * SCALE) > limit2) {
      this.snaps += 1;
      ox = oy = 0;
    } else if (this.smoothingS <= 0 || ox * ox + oy * oy > limit2) {
      // Errors piling up faster than they decay: never lag more than a teleport would.
      ox = oy = 0;
    }
    this.ox = ox;
    this.oy = oy;
  }

  /** reconcile() from the player's wire tuple (kind, x_q, y_q, angle, hp, score, flags). */
  reconcileWire(entry, ackSeq) {
    const alive = entry.length > 6 ? Boolean(entry[6] & ALIVE_FLAG) : true;
    this.reconcile(entry[1], entry[2], ackSeq, alive);
  }

  /** Advance the smoothing by `elapsedS` and return [x, y] where to draw the player. */
  renderPosition(elapsedS) {
    let ox = this.ox;
    let oy = this.oy;
    if ((ox || oy) && elapsedS > 0) {
      const k = this.smoothingS > 0 ? Math.exp(-elapsedS / this.smoothingS) : 0;
      ox *= k;
      oy *= k;
      if (ox * ox + oy * oy < OFFSET_EPSILON * OFFSET_EPSILON) ox = oy = 0;
      this.ox = ox;
      this.oy = oy;
    }
    return [this.x + ox, this.y + oy];
  }
}

/**
 * The SDK prediction hook (sdk/prediction.js) for the arena: a Predictor made from the
 * Welcome's params, fed the buttons of every Input sent and every snapshot's own tuple;
 * obstacles are read again from each full snapshot.
 */
export function arenaPrediction({ welcome }) {
  const params = welcome.params;
  if (!PREDICTION_PARAMS.every((key) => typeof params[key] === "number")) return null;
  const predictor = new Predictor(params, welcome.tickRate);
  return {
    predictor,
    applyInput(seq, wire) {
      predictor.applyInput(seq, wire[0]);
    },
    reconcile({ session, me, ackSeq, full }) {
      if (full) predictor.setObstaclesFromWorld(session.mirror.entities);
      if (me) predictor.reconcileWire(me, ackSeq);
    },
  };
}
