import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { decode, encode } from "../../clients/web/sdk/cbor.js";
import { browserCloseCode, Connection, DEFAULT_RECONNECT, reconnectDelayS } from "../../clients/web/sdk/connection.js";
import { roundHalfEven } from "../../clients/web/games/arena/movement.js";
import { arenaPrediction } from "../../clients/web/games/arena/prediction.js";
import { viewTick } from "../../clients/web/sdk/session.js";
import * as ex from "./dumps.mjs";

/** Timers on a simulated clock: `advance` runs what falls due, in time order. */
class FakeTime {
  constructor() {
    this.nowS = 100;
    this.timers = new Map();
    this.nextId = 1;
  }

  setTimeout(callback, ms) {
    const id = this.nextId++;
    this.timers.set(id, { dueS: this.nowS + Math.max(0, ms) / 1000, callback });
    return id;
  }

  clearTimeout(id) {
    this.timers.delete(id);
  }

  advance(seconds) {
    const endS = this.nowS + seconds;
    for (;;) {
      let first = null;
      for (const [id, timer] of this.timers) {
        if (timer.dueS <= endS && (!first || timer.dueS < first[1].dueS)) first = [id, timer];
      }
      if (!first) break;
      this.timers.delete(first[0]);
      this.nowS = Math.max(this.nowS, first[1].dueS);
      first[1].callback();
    }
    this.nowS = endS;
  }

  /** The page was frozen for `seconds`: the clock jumps, then late timers run. */
  stall(seconds) {
    this.nowS += seconds;
    this.advance(0);
  }
}

/** A WebSocket whose server side the test plays. */
function fakeSocketClass() {
  const sockets = [];
  class FakeSocket {
    constructor(url, protocol) {
      this.url = url;
      this.protocol = protocol;
      this.readyState = 0;
      this.sent = [];
      this.closedWith = null;
      sockets.push(this);
    }

    send(bytes) {
      assert.equal(this.readyState, 1, "send on an open socket only");
      this.sent.push(decode(bytes));
    }

    close(code, reason) {
      if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
        throw new Error(`InvalidAccessError: close code ${code}`); // as a browser does
      }
      this.closedWith = { code, reason };
      this.serverClose(code ?? 1005, ""); // the server echoes the close
    }

    // -- the server's side
    accept() {
      this.readyState = 1;
      this.onopen();
    }

    deliver(bytes) {
      const copy = bytes.slice();
      this.onmessage({ data: copy.buffer });
    }

    serverClose(code, reason = "") {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.onclose({ code, reason });
    }

    messages(type) {
      return this.sent.filter((m) => m[0] === type);
    }
  }
  return { FakeSocket, sockets };
}

function setup(options = {}) {
  const time = new FakeTime();
  const { FakeSocket, sockets } = fakeSocketClass();
  const states = [];
  let buttons = 8;
  const connection = new Connection({
    url: "ws://example.test/ws",
    name: "ann",
    WebSocketImpl: FakeSocket,
    now: () => time.nowS,
    random: () => 0,
    timers: time,
    // Version 1 Welcomes (the dumps) carry no description: the input goes as wire values.
    inputSource: () => [buttons, 8192],
    inputView: (input) => input[0] & 32,
    prediction: arenaPrediction,
    onChange: (state) => states.push(state),
    ...options,
  });
  connection.start();
  return { time, sockets, states, connection, setButtons: (b) => (buttons = b) };
}

/** Open the newest socket and welcome the client (ann's Welcome, entity 2). */
function welcome(sockets, bytes = ex.WELCOME_ANN) {
  const ws = sockets.at(-1);
  ws.accept();
  ws.deliver(bytes);
  return ws;
}

describe("joining", () => {
  test("opens with the subprotocol, joins on open, plays after the Welcome", () => {
    const { sockets, states, connection } = setup();
    assert.equal(sockets.length, 1);
    assert.equal(sockets[0].url, "ws://example.test/ws");
    assert.equal(sockets[0].protocol, "gameserver.v2");
    assert.equal(sockets[0].binaryType, "arraybuffer");
    assert.equal(connection.state, "connecting");
    sockets[0].accept();
    assert.deepEqual(sockets[0].sent[0], [1, 0, "ann"]);
    assert.equal(sockets[0].sent[1][0], 3, "a ping right away");
    sockets[0].deliver(ex.WELCOME_ANN);
    assert.equal(connection.state, "playing");
    assert.equal(connection.entityId, 2);
    assert.deepEqual(states, ["connecting", "playing"]);
  });

  test("a spectator joins with role 1 and sends no input", () => {
    const { sockets, time, connection } = setup({ role: 1, name: "sam" });
    const bytes = ex.WELCOME_ANN.slice();
    bytes[3] = 0;
    const ws = welcome(sockets, new Uint8Array([...bytes.subarray(0, 289), 0x60]));
    assert.deepEqual(ws.sent[0], [1, 1, "sam"]);
    assert.equal(connection.state, "spectating");
    time.advance(2);
    assert.equal(ws.messages(2).length, 0);
    assert.equal(ws.messages(3).length, 3, "but pings every second");
  });

  test("no Welcome in time: the socket is given up and a new one tried", () => {
    const { sockets, time, connection } = setup();
    sockets[0].accept();
    time.advance(5.01);
    assert.equal(sockets[0].closedWith.code, 1000);
    assert.equal(connection.state, "reconnecting");
    assert.equal(connection.closeReason, "no welcome from the server in time");
    time.advance(0.25);
    assert.equal(sockets.length, 2);
  });
});

describe("input and ping", () => {
  test("one Input per tick at the Welcome's tick rate, seq from 1, ack_tick = mirror tick", () => {
    const { sockets, time, connection } = setup();
    const ws = welcome(sockets);
    ws.deliver(ex.SNAPSHOT_1_ANN);
    time.advance(1.0001);
    const inputs = ws.messages(2);
    assert.equal(inputs.length, 30);
    assert.deepEqual(inputs.map((m) => m[1]), Array.from({ length: 30 }, (_, i) => i + 1));
    assert.deepEqual(inputs[0], [2, 1, 8, 8192, 1]);
    assert.equal(ws.messages(3).length, 2, "a ping on open and one a second later");
    assert.equal(connection.session.predictor.predictor.pending.length, 30, "every input predicted");
  });

  test("after a stall no burst: at most one late frame, then the tick rate again", () => {
    const { sockets, time } = setup();
    const ws = welcome(sockets);
    time.advance(0.5);
    const before = ws.messages(2).length;
    time.stall(3);
    assert.ok(ws.messages(2).length - before <= 1, "no catch-up burst");
    time.advance(1.0001);
    const after = ws.messages(2).length - before;
    assert.ok(after >= 30 && after <= 31, `${after} frames in the next second`);
  });

  test("the held buttons are sampled each tick", () => {
    const { sockets, time, setButtons } = setup();
    const ws = welcome(sockets);
    time.advance(1 / 30 + 1e-6);
    setButtons(16);
    time.advance(1 / 30);
    assert.deepEqual(ws.messages(2).map((m) => m[2]), [8, 16]);
  });

  test("frames with HITSCAN held carry the view (6 items); the others do not (5)", () => {
    const { sockets, time, connection, setButtons } = setup();
    const ws = welcome(sockets);
    ws.deliver(ex.SNAPSHOT_1_ANN);
    // Snapshots keep coming, one per tick, as the inputs go out.
    for (let tick = 2; tick <= 30; tick++) {
      time.advance(1 / 30);
      ws.deliver(encode([17, tick, tick - 1, Math.round(((tick - 1) * 1000) / 30), 0, [], [], []]));
    }
    const before = ws.messages(2).length;
    setButtons(32 | 8);
    time.advance(1 / 30);
    const session = connection.session;
    const renderS = session.renderTimeS(time.nowS);
    const expected = roundHalfEven(viewTick(session.tick, session.serverTimeMs, renderS, 30) * 256);
    setButtons(8);
    time.advance(1 / 30);
    const inputs = ws.messages(2);
    assert.ok(inputs.slice(0, before).every((m) => m.length === 5), "no view without HITSCAN");
    const [shot, after] = inputs.slice(before);
    assert.equal(shot.length, 6);
    assert.equal(shot[2], 40);
    assert.equal(shot[5], expected);
    const seen = shot[5] / 256;
    assert.ok(seen > session.tick - 4 && seen < session.tick, `view ${seen}: a few ticks behind ${session.tick}`);
    assert.equal(after.length, 5);
    assert.equal(after[2], 8);
  });
});

describe("reconnecting", () => {
  test("a drop is retried with backoff; the Join carries the resume token; same entity = resume", () => {
    const { sockets, time, connection, states } = setup();
    welcome(sockets);
    sockets[0].serverClose(1006);
    assert.equal(connection.state, "reconnecting");
    assert.equal(connection.closeCode, 1006);
    time.advance(0.24);
    assert.equal(sockets.length, 1, "waits the backoff (0.25 s with no jitter)");
    time.advance(0.02);
    assert.equal(sockets.length, 2);
    const ws = welcome(sockets);
    assert.deepEqual(ws.sent[0], [1, 0, "ann", "Qx3Vf2mK9pLw7sTz1aB4cD8e"]);
    assert.equal(connection.resumes, 1);
    assert.equal(connection.state, "playing");
    assert.deepEqual(states, ["connecting", "playing", "reconnecting", "playing"]);
    time.advance(1 / 30 + 1e-6);
    assert.equal(ws.messages(2)[0][1], 1, "seq starts from 1 again");
  });

  test("the reconnect URL carries ?resume= instead of the token and seat", () => {
    const { sockets, time } = setup({ url: "ws://example.test/ws?seat=S.E.AT&token=I.D.T&mode=duel" });
    assert.equal(sockets[0].url, "ws://example.test/ws?seat=S.E.AT&token=I.D.T&mode=duel");
    welcome(sockets);
    sockets[0].serverClose(1006);
    time.advance(0.26);
    assert.equal(sockets[1].url, "ws://example.test/ws?mode=duel&resume=Qx3Vf2mK9pLw7sTz1aB4cD8e");
  });

  test("a refused resume upgrade is retried with the original URL, as a new player", () => {
    const { sockets, time, connection } = setup({ url: "ws://example.test/ws?token=I.D.T" });
    welcome(sockets);
    sockets[0].serverClose(1006);
    time.advance(0.26);
    assert.match(sockets[1].url, /resume=/);
    sockets[1].serverClose(1006); // the upgrade was refused: the socket never opened
    assert.equal(connection.state, "reconnecting");
    time.advance(0.6);
    assert.equal(sockets[2].url, "ws://example.test/ws?token=I.D.T");
    const ws = welcome(sockets);
    assert.deepEqual(ws.sent[0], [1, 0, "ann"]);
  });

  test("a Welcome with another entity id is not a resume", () => {
    const { sockets, time, connection } = setup();
    welcome(sockets);
    sockets[0].serverClose(1001, "server shutting down");
    time.advance(1);
    const other = ex.WELCOME_ANN.slice();
    other[3] = 5;
    welcome(sockets, other);
    assert.equal(connection.resumes, 0);
    assert.equal(connection.entityId, 5);
  });

  for (const code of [1002, 1003, 1007, 1008, 1009, 4001, 4002, 4003, 1000]) {
    test(`close code ${code} is not retried`, () => {
      const { sockets, time, connection } = setup();
      welcome(sockets);
      sockets[0].serverClose(code, "reason");
      time.advance(30);
      assert.equal(sockets.length, 1);
      assert.equal(connection.state, "closed");
      assert.equal(connection.closeCode, code);
      assert.equal(connection.closeReason, "reason");
    });
  }

  for (const code of [1001, 1006, 1011, 4008, 4009, 4010, 4029]) {
    test(`close code ${code} is retried`, () => {
      const { sockets, time } = setup();
      welcome(sockets);
      sockets[0].serverClose(code);
      time.advance(0.3);
      assert.equal(sockets.length, 2);
    });
  }

  test("gives up after six failed attempts in a row, waiting longer each time", () => {
    const { sockets, time, connection } = setup();
    const waits = [];
    sockets[0].serverClose(1006); // the handshake failed: a browser shows only 1006
    for (let i = 0; i < 6; i++) {
      const start = time.nowS;
      const count = sockets.length;
      while (sockets.length === count) time.advance(0.01);
      waits.push(time.nowS - start);
      sockets.at(-1).serverClose(1006);
    }
    assert.equal(connection.state, "closed");
    assert.match(connection.closeReason, /gave up after 6 attempts/);
    for (let i = 1; i < waits.length; i++) assert.ok(waits[i] >= waits[i - 1]);
    time.advance(60);
    assert.equal(sockets.length, 7);
  });

  test("a successful Welcome resets the attempt count", () => {
    const { sockets, time, connection } = setup();
    welcome(sockets);
    for (let round = 0; round < 10; round++) {
      sockets.at(-1).serverClose(1006);
      time.advance(0.3);
      welcome(sockets);
      assert.equal(connection.attempt, 0);
    }
    assert.equal(connection.resumes, 10);
    assert.equal(connection.reconnects, 10);
  });
});

describe("local protocol errors close for good", () => {
  test("a snapshot against the wrong baseline: close with 4002, no retry", () => {
    const { sockets, time, connection } = setup();
    const ws = welcome(sockets);
    ws.deliver(ex.SNAPSHOT_2_ANN); // baseline 1, but the mirror is empty
    assert.equal(ws.closedWith.code, 4002);
    assert.equal(connection.state, "closed");
    assert.equal(connection.closeCode, 4002);
    assert.equal(connection.lastError.code, 4002);
    time.advance(30);
    assert.equal(sockets.length, 1);
  });

  test("malformed CBOR: 1007 recorded; the browser may only send 1000 for it", () => {
    const { sockets, connection } = setup();
    const ws = welcome(sockets);
    ws.deliver(new Uint8Array([0x83, 0x12]));
    assert.equal(ws.closedWith.code, 1000);
    assert.equal(connection.closeCode, 1007);
    assert.equal(connection.state, "closed");
  });

  test("an Error message is not fatal", () => {
    const { sockets, connection } = setup();
    const ws = welcome(sockets);
    ws.deliver(encode([19, 2, "resume token unknown or expired"]));
    assert.equal(connection.state, "playing");
    assert.deepEqual(connection.lastError, { code: 2, reason: "resume token unknown or expired" });
  });
});

test("stop(): a normal close, no reconnection", () => {
  const { sockets, time, connection } = setup();
  welcome(sockets);
  connection.stop("bye");
  assert.equal(sockets[0].closedWith.code, 1000);
  assert.equal(connection.state, "closed");
  time.advance(30);
  assert.equal(sockets.length, 1);
});

test("stop() after the end keeps the close code that ended it", () => {
  const { sockets, connection } = setup();
  welcome(sockets);
  sockets[0].serverClose(4003, "second join");
  connection.stop("page closed");
  assert.deepEqual([connection.closeCode, connection.closeReason], [4003, "second join"]);
});

test("stop() while waiting to reconnect: closed at once, no new socket", () => {
  const { sockets, time, connection } = setup();
  welcome(sockets);
  sockets[0].serverClose(1006);
  connection.stop("page closed");
  assert.equal(connection.state, "closed");
  time.advance(30);
  assert.equal(sockets.length, 1);
});

test("reconnect delays: exponential, capped, shortened by jitter", () => {
  const p = DEFAULT_RECONNECT;
  assert.equal(reconnectDelayS(p, 1, () => 0), 0.25);
  assert.equal(reconnectDelayS(p, 2, () => 0), 0.5);
  assert.equal(reconnectDelayS(p, 5, () => 0), 4);
  assert.equal(reconnectDelayS(p, 6, () => 0), 5);
  assert.equal(reconnectDelayS(p, 1, () => 1), 0.125);
});

test("close codes a browser may send", () => {
  assert.equal(browserCloseCode(4002), 4002);
  assert.equal(browserCloseCode(1000), 1000);
  assert.equal(browserCloseCode(1007), 1000);
  assert.equal(browserCloseCode(1001), 1000);
});

describe("chat", () => {
  test("say() sends Say [4, text] only once joined; players and spectators alike", () => {
    const { sockets, connection } = setup();
    assert.equal(connection.say("too early"), false, "no socket open yet");
    sockets[0].accept();
    assert.equal(connection.joined, false);
    assert.equal(connection.say("still too early"), false, "open, but no Welcome yet");
    assert.equal(sockets[0].messages(4).length, 0);
    sockets[0].deliver(ex.WELCOME_ANN);
    assert.equal(connection.joined, true);
    assert.equal(connection.say("hello all"), true);
    assert.deepEqual(sockets[0].messages(4), [[4, "hello all"]]);

    const spectator = setup({ role: 1, name: "sam" });
    const bytes = ex.WELCOME_ANN.slice();
    bytes[3] = 0;
    const ws = welcome(spectator.sockets, new Uint8Array([...bytes.subarray(0, 289), 0x60]));
    assert.equal(spectator.connection.state, "spectating");
    assert.equal(spectator.connection.say("watching"), true);
    assert.deepEqual(ws.messages(4), [[4, "watching"]]);
  });

  test("say() refuses text the server would refuse, and sends nothing", () => {
    const { sockets, connection } = setup();
    const ws = welcome(sockets);
    for (const bad of ["", "x".repeat(201), "tab\there", "é".repeat(127), 42]) {
      assert.equal(connection.say(bad), false, JSON.stringify(bad));
    }
    assert.equal(ws.messages(4).length, 0);
    assert.equal(connection.say("x".repeat(200)), true);
    assert.equal(connection.state, "playing");
  });

  test("no say() while reconnecting, nor after the end, nor after a local protocol error", () => {
    const { sockets, time, connection } = setup();
    welcome(sockets);
    sockets[0].serverClose(1006);
    assert.equal(connection.state, "reconnecting");
    assert.equal(connection.say("anyone?"), false);
    time.advance(0.3);
    sockets[1].accept();
    assert.equal(connection.say("anyone?"), false, "the new socket has no Welcome yet");
    sockets[1].deliver(ex.WELCOME_ANN);
    assert.equal(connection.say("back"), true);
    assert.deepEqual(sockets[1].messages(4), [[4, "back"]]);
    sockets[1].deliver(ex.SNAPSHOT_2_ANN); // wrong baseline: we close with 4002
    assert.equal(connection.say("after"), false);
    assert.equal(connection.state, "closed");

    const other = setup();
    welcome(other.sockets);
    other.connection.stop("bye");
    assert.equal(other.connection.say("gone"), false);
  });

  test("Chat messages are kept, oldest first, the last 50, across reconnections", () => {
    const { sockets, time, connection } = setup();
    const ws = welcome(sockets);
    ws.deliver(encode([20, 0, "bob", "hi ann"]));
    ws.deliver(encode([20, 1, "server", "restart at noon"]));
    ws.deliver(encode([20, 9, "eve", "a channel from the future"]));
    assert.equal(connection.state, "playing");
    assert.deepEqual(connection.session.chat, [
      { channel: 0, sender: "bob", text: "hi ann" },
      { channel: 1, sender: "server", text: "restart at noon" },
      { channel: 9, sender: "eve", text: "a channel from the future" },
    ]);
    ws.serverClose(1006);
    time.advance(0.3);
    const again = welcome(sockets);
    assert.equal(connection.session.chat.length, 3, "a reconnection keeps the history");
    for (let i = 0; i < 60; i++) again.deliver(encode([20, 0, "bob", `line ${i}`]));
    const chat = connection.session.chat;
    assert.equal(chat.length, 50);
    assert.equal(chat[0].text, "line 10");
    assert.equal(chat.at(-1).text, "line 59");
    assert.equal(connection.session.chatReceived, 63);
  });

  test("a malformed Chat is a protocol failure: close with 4002, no retry", () => {
    const { sockets, time, connection } = setup();
    const ws = welcome(sockets);
    ws.deliver(encode([20, 0, "bob", "line\nbreak"]));
    assert.equal(ws.closedWith.code, 4002);
    assert.equal(connection.state, "closed");
    assert.equal(connection.lastError.code, 4002);
    assert.deepEqual(connection.session.chat, []);
    time.advance(30);
    assert.equal(sockets.length, 1);
  });

  test("a Say beyond the chat rate: Error 3 is not fatal and is counted", () => {
    const { sockets, connection } = setup();
    const ws = welcome(sockets);
    ws.deliver(encode([19, 3, "chat rate limited"]));
    assert.equal(connection.state, "playing");
    assert.deepEqual(connection.lastError, { code: 3, reason: "chat rate limited" });
    assert.equal(connection.session.chatRateLimited, 1);
    assert.equal(connection.say("still here"), true);
  });
});
