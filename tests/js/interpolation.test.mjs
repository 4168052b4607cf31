import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { defaultDelayS, Interpolator as SchemaInterpolator, pyMod } from "../../clients/web/sdk/interpolation.js";
import { ARENA_PLAN, inSteps } from "./arena-plan.mjs";

/** The SDK's interpolator on the arena's plan, answering angles in wire steps. */
class Interpolator extends SchemaInterpolator {
  constructor(options) {
    super(ARENA_PLAN, options);
  }

  sample(t) {
    return new Map([...super.sample(t)].map(([id, view]) => [id, inSteps(view)]));
  }
}

const Q = 16;
const player = (x, y, angle = 0) => [0, Math.round(x * Q), Math.round(y * Q), angle, 100, 0, 1];
const world = (entries) => new Map(entries);

// A deterministic stand-in for jitter: a linear congruential generator.
function lcg(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

test("Python's modulo: the result takes the divisor's sign", () => {
  assert.equal(pyMod(-117, 256), 139);
  assert.equal(pyMod(300, 256), 44);
  assert.equal(pyMod(-0.5, 256), 255.5);
  assert.ok(Object.is(pyMod(-256, 256), 0));
});

test("default delay: three snapshot intervals", () => {
  assert.equal(defaultDelayS(30), 0.1);
  assert.equal(defaultDelayS(20), 0.15);
  assert.throws(() => defaultDelayS(0), RangeError);
  assert.ok(Math.abs(new Interpolator({ delayS: 0.15 }).renderTime(10) - 9.85) < 1e-12);
});

test("empty before the first snapshot", () => {
  const interp = new Interpolator();
  assert.equal(interp.sample(5).size, 0);
  assert.equal(interp.newestTimeS, null);
});

describe("a constant-speed move, snapshots arriving late and out of order", () => {
  // As tests/unit/test_interpolation.py: the drawn entity never goes back and never moves
  // faster than the entity does, with jitter up to what the delay and the cap absorb.
  const cases = [[30, 60, 106, 1, 1], [20, 144, 40, 2, 0.5], [10, 30, 64, 3, 1], [60, 60, 1, 4, 0.9], [15, 144, 17, 5, 0]];
  for (const [rate, fps, stepQ, seed, jitter] of cases) {
    test(`${rate} Hz snapshots, ${fps} fps, ${stepQ}/16 units per snapshot, jitter ${jitter}`, () => {
      const random = lcg(seed);
      const interval = 1 / rate;
      const delay = defaultDelayS(rate);
      const maxExtrapolation = 0.05;
      const interp = new Interpolator({ delayS: delay, maxExtrapolationS: maxExtrapolation });
      const speed = (stepQ * rate) / Q; // world units per second
      const maxLate = jitter * (delay + maxExtrapolation - interval);
      const arrivals = [];
      for (let k = 0; k < 3 * rate; k++) arrivals.push([k * interval + random() * maxLate, k]);
      arrivals.sort((a, b) => a[0] - b[0]);
      let next = 0;
      let previousX = null;
      let checked = 0;
      for (let frame = 0; frame / fps < 2.5; frame++) {
        const now = frame / fps;
        while (next < arrivals.length && arrivals[next][0] <= now) {
          const k = arrivals[next][1];
          interp.push(k * interval, world([[7, [0, 100 * Q + k * stepQ, 0, 7]]]));
          next += 1;
        }
        const view = interp.sample(interp.renderTime(now)).get(7);
        // With a single snapshot there is no velocity yet: it holds, then catches up.
        if (!view || interp.length < 2) continue;
        if (previousX !== null) {
          assert.ok(view.x >= previousX, `never goes back (frame ${frame})`);
          assert.ok(view.x - previousX <= speed / fps + 1e-9, `never outruns (frame ${frame})`);
          checked += 1;
        }
        previousX = view.x;
        assert.equal(view.y, 0);
      }
      assert.ok(checked > fps, "the move was watched for more than a second");
    });
  }
});

describe("sampling rules", () => {
  const interp = new Interpolator({ delayS: 0.1, maxExtrapolationS: 0.05 });
  interp.push(1.0, world([[1, player(100, 100, 250)], [2, player(0, 0)], [9, [2, 1600, 1600, 480]]]));
  interp.push(1.1, world([[1, player(110, 100, 5)], [3, player(50, 50)]]));

  test("halfway: positions interpolate, angles take the short way across 0", () => {
    const view = interp.sample(1.05);
    const one = view.get(1);
    assert.ok(Math.abs(one.x - 105) < 1e-9);
    assert.equal(one.y, 100);
    assert.ok(Math.abs(one.angle - 255.5) < 1e-9, `angle ${one.angle}`);
  });

  test("an entity only in the later snapshot appears there; one only in the earlier is dropped", () => {
    const view = interp.sample(1.05);
    assert.deepEqual(view.get(3), { x: 50, y: 50, angle: 0 });
    assert.equal(view.has(2), false);
  });

  test("obstacles are never buffered", () => {
    assert.equal(interp.sample(1.05).has(9), false);
  });

  test("extrapolation is capped", () => {
    const capped = interp.sample(1.1 + 10).get(1);
    assert.ok(Math.abs(capped.x - (110 + 10 * (0.05 / 0.1))) < 1e-9); // half an interval's move
    assert.equal(capped.angle, 5, "the angle holds");
    const slightly = interp.sample(1.12).get(1);
    assert.ok(Math.abs(slightly.x - 112) < 1e-9);
  });

  test("before the buffer: the oldest snapshot, held", () => {
    assert.deepEqual(interp.sample(0.5).get(2), { x: 0, y: 0, angle: 0 });
  });

  test("a snapshot not newer than the newest is ignored", () => {
    const before = interp.length;
    interp.push(1.1, world([[1, player(999, 999)]]));
    interp.push(0.2, world([[1, player(999, 999)]]));
    assert.equal(interp.length, before);
  });
});

test("a teleport is not interpolated: it stays, then cuts", () => {
  const interp = new Interpolator({ teleportSpeed: 1000 });
  interp.push(0, world([[1, player(10, 10)]]));
  interp.push(0.1, world([[1, player(900, 10)]])); // 8900 units/s
  assert.equal(interp.sample(0.09).get(1).x, 10);
  assert.equal(interp.sample(0.1).get(1).x, 900);
  assert.equal(interp.sample(0.12).get(1).x, 900, "and is not extrapolated either");
});

test("the buffer keeps the newest `capacity` snapshots", () => {
  const interp = new Interpolator({ capacity: 3 });
  for (let i = 0; i < 10; i++) interp.push(i, world([[1, player(i, 0)]]));
  assert.equal(interp.length, 3);
  assert.equal(interp.sample(0).get(1).x, 7);
  assert.throws(() => new Interpolator({ capacity: 1 }), RangeError);
});
