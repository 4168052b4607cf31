// The SDK on a protocol 2 server: a game known only from its Welcome's description,
// commands, matchmaking over FindMatch, the resume token kept across page loads, the
// prediction hook. (Every shipped game's description is checked against Python by
// tests/unit/test_web_sdk.py.)

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { decode, encode } from "../../clients/web/sdk/cbor.js";
import * as sdk from "../../clients/web/sdk/index.js";

const { Connection, GameSchema, replayPrediction, Session, sessionResumeStore } = sdk;

// A small game: a token moves on a line (x: fixed 1/4, interpolated), has a colour
// (enum) and states (flags); input {dx}; command Paint(colour); event Painted(who, colour).
const COLOUR = { class: "Colour", members: { RED: 1, BLUE: 2 } };
const DESCRIPTION = {
  id: "line",
  version: 1,
  prediction: null,
  entities: [
    {
      name: "Token",
      fields: [
        { name: "x", type: "fixed", scale: 4, min: 0, max: 400, interpolate: true, position: "x" },
        { name: "colour", type: "enum", ...COLOUR, interpolate: false },
        { name: "state", type: "flags", class: "State", members: { MOVING: 1, TIRED: 4 }, interpolate: false },
        { name: "label", type: "text", max_chars: 8, interpolate: false },
      ],
    },
  ],
  input: { name: "Push", fields: [{ name: "dx", type: "int", min: -1, max: 1, interpolate: false }] },
  commands: [{ name: "Paint", fields: [{ name: "colour", type: "enum", ...COLOUR, interpolate: false }] }],
  events: [
    {
      name: "Painted",
      fields: [
        { name: "who", type: "int", min: 1, max: 99, interpolate: false },
        { name: "colour", type: "enum", ...COLOUR, interpolate: false },
      ],
    },
  ],
};

const welcome = (entityId = 7, resume = "R".repeat(24)) =>
  encode([16, 2, entityId, 10, 10, 100, 0, 0, "line", new Map(), resume, DESCRIPTION]);
const snapshot = (tick, baseline, timeMs, ackSeq, changes, events = []) =>
  encode([17, tick, baseline, timeMs, ackSeq, changes, [], events]);

describe("a game known only from its description", () => {
  test("entities and events come decoded; commands and inputs go encoded", () => {
    const session = new Session();
    session.handle(sdk.decodeServerMessage(welcome()), 0);
    assert.equal(session.schema.id, "line");
    session.handle(sdk.decodeServerMessage(snapshot(1, 0, 0, 0, [[7, 31, 0, 41, 2, 5, "ann"]], [[1, 0, 7, 1]])), 0);
    assert.deepEqual(session.entities(), [
      { id: 7, type: "Token", kind: 0, x: 10.25, colour: "BLUE", state: { MOVING: true, TIRED: true }, label: "ann" },
    ]);
    assert.deepEqual(session.lastEvents, [{ tick: 1, type: "Painted", kind: 0, who: 7, colour: "RED" }]);
    assert.equal(session.entity(7), session.entities()[0], "an unchanged tuple is decoded once");
    assert.deepEqual(decode(session.command("Paint", { colour: "RED" })), [6, 0, 1]);
    assert.deepEqual(decode(session.nextInput({ dx: -1 })), [2, 1, -1, 1]);
    assert.throws(() => session.command("Paint", { colour: "GREEN" }), RangeError);
    assert.throws(() => session.nextInput({ dx: 2 }), /Push.dx: must be an integer in \[-1, 1\]/);
  });

  test("fields marked interpolate are interpolated, in world units", () => {
    const session = new Session();
    session.handle(sdk.decodeServerMessage(welcome()), 0);
    session.handle(sdk.decodeServerMessage(snapshot(1, 0, 1000, 0, [[7, 31, 0, 0, 1, 0, "a"]])), 0);
    session.handle(sdk.decodeServerMessage(snapshot(2, 1, 1100, 0, [[7, 2, 40]])), 0);
    const samples = session.interpolator.sample(1.05);
    assert.deepEqual([...samples.keys()], [7]);
    assert.ok(Math.abs(samples.get(7).x - 5) < 1e-9, "halfway between 0 and 10");
  });

  test("a description that breaks its own rules is refused with 4002", () => {
    const bad = { ...DESCRIPTION, entities: [{ name: "T", fields: [{ name: "x", type: "complex" }] }] };
    assert.throws(() => GameSchema.fromDescription(bad), (error) => error.code === 4002);
  });
});

describe("the prediction hook", () => {
  test("replayPrediction: inputs apply at once; a snapshot replays the unacknowledged ones", () => {
    const step = (state, input) => ({ ...state, x: state.x + input.dx });
    const session = new Session({ prediction: replayPrediction(step) });
    session.handle(sdk.decodeServerMessage(welcome()), 0);
    session.handle(sdk.decodeServerMessage(snapshot(1, 0, 0, 0, [[7, 31, 0, 40, 1, 0, "a"]])), 0);
    assert.equal(session.predictor.state.x, 10);
    session.nextInput({ dx: 1 });
    session.nextInput({ dx: 1 });
    assert.equal(session.predictor.state.x, 12);
    // The server consumed input 1 (x 11): input 2 is replayed on top.
    session.handle(sdk.decodeServerMessage(snapshot(2, 1, 100, 1, [[7, 2, 44]])), 0);
    assert.equal(session.predictor.state.x, 12);
    assert.equal(session.predictor.corrections, 0);
  });
});

/** Timers run by hand, and a WebSocket whose server side the test plays. */
function harness(options = {}) {
  const timers = { now: 0, list: [], setTimeout: (f, ms) => timers.list.push({ at: timers.now + ms / 1000, f }) && timers.list.length, clearTimeout: (id) => { if (timers.list[id - 1]) timers.list[id - 1].f = null; } };
  timers.advance = (s) => {
    timers.now += s;
    for (const timer of timers.list) {
      if (timer.f && timer.at <= timers.now) {
        const f = timer.f;
        timer.f = null;
        f();
      }
    }
  };
  const sockets = [];
  class Socket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      sockets.push(this);
    }
    send(bytes) {
      this.sent.push(decode(bytes));
    }
    close(code) {
      this.closed(code ?? 1005);
    }
    open() {
      this.readyState = 1;
      this.onopen();
    }
    deliver(bytes) {
      this.onmessage({ data: bytes.slice().buffer });
    }
    closed(code) {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.onclose({ code, reason: "" });
    }
  }
  const connection = new Connection({
    url: "ws://a.test/ws",
    name: "ann",
    WebSocketImpl: Socket,
    timers,
    now: () => timers.now,
    random: () => 0,
    ...options,
  });
  return { connection, sockets, timers };
}

function memoryStorage() {
  const items = new Map();
  return { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => items.set(k, String(v)), removeItem: (k) => items.delete(k), items };
}

describe("matchmaking over FindMatch", () => {
  test("FindMatch instead of Join; a room on this node welcomes on the same socket", () => {
    const { connection, sockets } = harness({ mode: "duel" });
    connection.start();
    sockets[0].open();
    assert.deepEqual(sockets[0].sent[0], [5, "duel", "ann"]);
    sockets[0].deliver(encode([21, "duel-1a2b", "ws://a.test/ws?room=duel-1a2b&seat=S"]));
    sockets[0].deliver(welcome());
    assert.equal(connection.state, "playing");
    assert.equal(connection.url, "ws://a.test/ws?room=duel-1a2b&seat=S", "later connections go to the room");
  });

  test("a room on another node: closed with 1000, then a Join there at once", () => {
    const { connection, sockets, timers } = harness({ mode: "duel" });
    connection.start();
    sockets[0].open();
    sockets[0].deliver(encode([21, "duel-9", "ws://b.test/ws?room=duel-9&seat=S"]));
    sockets[0].closed(1000);
    timers.advance(0);
    assert.equal(sockets.length, 2);
    assert.equal(sockets[1].url, "ws://b.test/ws?room=duel-9&seat=S");
    sockets[1].open();
    assert.deepEqual(sockets[1].sent[0], [1, 0, "ann"]);
    sockets[1].deliver(welcome());
    assert.equal(connection.state, "playing");
  });

  test("no match: closed for good with the server's reason", () => {
    const { connection, sockets } = harness({ mode: "nope" });
    connection.start();
    sockets[0].open();
    sockets[0].deliver(encode([19, 4, "unknown mode 'nope'"]));
    assert.equal(connection.state, "closed");
    assert.equal(connection.closeReason, "no match: unknown mode 'nope'");
  });
});

describe("resume across page loads", () => {
  test("a new page finds the token and comes back as the same player; leaving forgets it", () => {
    const storage = memoryStorage();
    const first = harness({ mode: "duel", resumeStore: sessionResumeStore("k", storage) });
    first.connection.start();
    first.sockets[0].open();
    first.sockets[0].deliver(encode([21, "duel-1", "ws://a.test/ws?room=duel-1&seat=S"]));
    first.sockets[0].deliver(welcome(7, "T".repeat(24)));
    assert.deepEqual(JSON.parse(storage.items.get("k")), { url: "ws://a.test/ws?room=duel-1&seat=S", resume: "T".repeat(24), entityId: 7 });
    // The page goes away without closing (the browser sends 1001); a new page loads.
    const second = harness({ mode: "duel", resumeStore: sessionResumeStore("k", storage) });
    second.connection.start();
    assert.equal(second.sockets[0].url, `ws://a.test/ws?room=duel-1&resume=${"T".repeat(24)}`);
    second.sockets[0].open();
    assert.deepEqual(second.sockets[0].sent[0], [1, 0, "ann", "T".repeat(24)], "a Join, no FindMatch");
    second.sockets[0].deliver(welcome(7, "U".repeat(24)));
    assert.equal(second.connection.resumes, 1);
    assert.equal(JSON.parse(storage.items.get("k")).resume, "U".repeat(24), "each Welcome's token is kept");
    second.connection.stop();
    assert.equal(storage.items.has("k"), false);
  });

  test("spectators keep nothing; unusable storage keeps nothing and breaks nothing", () => {
    const broken = { getItem: () => { throw new Error("denied"); }, setItem: () => { throw new Error("denied"); }, removeItem: () => {} };
    const store = sessionResumeStore("k", broken);
    assert.equal(store.load(), null);
    store.save({ url: "u", resume: "r" });
    const { connection, sockets } = harness({ role: 1, resumeStore: store });
    connection.start();
    sockets[0].open();
    sockets[0].deliver(welcome(0, ""));
    assert.equal(connection.state, "spectating");
  });
});

test("the package's public names are all there", () => {
  for (const name of ["Connection", "Session", "GameSchema", "connectPage", "requestMatch", "replayPrediction", "Interpolator", "encode", "decode"]) {
    assert.equal(typeof sdk[name], "function", name);
  }
});
