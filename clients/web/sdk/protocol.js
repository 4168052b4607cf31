// Protocol v2 messages (docs/protocol.md sections 4 and 9); gameserver/protocol/ is the reference.
//
// Client messages are encoded from plain arguments (validated: the server closes the
// connection for any out-of-range field); server messages decode into plain objects
// whose `type` is a MessageType. Decoding raises ProtocolError carrying the close code
// the Python client would close with. What a game's integers mean is not decoded here:
// the Welcome's description (schema.js) does that.

import { CborError, decode, encode } from "./cbor.js";

export const PROTOCOL_VERSION = 2;
export const SUBPROTOCOL = `gameserver.v${PROTOCOL_VERSION}`;

export const MessageType = Object.freeze({
  JOIN: 1,
  INPUT: 2,
  PING: 3,
  SAY: 4,
  FIND_MATCH: 5,
  COMMAND: 6,
  WELCOME: 16,
  SNAPSHOT: 17,
  PONG: 18,
  ERROR: 19,
  CHAT: 20,
  MATCHED: 21,
});

export const Role = Object.freeze({ PLAYER: 0, SPECTATOR: 1 });

export const ErrorCode = Object.freeze({
  SPECTATOR_INPUT: 1,
  RESUME_REFUSED: 2,
  CHAT_RATE_LIMITED: 3,
  MATCH_FAILED: 4,
  COMMAND_DROPPED: 5,
});

/** Chat channels; a client shows any other channel as ordinary chat. */
export const ChatChannel = Object.freeze({ GLOBAL: 0, ANNOUNCEMENT: 1 });

export const UINT32_MAX = 2 ** 32 - 1;
export const NONCE_MAX = 2 ** 53 - 1;
export const SAFE_INT_MAX = Number.MAX_SAFE_INTEGER;
// Input view: a tick in 1/256 steps (uint32 tick, the fraction in the low byte).
export const VIEW_MAX = UINT32_MAX * 256 + 255;
export const NAME_MAX_CHARS = 32;
export const RESUME_TOKEN_MAX_CHARS = 64;
export const CHAT_MAX_CHARS = 200;
// The server closes with 1009 for a client message longer than this.
export const CLIENT_MESSAGE_MAX_BYTES = 256;

// Server messages nest at most 7 deep: Welcome -> description -> entities -> one type ->
// fields -> one field -> members (section 2.2).
const SERVER_MAX_DEPTH = 7;
const MODE_PATTERN = /^[a-z0-9_-]{1,24}$/;

/** Close codes (section 9.1) with whether reconnecting can help (clients/_client.py). */
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
  /** `code`: the close code to send, as in gameserver/protocol/_errors.py. */
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
 * Input [2, seq, *fields, ack_tick] or, with a view (the tick the player was looking at,
 * times 256), [2, seq, *fields, ack_tick, view]. `fields` are wire values (ints or texts)
 * in the order of the description's input fields (schema.js encodes them); a view of 0
 * is left out.
 */
export function encodeInput(seq, fields, ackTick, view = 0) {
  const message = [MessageType.INPUT, checkInt(seq, 1, UINT32_MAX, "input seq")];
  for (const value of fields) message.push(wireValue(value, "input field"));
  message.push(checkInt(ackTick, 0, UINT32_MAX, "input ack_tick"));
  if (checkInt(view, 0, VIEW_MAX, "input view") !== 0) message.push(view);
  return encode(message);
}

/** Command [6, kind, *args]: `args` are wire values in the command's field order. */
export function encodeCommand(kind, args = []) {
  const message = [MessageType.COMMAND, checkInt(kind, 0, UINT32_MAX, "command kind")];
  for (const value of args) message.push(wireValue(value, "command argument"));
  return checkSize(encode(message), "command");
}

/** FindMatch [5, mode, name]: matchmaking on this connection, sent instead of a Join. */
export function encodeFindMatch(mode, name) {
  if (typeof mode !== "string" || !MODE_PATTERN.test(mode)) {
    throw new RangeError("a mode is 1..24 of a-z 0-9 - _");
  }
  if (!isValidName(name)) {
    throw new RangeError(`name must be 1..${NAME_MAX_CHARS} printable characters`);
  }
  return encode([MessageType.FIND_MATCH, mode, name]);
}

function wireValue(value, what) {
  if (typeof value === "string") return value;
  return checkInt(value, -SAFE_INT_MAX, SAFE_INT_MAX, what);
}

function checkSize(bytes, what) {
  if (bytes.length > CLIENT_MESSAGE_MAX_BYTES) {
    throw new RangeError(`${what} is ${bytes.length} bytes, at most ${CLIENT_MESSAGE_MAX_BYTES} are allowed`);
  }
  return bytes;
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

const isWireValue = (value) => Number.isSafeInteger(value) || typeof value === "string";

/** Entity changes and events: arrays of ints, and texts where the game says `text`. */
function nestedValueLists(value, what) {
  if (!Array.isArray(value)) throw invalid(`${what} must be an array`);
  for (const entry of value) {
    if (!Array.isArray(entry)) throw invalid(`${what} must be arrays`);
    if (entry.some((item) => Array.isArray(item) || item instanceof Map)) {
      // As the Python client: deeper than a snapshot's shape is not its payload at all.
      throw new ProtocolError(CloseCode.INVALID_PAYLOAD, `${what}: nested too deep`);
    }
    if (!entry.every(isWireValue)) throw invalid(`${what} must be arrays of integers and texts`);
  }
  return value;
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
 *    worldHeight, tick, game, params, resume, description}   (description: the raw Map of
 *    item 11, or null from a version 1 server; schema.js reads it)
 *   {type: SNAPSHOT, tick, baselineTick, serverTimeMs, ackSeq, changes, removed, events}
 *   {type: PONG, nonce, serverTimeMs}
 *   {type: ERROR, code, reason}
 *   {type: CHAT, channel, sender, text}   (any channel number: unknown ones are chat)
 *   {type: MATCHED, room, url}
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
      changes: nestedValueLists(f[4], "snapshot changes"),
      removed: intList(f[5], "snapshot removed"),
      events: nestedValueLists(f[6], "snapshot events"),
    };
  }
  if (type === MessageType.WELCOME && (f.length === 10 || f.length === 11)) {
    if (typeof f[7] !== "string" || typeof f[9] !== "string") {
      throw invalid("welcome game and resume must be text");
    }
    const description = f.length === 11 ? f[10] : null;
    if (description !== null && !(description instanceof Map)) {
      throw invalid("welcome game description must be a map");
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
      description,
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
  if (type === MessageType.MATCHED && f.length === 2) {
    if (typeof f[0] !== "string" || typeof f[1] !== "string") throw invalid("matched room and url must be text");
    return { type, room: f[0], url: f[1] };
  }
  throw invalid(`unexpected server message type ${type}`);
}
