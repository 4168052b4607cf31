import assert from "node:assert/strict";
import { test } from "node:test";

import {
  boundsQ,
  clampSnap,
  makeMover,
  move,
  pushOutOfCircle,
  resolveObstacles,
  roundHalfEven,
  snap,
} from "../../clients/web/games/arena/movement.js";

const UP = 1;
const DOWN = 2;
const LEFT = 4;
const RIGHT = 8;
const mover = makeMover(1 / 30, 200, 1000, 1000, 16);

test("round() is Python's: halves go to the even neighbour", () => {
  assert.deepEqual([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5].map(roundHalfEven), [0, 2, 2, 4, 0, -2, -2]);
  assert.equal(roundHalfEven(2.4999999999999996), 2);
  assert.equal(roundHalfEven(0.49999999999999994), 0); // Math.round gives 1 here
  assert.equal(roundHalfEven(2 ** 52 + 1), 2 ** 52 + 1);
  assert.equal(roundHalfEven(-7.6), -8);
});

test("section 7.6 with the defaults: 106 per axis, 75 per diagonal, bounds 256..15744", () => {
  assert.deepEqual(mover(500, 500, RIGHT), [500 + 106 / 16, 500]);
  assert.deepEqual(mover(500, 500, UP), [500, 500 - 106 / 16]);
  assert.deepEqual(mover(500, 500, DOWN | LEFT), [500 - 75 / 16, 500 + 75 / 16]);
  assert.deepEqual(boundsQ(1000, 16), [256, 15744]);
  assert.deepEqual(mover(10, 999, LEFT | DOWN), [16, 984]);
});

test("opposite buttons cancel; FIRE and higher bits do not move", () => {
  assert.deepEqual(mover(500, 500, LEFT | RIGHT), [500, 500]);
  assert.deepEqual(mover(500, 500, UP | DOWN | RIGHT), [500 + 106 / 16, 500]);
  assert.deepEqual(mover(500, 500, 16 | 32 | 128), [500, 500]);
  assert.deepEqual(mover(500, 500, 16 | RIGHT), [500 + 106 / 16, 500]);
});

test("off-grid starts are snapped with half-to-even first", () => {
  // 100.03125 * 16 = 1600.5 -> 1600 (even), not 1601
  assert.deepEqual(mover(100.03125, 100.09375, 0), [100, 100.125]);
  assert.equal(snap(100.03125), 100);
  assert.equal(snap(100.09375), 100.125);
});

test("section 10: ann walks right from x_q 10920, 106 per tick", () => {
  let [x, y] = [682.5, 65.4375];
  for (let i = 0; i < 4; i++) [x, y] = move(x, y, RIGHT, 1 / 30, 200, 1000, 1000, 16);
  assert.equal(x * 16, 11344); // 11026 after one step (10.6), 11450 after five (10.7)
});

test("a world narrower than the circle uses its middle", () => {
  assert.deepEqual(boundsQ(20, 16), [160, 160]);
  assert.deepEqual(clampSnap(-5, 3000, 20, 20, 16), [10, 10]);
});

test("push out of a circle: outward rounding, dead centre goes +x, no overlap unchanged", () => {
  const [x, y] = pushOutOfCircle(110, 100, 16, 100, 100, 50);
  assert.deepEqual([x, y], [166, 100]);
  assert.deepEqual(pushOutOfCircle(100, 100, 16, 100, 100, 50), [166, 100]);
  assert.deepEqual(pushOutOfCircle(90, 100, 16, 100, 100, 50), [34, 100]);
  assert.deepEqual(pushOutOfCircle(300.01, 100, 16, 100, 100, 50), [300.01, 100]); // not snapped
  const [dx, dy] = pushOutOfCircle(120, 130, 16, 100, 100, 50);
  assert.ok(Math.hypot(dx - 100, dy - 100) >= 66, "never ends inside");
  assert.ok(Number.isInteger(dx * 16) && Number.isInteger(dy * 16), "on the grid");
});

test("resolveObstacles applies each obstacle in order", () => {
  assert.deepEqual(resolveObstacles(110, 100, 16, [[100, 100, 50], [500, 500, 30]]), [166, 100]);
  assert.deepEqual(resolveObstacles(700, 700, 16, [[100, 100, 50]]), [700, 700]);
});
