import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { decode, encode } from "../../clients/web/sdk/cbor.js";
import { Buttons } from "../../clients/web/games/arena/input.js";
import { roundHalfEven } from "../../clients/web/games/arena/movement.js";
import { decodeServerMessage } from "../../clients/web/sdk/protocol.js";
import { Session, viewTick } from "../../clients/web/sdk/session.js";
import * as ex from "./dumps.mjs";

const close = (actual, expected, what) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} is not ${expected}`);

/** An empty delta on top of the mirror's tick (ann's snapshots go on with nothing new). */
const emptyDelta = (tick, serverTimeMs) => encode([17, tick, tick - 1, serverTimeMs, 0, [], [], []]);

describe("view tick (section 7.7)", () => {
  test("the newest snapshot's tick minus how far behind it the render time is, in ticks", () => {
    assert.equal(viewTick(100, 2000, 1.5, 30), 85); // 0.5 s behind at 30 Hz
    assert.equal(viewTick(100, 2000, 2, 30), 100); // rendering the newest snapshot
    close(viewTick(100, 3300, 3.2, 30), 97, "0.1 s behind");
    close(viewTick(100, 3300, 3.25, 30), 98.5, "half a tick");
    close(viewTick(10, 300, 0.31, 30), 10.3, "extrapolating past the newest snapshot");
  });

  test("never below 0", () => {
    assert.equal(viewTick(1, 0, -0.1, 30), 0);
    assert.equal(viewTick(0, 0, 0, 30), 0);
  });

  test("a session: 0 before the Welcome and the first snapshot, then from its render time", () => {
    const session = new Session();
    assert.equal(session.viewTick(5), 0);
    session.handle(decodeServerMessage(ex.WELCOME_ANN), 5);
    assert.equal(session.viewTick(5), 0, "no snapshot yet");
    session.handle(decodeServerMessage(ex.SNAPSHOT_1_ANN), 10); // server time 0 at local 10
    for (let tick = 2; tick <= 40; tick++) {
      const serverTimeMs = Math.round(((tick - 1) * 1000) / 30);
      session.handle(decodeServerMessage(emptyDelta(tick, serverTimeMs)), 10 + (tick - 1) / 30);
    }
    const nowS = 10 + 39 / 30;
    const expected = viewTick(40, session.serverTimeMs, session.renderTimeS(nowS), 30);
    close(session.viewTick(nowS), expected, "the session's view tick");
    // Three snapshot intervals of interpolation delay behind tick 40 (server times are whole ms).
    assert.ok(Math.abs(expected - 37) < 0.05, `${expected} is about 37`);
  });

  test("nextInput: a frame with the view carries round(view tick × 256), any other frame not", () => {
    const session = new Session();
    session.handle(decodeServerMessage(ex.WELCOME_ANN), 0);
    session.handle(decodeServerMessage(ex.SNAPSHOT_1_ANN), 0);
    session.handle(decodeServerMessage(emptyDelta(2, 33)), 1 / 30);
    // Version 1 Welcomes carry no description: the input goes as wire values.
    assert.deepEqual(decode(session.nextInput([Buttons.RIGHT, 100], 0.3)), [2, 1, 8, 100, 2]);
    const frame = decode(session.nextInput([Buttons.HITSCAN | Buttons.RIGHT, 100], 0.3, { withView: true }));
    assert.equal(frame.length, 6);
    const viewed = viewTick(2, 33, session.renderTimeS(0.3), 30);
    assert.equal(frame[5], roundHalfEven(viewed * 256));
    assert.deepEqual(frame.slice(0, 5), [2, 2, 40, 100, 2]);
    assert.equal(decode(session.nextInput([Buttons.FIRE, 100], 0.3)).length, 5);
  });

  test("a HITSCAN frame before any snapshot has no view to send: five items", () => {
    const session = new Session();
    session.handle(decodeServerMessage(ex.WELCOME_ANN), 0);
    assert.deepEqual(decode(session.nextInput([Buttons.HITSCAN, 0], 1, { withView: true })), [2, 1, 32, 0, 0]);
  });
});
