import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { DeltaError, decodeServerMessage } from "../../clients/web/sdk/protocol.js";
import { applyDelta, Mirror } from "../../clients/web/sdk/world.js";
import * as ex from "./dumps.mjs";

const snap = (bytes) => decodeServerMessage(bytes);
const asObject = (entities) => Object.fromEntries(entities);

describe("the section 10 session, applied", () => {
  test("ann: tick 1 full, tick 2 delta gives the mirror the page states", () => {
    const mirror = new Mirror();
    mirror.apply(snap(ex.SNAPSHOT_1_ANN));
    assert.equal(mirror.tick, 1);
    assert.deepEqual(asObject(mirror.entities), { 2: [0, 10920, 1047, 0, 100, 0, 1] });
    mirror.apply(snap(ex.SNAPSHOT_2_ANN));
    assert.equal(mirror.tick, 2);
    // "ann's mirror after applying it: {2: [0, 11026, 1047, 32, 100, 0, 3], 3: [1, 11433, 1454, 32, 2]}"
    assert.deepEqual(asObject(mirror.entities), {
      2: [0, 11026, 1047, 32, 100, 0, 3],
      3: [1, 11433, 1454, 32, 2],
    });
  });

  test("sam: tick 1, tick 2, then tick 6 against baseline 2 after conflation", () => {
    const mirror = new Mirror();
    mirror.apply(snap(ex.SNAPSHOT_1_SAM));
    mirror.apply(snap(ex.snapshot2Sam()));
    mirror.apply(snap(ex.SNAPSHOT_6_SAM));
    assert.equal(mirror.tick, 6);
    assert.deepEqual(asObject(mirror.entities), {
      1: [2, 3826, 7823, 811],
      2: [0, 11450, 1047, 32, 100, 0, 3],
      4: [0, 12112, 2133, 0, 75, 0, 1],
    });
  });

  test("a full snapshot clears the mirror, whatever its tick", () => {
    const mirror = new Mirror();
    mirror.apply(snap(ex.SNAPSHOT_1_SAM));
    mirror.apply(snap(ex.SNAPSHOT_6_ANN_FULL));
    assert.equal(mirror.tick, 6);
    assert.deepEqual([...mirror.entities.keys()], [2, 4]); // the obstacle is gone
  });

  test("a delta against another baseline is a mismatch and changes nothing", () => {
    const mirror = new Mirror();
    mirror.apply(snap(ex.SNAPSHOT_1_ANN));
    mirror.apply(snap(ex.SNAPSHOT_2_ANN));
    const before = mirror.entities;
    assert.throws(() => mirror.apply(snap(ex.SNAPSHOT_4_ANN)), (error) => {
      assert.ok(error instanceof DeltaError);
      assert.equal(error.code, 4002);
      assert.match(error.message, /against tick 3, mirror has 2/);
      return true;
    });
    assert.equal(mirror.tick, 2);
    assert.equal(mirror.entities, before);
  });

  test("a delta before any snapshot is a mismatch", () => {
    assert.throws(() => new Mirror().apply(snap(ex.SNAPSHOT_2_ANN)), DeltaError);
  });
});

describe("applyDelta (gameserver/protocol/_delta.py apply)", () => {
  const base = new Map([
    [1, [2, 10, 20, 30]],
    [2, [0, 1, 2, 3, 4, 5, 6]],
  ]);

  test("removed first, then changes; the baseline is never modified", () => {
    const frozen = JSON.stringify([...base]);
    const out = applyDelta(base, [[2, 0b1000001, 9, 99], [7, 3, 1, 2]], [1]);
    assert.deepEqual(asObject(out), { 2: [9, 1, 2, 3, 4, 5, 99], 7: [1, 2] });
    assert.equal(JSON.stringify([...base]), frozen);
  });

  test("a known entity may be refreshed in full", () => {
    const out = applyDelta(base, [[1, 15, 2, 1, 1, 1]], []);
    assert.deepEqual(out.get(1), [2, 1, 1, 1]);
  });

  test("an entity removed and added again in one delta takes its new shape", () => {
    const out = applyDelta(base, [[1, 31, 1, 5, 6, 7, 8]], [1]);
    assert.deepEqual(out.get(1), [1, 5, 6, 7, 8]);
  });

  const refused = {
    "removing an unknown id": [[], [9]],
    "removing an id twice": [[], [1, 1]],
    "a change without values": [[[1, 1]], []],
    "a new entity without every field": [[[9, 1, 5, 6]], []],
    "a new entity with a mask beyond its values": [[[9, 7, 5, 6]], []],
    "a mask bit past the last field": [[[1, 0b10001, 5, 6]], []],
    "a mask with fewer bits than values": [[[1, 1, 5, 6]], []],
    "a mask with more bits than values": [[[1, 3, 5]], []],
    "a zero mask": [[[1, 0, 5]], []],
    "a negative mask": [[[1, -1, 5]], []],
  };
  for (const [name, [changes, removed]] of Object.entries(refused)) {
    test(`refused: ${name}`, () => {
      assert.throws(() => applyDelta(base, changes, removed), DeltaError);
    });
  }

  test("masks wider than 32 bits work (no 32-bit bit operations)", () => {
    const wide = new Map([[1, new Array(40).fill(0)]]);
    const out = applyDelta(wide, [[1, 2 ** 39 + 1, 7, 8]], []);
    assert.equal(out.get(1)[0], 7);
    assert.equal(out.get(1)[39], 8);
    const fresh = applyDelta(new Map(), [[2, 2 ** 40 - 1, ...new Array(40).fill(3)]], []);
    assert.equal(fresh.get(2).length, 40);
  });
});
