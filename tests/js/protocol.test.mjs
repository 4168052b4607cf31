import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { encode, fromHex, toHex } from "../../clients/web/sdk/cbor.js";
import {
  ChatChannel,
  closeCodeLabel,
  CloseCode,
  decodeServerMessage,
  encodeInput,
  encodeJoin,
  encodePing,
  encodeSay,
  ErrorCode,
  isRetryable,
  isValidChatText,
  isValidName,
  MessageType,
  NOT_RETRIED,
  ProtocolError,
  Role,
  sayProblem,
  SUBPROTOCOL,
  VIEW_MAX,
} from "../../clients/web/sdk/protocol.js";
import * as ex from "./dumps.mjs";

describe("client messages: the bytes of section 10", () => {
  test("10.1 Join", () => {
    assert.deepEqual(encodeJoin(Role.PLAYER, "ann"), ex.JOIN_ANN);
    assert.deepEqual(encodeJoin(Role.SPECTATOR, "sam"), ex.JOIN_SAM);
    assert.deepEqual(encodeJoin(Role.SPECTATOR, "Zoë"), ex.JOIN_ZOE);
  });

  test("10.4 Input and Ping; 10.7 ann's second Input", () => {
    assert.deepEqual(encodeInput(1, [24, 8192], 1), ex.INPUT_ANN_1);
    assert.deepEqual(encodeInput(2, [8, 8192], 2), ex.INPUT_ANN_2);
    assert.deepEqual(encodePing(12345), ex.PING);
  });

  test("a Join with a resume token has four items; an empty token is left out", () => {
    assert.equal(toHex(encodeJoin(Role.PLAYER, "ann", "tok")), "8401006361 6e6e63746f6b".replace(" ", ""));
    assert.deepEqual(encodeJoin(Role.PLAYER, "ann", ""), ex.JOIN_ANN);
  });

  test("integers take the shortest head at every boundary", () => {
    assert.equal(toHex(encodeInput(23, [24, 255], 256)), "850217181818ff190100");
    assert.equal(toHex(encodeInput(65535, [0, 65535], 65536)), "850219ffff0019ffff1a00010000");
    assert.equal(toHex(encodeInput(2 ** 32 - 1, [255, 0], 2 ** 32 - 1)), "85021affffffff18ff001affffffff");
    assert.equal(toHex(encodePing(2 ** 53 - 1)), "82031b001fffffffffffff");
  });

  test("an Input with a view has six items; without one (or 0), five", () => {
    assert.equal(toHex(encodeInput(1, [32, 0], 100)), "8502011820001864");
    assert.equal(toHex(encodeInput(1, [32, 0], 100, 0)), "8502011820001864");
    assert.equal(toHex(encodeInput(1, [32, 0], 100, 25472)), "8602011820001864196380"); // tick 99.5
    assert.equal(toHex(encodeInput(1, [32, 0], 100, 1)), "860201182000186401");
    assert.equal(toHex(encodeInput(1, [32, 0], 100, 255)), "860201182000186418ff");
    assert.equal(toHex(encodeInput(1, [32, 0], 100, 65536)), "86020118200018641a00010000");
    assert.equal(toHex(encodeInput(1, [32, 0], 100, VIEW_MAX)), "86020118200018641b000000ffffffffff");
    assert.equal(VIEW_MAX, (2 ** 32 - 1) * 256 + 255);
    assert.throws(() => encodeInput(1, [32, 0], 100, VIEW_MAX + 1), RangeError);
    assert.throws(() => encodeInput(1, [32, 0], 100, -1), RangeError);
    assert.throws(() => encodeInput(1, [32, 0], 100, 2.5), RangeError);
  });

  test("out-of-range fields are refused before anything is sent", () => {
    assert.throws(() => encodeInput(0, [0, 0], 0), RangeError); // seq starts at 1
    assert.throws(() => encodeInput(2 ** 32, [0, 0], 0), RangeError);
    // Each input field's range is the game's (schema.js); the message only takes integers.
    assert.throws(() => encodeInput(1, [0, 1.5], 0), RangeError); // never a float on the wire
    assert.throws(() => encodeInput(1, [0, 0], -1), RangeError);
    assert.throws(() => encodePing(2 ** 53), RangeError);
    assert.throws(() => encodeJoin(2, "ann"), RangeError);
    assert.throws(() => encodeJoin(Role.PLAYER, ""), RangeError);
    assert.throws(() => encodeJoin(Role.PLAYER, "ann", "x".repeat(65)), RangeError);
  });

  test("names: 1..32 code points, printable as Python's str.isprintable()", () => {
    assert.ok(isValidName("ann"));
    assert.ok(isValidName("a b"));
    assert.ok(isValidName("Zoë 中文 😀"));
    assert.ok(isValidName("😀".repeat(32))); // 32 code points, 64 UTF-16 units
    assert.ok(!isValidName("x".repeat(33)));
    assert.ok(!isValidName(""));
    assert.ok(!isValidName("tab\there"));
    assert.ok(!isValidName("new\nline"));
    assert.ok(!isValidName("zero\u200dwidth")); // format character
    assert.ok(!isValidName("no\u00a0break")); // a space other than U+0020
    assert.ok(!isValidName("\ue000")); // private use
    assert.ok(!isValidName("line\u2028sep"));
    assert.ok(!isValidName(null));
  });
});

describe("Say (4): chat from the client", () => {
  test("canonical bytes: a 2-item array, the shortest text head", () => {
    assert.equal(MessageType.SAY, 4);
    assert.equal(toHex(encodeSay("hi")), "8204626869");
    assert.equal(toHex(encodeSay("gg wp")), "8204656767207770");
    assert.equal(toHex(encodeSay("Zoë 😀")), "8204695a6fc3ab20f09f9880"); // length in UTF-8 bytes
    const x23 = encodeSay("x".repeat(23));
    assert.equal(toHex(x23.subarray(0, 3)), "820477", "23 bytes: length in the head");
    const x24 = encodeSay("x".repeat(24));
    assert.equal(toHex(x24.subarray(0, 4)), "82047818", "24 bytes: a one-byte length");
    assert.deepEqual(encodeSay("ann says hi"), encode([4, "ann says hi"]));
  });

  test("1..200 characters: 200 go out, 201 do not", () => {
    const two = encodeSay("x".repeat(200));
    assert.equal(two.length, 204);
    assert.equal(toHex(two.subarray(0, 4)), "820478c8");
    assert.throws(() => encodeSay("x".repeat(201)), RangeError);
    assert.throws(() => encodeSay(""), RangeError);
    assert.ok(isValidChatText("x".repeat(200)));
    assert.ok(!isValidChatText("x".repeat(201)));
    assert.ok(isValidChatText(" "), "a lone space is printable");
  });

  test("characters count as code points, not UTF-16 units", () => {
    assert.ok(isValidChatText("😀".repeat(200)));
    assert.ok(!isValidChatText("😀".repeat(201)));
  });

  test("at most 256 bytes encoded, else refused locally (the server would close with 1009)", () => {
    // [4, text] with 24..255 text bytes takes 4 bytes besides the text: 252 fit.
    const fits = encodeSay("é".repeat(126)); // 252 bytes of UTF-8
    assert.equal(fits.length, 256);
    assert.throws(() => encodeSay("é".repeat(127)), /258 bytes/);
    assert.ok(isValidChatText("é".repeat(127)), "valid text, but too long a message");
    assert.match(sayProblem("é".repeat(127)), /256/);
    assert.throws(() => encodeSay("😀".repeat(64)), RangeError); // 64 characters, 256 text bytes
    assert.equal(encodeSay("😀".repeat(63)).length, 256);
    assert.throws(() => encodeSay("中".repeat(200)), RangeError); // 200 characters, 600 bytes
    assert.equal(sayProblem("hello"), null);
  });

  test("only printable text, by the Join name rule", () => {
    for (const bad of ["tab\there", "new\nline", "bell\u0007", "zero\u200dwidth", "no\u00a0break", "\ue000", "line\u2028sep", "nul\u0000"]) {
      assert.throws(() => encodeSay(bad), RangeError, JSON.stringify(bad));
      assert.notEqual(sayProblem(bad), null);
    }
    for (const notText of [null, undefined, 42, ["hi"], new Uint8Array([0x68])]) {
      assert.throws(() => encodeSay(notText), RangeError);
    }
    assert.ok(encodeSay("Zoë 中文 😀 <b>&amp;</b>"));
  });
});

describe("Chat (20): chat from the server", () => {
  test("a player's line and an announcement", () => {
    assert.equal(MessageType.CHAT, 20);
    assert.deepEqual(decodeServerMessage(fromHex("84140063616e6e626869")), {
      type: MessageType.CHAT,
      channel: ChatChannel.GLOBAL,
      sender: "ann",
      text: "hi",
    });
    assert.deepEqual(decodeServerMessage(encode([20, 1, "server", "restart in 5 minutes"])), {
      type: MessageType.CHAT,
      channel: ChatChannel.ANNOUNCEMENT,
      sender: "server",
      text: "restart in 5 minutes",
    });
  });

  test("an unknown channel is accepted (shown as chat)", () => {
    assert.equal(decodeServerMessage(encode([20, 7, "bob", "team chat, some day"])).channel, 7);
    assert.equal(decodeServerMessage(encode([20, 2 ** 32 - 1, "bob", "x"])).channel, 2 ** 32 - 1);
  });

  test("text at the limits: 200 characters, any printable ones", () => {
    assert.equal(decodeServerMessage(encode([20, 0, "ann", "😀".repeat(200)])).text, "😀".repeat(200));
    assert.equal(decodeServerMessage(encode([20, 0, "", "x"])).sender, "", "the sender is any text");
  });
});

describe("server messages: the bytes of section 10, field by field", () => {
  test("10.2 Welcome (315 bytes)", () => {
    assert.equal(ex.WELCOME_ANN.length, 315);
    const w = decodeServerMessage(ex.WELCOME_ANN.buffer);
    assert.equal(w.type, MessageType.WELCOME);
    assert.equal(w.protocolVersion, 1);
    assert.equal(w.entityId, 2);
    assert.equal(w.tickRate, 30);
    assert.equal(w.snapshotRate, 30);
    assert.equal(w.worldWidth, 1000);
    assert.equal(w.worldHeight, 1000);
    assert.equal(w.tick, 0);
    assert.equal(w.game, "arena");
    assert.deepEqual(Object.keys(w.params), [
      "width", "height", "player_radius", "player_speed", "max_hp", "fire_cooldown_s",
      "projectile_speed", "projectile_radius", "projectile_lifetime_s", "projectile_damage",
      "respawn_delay_s", "obstacle_count", "kill_score",
    ]);
    assert.deepEqual(w.params, {
      width: 1000, height: 1000, player_radius: 16, player_speed: 200, max_hp: 100,
      fire_cooldown_s: 0.4, projectile_speed: 600, projectile_radius: 4,
      projectile_lifetime_s: 1, projectile_damage: 25, respawn_delay_s: 2,
      obstacle_count: 1, kill_score: 1,
    });
    assert.equal(w.resume, "Qx3Vf2mK9pLw7sTz1aB4cD8e");
  });

  test("10.2 sam's Welcome: entity 0 and an empty resume token", () => {
    const bytes = ex.WELCOME_ANN.slice();
    bytes[3] = 0x00;
    const sam = new Uint8Array([...bytes.subarray(0, 289), 0x60]);
    const w = decodeServerMessage(sam);
    assert.equal(w.entityId, 0);
    assert.equal(w.resume, "");
  });

  test("10.3 Snapshot, tick 1, full, for the spectator", () => {
    const s = decodeServerMessage(ex.SNAPSHOT_1_SAM);
    assert.equal(ex.SNAPSHOT_1_SAM.length, 38);
    assert.equal(s.type, MessageType.SNAPSHOT);
    assert.equal(s.tick, 1);
    assert.equal(s.baselineTick, 0);
    assert.equal(s.serverTimeMs, 0);
    assert.equal(s.ackSeq, 0);
    assert.deepEqual(s.changes, [
      [1, 15, 2, 3826, 7823, 811],
      [2, 127, 0, 10920, 1047, 0, 100, 0, 1],
    ]);
    assert.equal(3826 / 16, 239.125);
    assert.equal(7823 / 16, 488.9375);
    assert.equal(811 / 16, 50.6875);
    assert.deepEqual(s.removed, []);
    assert.deepEqual(s.events, []);
  });

  test("10.3 Snapshot, tick 1, ann's view", () => {
    const s = decodeServerMessage(ex.SNAPSHOT_1_ANN);
    assert.equal(ex.SNAPSHOT_1_ANN.length, 25);
    assert.deepEqual([s.tick, s.baselineTick, s.serverTimeMs, s.ackSeq], [1, 0, 0, 0]);
    assert.deepEqual(s.changes, [[2, 127, 0, 10920, 1047, 0, 100, 0, 1]]);
  });

  test("10.5 Pong", () => {
    assert.deepEqual(decodeServerMessage(ex.PONG), { type: MessageType.PONG, nonce: 12345, serverTimeMs: 33 });
  });

  test("10.6 Snapshot, tick 2: a delta with a new projectile", () => {
    const s = decodeServerMessage(ex.SNAPSHOT_2_ANN);
    assert.equal(ex.SNAPSHOT_2_ANN.length, 34);
    assert.deepEqual([s.tick, s.baselineTick, s.serverTimeMs, s.ackSeq], [2, 1, 33, 1]);
    assert.deepEqual(s.changes, [
      [2, 74, 11026, 32, 3],
      [3, 31, 1, 11433, 1454, 32, 2],
    ]);
    assert.equal(74, 0b1001010);
  });

  test("10.7 Snapshot, tick 6, for the spectator: removal and a HIT event", () => {
    const s = decodeServerMessage(ex.SNAPSHOT_6_SAM);
    assert.equal(ex.SNAPSHOT_6_SAM.length, 42);
    assert.deepEqual([s.tick, s.baselineTick, s.serverTimeMs, s.ackSeq], [6, 2, 167, 0]);
    assert.deepEqual(s.changes, [
      [2, 2, 11450],
      [4, 127, 0, 12112, 2133, 0, 75, 0, 1],
    ]);
    assert.deepEqual(s.removed, [3]);
    assert.deepEqual(s.events, [[4, 0, 2, 4, 25, 75]]);
  });

  test("10.7 ann's tick-4 delta and her full tick-6 view", () => {
    const four = decodeServerMessage(ex.SNAPSHOT_4_ANN);
    assert.deepEqual([four.tick, four.baselineTick, four.serverTimeMs, four.ackSeq], [4, 3, 100, 2]);
    assert.deepEqual(four.changes[0], [2, 2, 11238]);
    const six = decodeServerMessage(ex.SNAPSHOT_6_ANN_FULL);
    assert.equal(ex.SNAPSHOT_6_ANN_FULL.length, 52);
    assert.deepEqual([six.tick, six.baselineTick, six.serverTimeMs, six.ackSeq], [6, 0, 167, 2]);
    assert.deepEqual(six.changes, [
      [2, 127, 0, 11450, 1047, 32, 100, 0, 3],
      [4, 127, 0, 12112, 2133, 0, 75, 0, 1],
    ]);
    assert.deepEqual(six.removed, []);
    assert.deepEqual(six.events, [[4, 0, 2, 4, 25, 75]]);
  });

  test("10.8 Error", () => {
    assert.deepEqual(decodeServerMessage(ex.ERROR_SPECTATOR_INPUT), {
      type: MessageType.ERROR,
      code: 1,
      reason: "spectators cannot send input",
    });
  });
});

describe("malformed server messages carry the close code to send", () => {
  const code = (bytes) => {
    try {
      decodeServerMessage(bytes);
    } catch (error) {
      assert.ok(error instanceof ProtocolError);
      return error.code;
    }
    return null;
  };

  test("broken CBOR: 1007", () => {
    assert.equal(code(fromHex("8312")), 1007);
    assert.equal(code(fromHex("831218300000")), 1007);
    assert.equal(code(fromHex("c183121830")), 1007);
    assert.equal(code(fromHex("88110100000081818100 8080".replace(" ", ""))), 1007); // depth 4
  });

  test("well-formed, wrong shape: 4002", () => {
    assert.equal(code(encode({ a: 1 })), 4002);
    assert.equal(code(encode([])), 4002);
    assert.equal(code(encode(["x"])), 4002);
    assert.equal(code(encode([42, 1, 2])), 4002);
    assert.equal(code(encode([18, 1])), 4002);
    assert.equal(code(encode([18, 1, -1])), 4002);
    assert.equal(code(encode([18, 1, 2 ** 53])), 4002); // not exact in a Number
    assert.equal(code(encode([17, 1, 0, 0, 0, [[1, 1, true]], [], []])), 4002);
    assert.equal(code(encode([17, 1, 0, 0, 0, [], [1.5], []])), 4002);
    assert.equal(code(encode([19, 1, 2])), 4002);
    const params = new Map([["width", "wide"]]);
    assert.equal(code(encode([16, 1, 2, 30, 30, 1000, 1000, 0, "arena", params, ""])), 4002);
  });

  test("malformed Chat: 4002, like any other malformed server message", () => {
    const bad = [
      [20],
      [20, 0, "ann"], // too short
      [20, 0, "ann", "hi", "extra"], // too long
      [20, -1, "ann", "hi"], // a negative channel
      [20, 1.5, "ann", "hi"], // a float channel
      [20, 2 ** 32, "ann", "hi"], // beyond uint32
      [20, "0", "ann", "hi"],
      [20, null, "ann", "hi"],
      [20, 0, 7, "hi"], // the sender is not text
      [20, 0, null, "hi"],
      [20, 0, ["ann"], "hi"],
      [20, 0, "ann", 5], // the text is not text
      [20, 0, "ann", ""], // empty
      [20, 0, "ann", "x".repeat(201)], // too long
      [20, 0, "ann", "new\nline"], // not printable
      [20, 0, "ann", "zero\u200dwidth"],
      [20, 0, "ann", new Uint8Array([0x68, 0x69])], // bytes, not text
    ];
    for (const fields of bad) assert.equal(code(encode(fields)), 4002, JSON.stringify(fields));
    assert.equal(code(encode(new Map([[20, 0]]))), 4002);
    assert.equal(code(fromHex("831400636161")), 1007, "truncated: broken CBOR");
  });

  test("a text frame: 1003", () => {
    assert.equal(code("hello"), 1003);
  });

  test("entity values are signed", () => {
    const s = decodeServerMessage(encode([17, 1, 0, 0, 0, [[5, 7, -3, -400, 2]], [], [[1, 9, -1]]]));
    assert.deepEqual(s.changes, [[5, 7, -3, -400, 2]]);
    assert.deepEqual(s.events, [[1, 9, -1]]);
  });
});

describe("close codes (sections 9.1 and 11)", () => {
  test("protocol violations are never retried; the rest are", () => {
    for (const c of [1002, 1003, 1007, 1008, 1009, 4001, 4002, 4003]) {
      assert.ok(NOT_RETRIED.has(c));
      assert.equal(isRetryable(c), false, String(c));
    }
    for (const c of [1001, 1006, 1011, 4008, 4009, 4010, 4029]) assert.equal(isRetryable(c), true, String(c));
    assert.equal(isRetryable(CloseCode.NORMAL), false);
  });

  test("Error codes", () => {
    assert.deepEqual(
      { ...ErrorCode },
      { SPECTATOR_INPUT: 1, RESUME_REFUSED: 2, CHAT_RATE_LIMITED: 3, MATCH_FAILED: 4, COMMAND_DROPPED: 5 },
    );
    assert.deepEqual(decodeServerMessage(encode([19, 3, "chat rate limited"])), {
      type: MessageType.ERROR,
      code: ErrorCode.CHAT_RATE_LIMITED,
      reason: "chat rate limited",
    });
  });

  test("labels", () => {
    assert.equal(closeCodeLabel(4009), "ROOM_FULL (4009)");
    assert.equal(closeCodeLabel(1006), "ABNORMAL_CLOSURE (1006)");
    assert.equal(closeCodeLabel(4321), "4321");
    assert.equal(SUBPROTOCOL, "gameserver.v2");
  });
});
