// Protocol v1 messages (docs/protocol.md sections 4 and 9); gameserver/protocol/ is the reference.
//
// Client messages are encoded from plain arguments (validated: the server closes the
// connection for any out-of-range field); server messages decode into plain objects
// whose `type` is a MessageType. Decoding raises ProtocolError carrying the close code
// the Python client would close with.

import { CborError, decode, encode } from "./cbor.js";

export const PROTOCOL_VERSION = 1;
export const SUBPROTOCOL = `gameserver.v${PROTOCOL_VERSION}`;

export const MessageType = Object.freeze({
  JOIN: 1,
  INPUT: 2,
  PING: 3,
  SAY: 4,
  WELCOME: 16,
  SNAPSHOT: 17,
  PONG: 18,
  ERROR: 19,
  CHAT: 20,
});

export const Role = Object.freeze({ PLAYER: 0, SPECTATOR: 1 });

export const ErrorCode = Object.freeze({ SPECTATOR_INPUT: 1, RESUME_REFUSED: 2, CHAT_RATE_LIMITED: 3 });

/** Chat channels; a client shows any other channel as ordinary chat. */
export const ChatChannel = Object.freeze({ GLOBAL: 0, ANNOUNCEMENT: 1 });

export const UINT32_MAX = 2 ** 32 - 1;
export const NONCE_MAX = 2 ** 53 - 1;
export const BUTTONS_MAX = 255;
export const AIM_MAX = 65535;
// Input view: a tick in 1/256 steps (uint32 tick, the fraction in the low byte).
export const VIEW_MAX = UINT32_MAX * 256 + 255;
export const NAME_MAX_CHARS = 32;
export const RESUME_TOKEN_MAX_CHARS = 64;
export const CHAT_MAX_CHARS = 200;
// The server closes with 1009 for a client message longer than this.
export const CLIENT_MESSAGE_MAX_BYTES = 256;

// Server messages nest at most snapshot -> changes -> one change.
const SERVER_MAX_DEPTH = 3;

/** Close codes (section 9.1) with whether reconnecting can help (clients/client.py). */
export const CloseCode = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  ABNORMAL_CLOSURE: 1006,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  UNKNOWN_MESSAGE_TYPE: 4001,
  INVALID_MESSAGE: 4002,
  UNEXPECTED_MESSAGE: 4003,
  SLOW_CONSUMER: 4008,
  ROOM_FULL: 4009,
  IDLE_TIMEOUT: 4010,
  RATE_LIMITED: 4029,
});

const CLOSE_CODE_NAMES = new Map(Object.entries(CloseCode).map(([name, code]) => [code, name]));

// The server closed us for something we did: reconnecting would only repeat it.
export const NOT_RETRIED = new Set([1002, 1003, 1007, 1008, 1009, 4001, 4002, 4003]);

/** Whether a connection closed with `code` is worth reconnecting (section 11, item 12). */
export function isRetryable(code) {
  return code !== CloseCode.NORMAL && !NOT_RETRIED.has(code);
}

/** "ROOM_FULL (4009)", or just the number for codes outside the table. */
export function closeCodeLabel(code) {
  const name = CLOSE_CODE_NAMES.get(code);
  return name ? `${name} (${code})` : String(code);
}

export class ProtocolError extends Error {
  /** `code`: the close code to send, as in gameserver/protocol/errors.py. */
  constructor(code, reason) {
    super(`${closeCodeLabel(code)}: ${reason}`);
    this.name = "ProtocolError";
    this.code = code;
    this.reason = reason;
  }
}

/** A snapshot that does not fit the mirror (section 6.2): the mirror is wrong. */
export class DeltaError extends ProtocolError {
  constructor(reason) {
    super(CloseCode.INVALID_MESSAGE, reason);
    this.name = "DeltaError";
  }
}

// ------------------------------------------------------------------ client messages

function checkInt(value, low, high, what) {
  if (!Number.isSafeInteger(value) || value < low || value > high) {
    throw new RangeError(`${what} must be an integer in [${low}, ${high}], got ${value}`);
  }
  return value;
}

// Python's str.isprintable(): no control, format, surrogate, private-use or unassigned
// code points, no separators other than the plain space. Unassigned code points follow
// this engine's Unicode version, which may differ slightly from the server's.
const NOT_PRINTABLE = /[\p{C}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;

/** Whether `text` is a string of 1..maxChars code points, all printable. */
function isPrintableText(text, maxChars) {
  if (typeof text !== "string") return false;
  const chars = Array.from(text).length;
  return chars >= 1 && chars <= maxChars && !NOT_PRINTABLE.test(text);
}

/** Whether `name` is a valid Join name: 1..32 code points, all printable (section 4.1). */
export function isValidName(name) {
  return isPrintableText(name, NAME_MAX_CHARS);
}

/** Whether `text` is valid chat text (Say and Chat): 1..200 code points, all printable. */
export function isValidChatText(text) {
  return isPrintableText(text, CHAT_MAX_CHARS);
}

/** Why `text` cannot go out in a Say, or null if it can. */
export function sayProblem(text) {
  return sayFrame(text).problem;
}

function sayFrame(text) {
  if (!isValidChatText(text)) {
    return { problem: `chat text must be 1..${CHAT_MAX_CHARS} printable characters` };
  }
  const bytes = encode([MessageType.SAY, text]);
  if (bytes.length > CLIENT_MESSAGE_MAX_BYTES) {
    return {
      problem: `chat message is ${bytes.length} bytes encoded, at most ${CLIENT_MESSAGE_MAX_BYTES} are allowed`,
    };
  }
  return { problem: null, bytes };
}

/** Join [1, role, name] or, to reclaim a dropped entity, [1, role, name, resume]. */
export function encodeJoin(role, name, resume = "") {
  checkInt(role, 0, 1, "join role");
  if (!isValidName(name)) {
    throw new RangeError(`join name must be 1..${NAME_MAX_CHARS} printable characters`);
  }
  if (typeof resume !== "string" || Array.from(resume).length > RESUME_TOKEN_MAX_CHARS) {
    throw new RangeError(`resume token must be at most ${RESUME_TOKEN_MAX_CHARS} characters`);
  }
  const fields = [MessageType.JOIN, role, name];
  if (resume) fields.push(resume);
  return encode(fields);
}

/**
 * Input [2, seq, buttons, aim, ack_tick] or, with a view (the tick the player was looking
 * at, times 256), [2, seq, buttons, aim, ack_tick, view]. A view of 0 is left out.
 */
export function encodeInput(seq, buttons, aim, ackTick, view = 0) {
  const fields = [
    MessageType.INPUT,
    checkInt(seq, 1, UINT32_MAX, "input seq"),
    checkInt(buttons, 0, BUTTONS_MAX, "input buttons"),
    checkInt(aim, 0, AIM_MAX, "input aim"),
    checkInt(ackTick, 0, UINT32_MAX, "input ack_tick"),
  ];
  if (checkInt(view, 0, VIEW_MAX, "input view") !== 0) fields.push(view);
  return encode(fields);
}

/** Ping [3, nonce]. */
export function encodePing(nonce) {
  return encode([MessageType.PING, checkInt(nonce, 0, NONCE_MAX, "ping nonce")]);
}

/**
 * Say [4, text]: a chat line for every player. Text the server would refuse (invalid, or
 * a message over 256 bytes, which it closes the connection for) throws RangeError.
 */
export function encodeSay(text) {
  const { problem, bytes } = sayFrame(text);
  if (problem) throw new RangeError(problem);
  return bytes;
}

// ------------------------------------------------------------------ server messages

function invalid(reason) {
  return new ProtocolError(CloseCode.INVALID_MESSAGE, reason);
}

function uint(value, what) {
  if (!Number.isSafeInteger(value) || value < 0) throw invalid(`${what} must be an unsigned integer`);
  return value;
}

function intList(value, what) {
  if (!Array.isArray(value) || !value.every(Number.isSafeInteger)) {
    throw invalid(`${what} must be an array of integers`);
  }
  return value;
}

function nestedIntLists(value, what) {
  if (!Array.isArray(value)) throw invalid(`${what} must be an array`);
  return value.map((entry) => intList(entry, what));
}

function decodeParams(map) {
  if (!(map instanceof Map)) throw invalid("welcome params must be a map");
  const params = {};
  for (const [key, value] of map) {
    if (typeof key !== "string" || typeof value !== "number") {
      throw invalid("welcome params must map text to numbers");
    }
    Object.defineProperty(params, key, { value, enumerable: true, writable: true });
  }
  return params;
}

/**
 * Decode one server message (bytes: ArrayBuffer or Uint8Array) into a plain object:
 *   {type: WELCOME, protocolVersion, entityId, tickRate, snapshotRate, worldWidth,
 *    worldHeight, tick, game, params, resume}
 *   {type: SNAPSHOT, tick, baselineTick, serverTimeMs, ackSeq, changes, removed, events}
 *   {type: PONG, nonce, serverTimeMs}
 *   {type: ERROR, code, reason}
 *   {type: CHAT, channel, sender, text}   (any channel number: unknown ones are chat)
 */
export function decodeServerMessage(bytes) {
  if (typeof bytes === "string") {
    throw new ProtocolError(CloseCode.UNSUPPORTED_DATA, "server sent a text frame");
  }
  let item;
  try {
    item = decode(bytes, { maxDepth: SERVER_MAX_DEPTH });
  } catch (error) {
    if (!(error instanceof CborError)) throw error;
    throw new ProtocolError(CloseCode.INVALID_PAYLOAD, `malformed CBOR: ${error.message}`);
  }
  if (!Array.isArray(item) || item.length === 0 || !Number.isSafeInteger(item[0])) {
    throw invalid("not a protocol message");
  }
  const [type, ...f] = item;
  if (type === MessageType.SNAPSHOT && f.length === 7) {
    return {
      type,
      tick: uint(f[0], "snapshot tick"),
      baselineTick: uint(f[1], "snapshot baseline_tick"),
      serverTimeMs: uint(f[2], "snapshot server_time_ms"),
      ackSeq: uint(f[3], "snapshot ack_seq"),
      changes: nestedIntLists(f[4], "snapshot changes"),
      removed: intList(f[5], "snapshot removed"),
      events: nestedIntLists(f[6], "snapshot events"),
    };
  }
  if (type === MessageType.WELCOME && f.length === 10) {
    if (typeof f[7] !== "string" || typeof f[9] !== "string") {
      throw invalid("welcome game and resume must be text");
    }
    return {
      type,
      protocolVersion: uint(f[0], "welcome protocol_version"),
      entityId: uint(f[1], "welcome entity_id"),
      tickRate: uint(f[2], "welcome tick_rate"),
      snapshotRate: uint(f[3], "welcome snapshot_rate"),
      worldWidth: uint(f[4], "welcome world_width"),
      worldHeight: uint(f[5], "welcome world_height"),
      tick: uint(f[6], "welcome tick"),
      game: f[7],
      params: decodeParams(f[8]),
      resume: f[9],
    };
  }
  if (type === MessageType.PONG && f.length === 2) {
    return { type, nonce: uint(f[0], "pong nonce"), serverTimeMs: uint(f[1], "pong server_time_ms") };
  }
  if (type === MessageType.ERROR && f.length === 2 && typeof f[1] === "string") {
    const code = uint(f[0], "error code");
    if (code > UINT32_MAX) throw invalid("error code out of range");
    return { type, code, reason: f[1] };
  }
  if (type === MessageType.CHAT && f.length === 3 && typeof f[1] === "string") {
    const channel = uint(f[0], "chat channel");
    if (channel > UINT32_MAX) throw invalid("chat channel out of range");
    if (!isValidChatText(f[2])) throw invalid(`chat text must be 1..${CHAT_MAX_CHARS} printable characters`);
    return { type, channel, sender: f[1], text: f[2] };
  }
  throw invalid(`unexpected server message type ${type}`);
}
