import assert from "node:assert/strict";
import { test } from "node:test";

import { ClockEstimator } from "../../clients/web/sdk/clock.js";

const close = (a, b) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

test("unknown before any sample: the local clock itself", () => {
  const clock = new ClockEstimator();
  assert.equal(clock.rttS, null);
  assert.equal(clock.offsetS, null);
  assert.equal(clock.serverNow(12.5), 12.5);
  assert.throws(() => new ClockEstimator(0), RangeError);
});

test("one exchange: rtt and the offset at the midpoint", () => {
  const clock = new ClockEstimator();
  clock.onPong(10.0, 10.2, 105.1); // the server read 105.1 at local 10.1
  close(clock.rttS, 0.2);
  close(clock.offsetS, 95);
  close(clock.serverNow(20), 115);
});

test("medians: one outlier cannot move the estimate", () => {
  const clock = new ClockEstimator(5);
  const offset = 1000;
  for (let i = 0; i < 4; i++) {
    const sent = i;
    clock.onPong(sent, sent + 0.05, sent + 0.025 + offset);
  }
  clock.onPong(10, 12, 10 + offset + 1.9); // a 2 s stall, asymmetric
  close(clock.rttS, 0.05);
  close(clock.offsetS, offset);
  assert.equal(clock.samples, 5);
});

test("even counts take the mean of the middle two; the window forgets old samples", () => {
  const clock = new ClockEstimator(2);
  clock.onPong(0, 0.1, 0);
  clock.onPong(0, 0.3, 0);
  close(clock.rttS, 0.2);
  clock.onPong(0, 0.5, 0);
  close(clock.rttS, 0.4); // 0.3 and 0.5
  assert.equal(clock.samples, 2);
});

test("a negative round trip is not a measurement", () => {
  const clock = new ClockEstimator();
  clock.onPong(5, 4, 100);
  assert.equal(clock.samples, 0);
  assert.equal(clock.rttS, null);
});

test("snapshots bound the offset from below until a pong arrives", () => {
  const clock = new ClockEstimator();
  clock.onSnapshot(10, 100 - 0.08); // arrived after 80 ms
  clock.onSnapshot(11, 101 - 0.02); // after 20 ms: the tightest bound
  clock.onSnapshot(12, 102 - 0.05);
  close(clock.offsetS, 90 - 0.02);
  clock.onPong(20, 20.04, 110.02);
  close(clock.offsetS, 90);
});
