import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { makeMover } from "../../clients/web/games/arena/movement.js";
import { Predictor } from "../../clients/web/games/arena/prediction.js";

const PARAMS = { width: 1000, height: 1000, player_radius: 16, player_speed: 200 };
const RIGHT = 8;
const DOWN = 2;
const FIRE = 16;
const STEP_Q = 106; // grid steps per tick at 200 units/s, 30 Hz

function started(xQ = 8000, yQ = 8000, options = {}) {
  const p = new Predictor(PARAMS, 30, options);
  p.reconcile(xQ, yQ, 0, true);
  return p;
}

describe("reconciliation", () => {
  test("nothing is predicted before the first server position", () => {
    const p = new Predictor(PARAMS, 30);
    p.applyInput(1, RIGHT);
    assert.equal(p.known, false);
    assert.deepEqual([p.x, p.y], [0, 0]);
    p.reconcile(8000, 8000, 0, true); // frame 1 not consumed yet: replayed
    assert.deepEqual([p.x, p.y], [(8000 + STEP_Q) / 16, 500]);
  });

  test("a correct prediction is bit-identical after the replay: no correction, no offset", () => {
    const p = started();
    for (let seq = 1; seq <= 5; seq++) p.applyInput(seq, RIGHT);
    const predicted = [p.x, p.y];
    assert.equal(predicted[0] * 16, 8000 + 5 * STEP_Q);
    p.reconcile(8000 + 3 * STEP_Q, 8000, 3, true); // the server consumed 3; 4 and 5 replay
    assert.deepEqual([p.x, p.y], predicted);
    assert.equal(p.pending.length, 2);
    assert.equal(p.corrections, 0);
    assert.deepEqual([p.ox, p.oy], [0, 0]);
  });

  test("a repeated frame on the server is corrected, and the correction is smoothed", () => {
    const p = started();
    for (let seq = 1; seq <= 3; seq++) p.applyInput(seq, RIGHT);
    const shown = p.renderPosition(0);
    // The server applied frame 3 twice (frame 4 was late): one more step than predicted.
    p.reconcile(8000 + 4 * STEP_Q, 8000, 3, true);
    assert.equal(p.corrections, 1);
    assert.equal(p.x * 16, 8000 + 4 * STEP_Q);
    assert.deepEqual(p.renderPosition(0), shown, "the drawn player does not jump");
    let previous = shown[0];
    for (let i = 0; i < 60; i++) {
      const [x] = p.renderPosition(1 / 60);
      assert.ok(x >= previous, "glides toward the new prediction");
      previous = x;
    }
    assert.deepEqual(p.renderPosition(1 / 60), [p.x, p.y], "and arrives exactly");
    assert.deepEqual([p.ox, p.oy], [0, 0]);
  });

  test("an error of one grid step is not counted as a correction", () => {
    const p = started();
    p.reconcile(8001, 8000, 0, true);
    assert.equal(p.corrections, 0);
    assert.equal(p.x * 16, 8001);
  });

  test("a teleport snaps instead of gliding", () => {
    const p = started();
    p.reconcile(1000, 1000, 0, true);
    assert.equal(p.snaps, 1);
    assert.equal(p.corrections, 1);
    assert.deepEqual(p.renderPosition(0), [1000 / 16, 1000 / 16]);
  });

  test("smoothing off: corrections show at once", () => {
    const p = started(8000, 8000, { smoothingS: 0 });
    p.reconcile(8100, 8000, 0, true);
    assert.deepEqual(p.renderPosition(0), [8100 / 16, 500]);
  });

  test("dead: follow the server, ignore input; respawn: follow without smoothing", () => {
    const p = started();
    p.applyInput(1, RIGHT);
    p.reconcile(8000 + STEP_Q, 8000, 1, false);
    assert.equal(p.alive, false);
    p.applyInput(2, RIGHT);
    assert.equal(p.x * 16, 8000 + STEP_Q, "no movement while dead");
    p.reconcile(3000, 3000, 1, true); // respawned; frame 2 not consumed: replayed from spawn
    assert.deepEqual([p.x * 16, p.y * 16], [3000 + STEP_Q, 3000]);
    assert.deepEqual([p.ox, p.oy], [0, 0]);
    assert.equal(p.corrections, 0);
  });

  test("acked frames are dropped; pending is bounded", () => {
    const p = started(8000, 8000, { maxPending: 4 });
    for (let seq = 1; seq <= 10; seq++) p.applyInput(seq, 0);
    assert.equal(p.pending.length, 4);
    p.reconcile(8000, 8000, 8, true);
    assert.deepEqual(p.pending.map(([seq]) => seq), [9, 10]);
    assert.throws(() => p.applyInput(10, 0), RangeError);
  });

  test("FIRE alone does not move; buttons above 31 are masked", () => {
    const p = started();
    p.applyInput(1, FIRE);
    p.applyInput(2, 255 & ~15);
    assert.deepEqual([p.x, p.y], [500, 500]);
    assert.deepEqual(p.pending.map(([, b]) => b), [16, 16]);
  });
});

describe("obstacles", () => {
  test("the step pushes out of obstacles like the server", () => {
    const p = new Predictor(PARAMS, 30);
    p.setObstacles([[2, 8000, 9000, 800], [0, 1, 2, 3, 4, 5, 6]]); // a player tuple is ignored
    assert.equal(p.circles.length, 1);
    p.reconcile(8000, 8000 - 16 * 16 - 800 + 50, 0, true); // just above, overlapping after a step
    p.applyInput(1, DOWN);
    const distance = Math.hypot(p.x - 500, p.y - 9000 / 16);
    assert.ok(distance >= 16 + 50, `pushed out (${distance})`);
    assert.ok(Number.isInteger(p.y * 16));
  });

  test("obstacles from a mirror, in id order", () => {
    const p = new Predictor(PARAMS, 30);
    p.setObstaclesFromWorld(new Map([[5, [2, 1600, 1600, 480]], [1, [2, 3200, 3200, 480]], [9, [0, 1, 1, 0, 100, 0, 1]]]));
    assert.deepEqual(p.circles.map(([cx]) => cx), [200, 100]);
  });

  test("reconcileWire reads position and the alive flag", () => {
    const p = new Predictor(PARAMS, 30);
    p.reconcileWire([0, 4000, 4400, 0, 0, 0, 0], 0);
    assert.deepEqual([p.x, p.y, p.alive], [250, 275, false]);
    const mover = makeMover(1 / 30, 200, 1000, 1000, 16);
    assert.deepEqual(p.step(250, 275, RIGHT), mover(250, 275, RIGHT));
  });
});
