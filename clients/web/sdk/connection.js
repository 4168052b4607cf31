// The WebSocket, joining, matchmaking and reconnecting; clients/_client.py (GameClient._run)
// is the reference.
//
// Theory of operation. States:
//   connecting    the first socket is opening, or joined (or looking for a match) and
//                 waiting for the Welcome;
//   playing / spectating   the Welcome arrived (per role); snapshots flow;
//   reconnecting  the connection ended with a code worth retrying (section 9.1): wait an
//                 exponential backoff with jitter, open a new socket and Join again;
//   closed        for good: left on purpose, a protocol-violation code (never retried),
//                 a local protocol error, or too many failed attempts in a row.
// The Join after a drop carries the last Welcome's resume token (section 4.1), so the
// server can hand back the same entity; a Welcome with the same entity id counts as a
// resume. The reconnecting socket's URL carries it too, as ?resume= instead of ?token=
// and ?seat= (section 1.1): a server with authentication on admits the player on it,
// with no new token. If that socket closes without ever opening (the upgrade refused:
// the entity is gone), the token is dropped and the next attempt uses the original URL. Every connection restarts input seqs at 1 and its mirror from a full snapshot.
// While a socket is open a Ping goes out every second; players also send one Input per
// tick at the Welcome's tick rate, never a burst to catch up after a stall. Chat (Say)
// goes out only between the Welcome and the end of that socket, for players and
// spectators alike; the session keeps the recent Chat messages across reconnections.
// Matchmaking (`mode`): the first socket sends FindMatch instead of Join (section 4.3b).
// The Matched answer names the room's URL, which becomes the URL of every later
// connection; when the room is on another node the server closes with 1000, and the
// next socket goes there at once and joins. A refused FindMatch (Error MATCH_FAILED)
// closes for good with its reason.
// Resume across page loads (`resumeStore`): each Welcome of a player stores the room's
// URL, the resume token and the entity id; a Connection that finds them at start goes
// straight to that room with the token (no matchmaking), as after a dropped connection.
// A page that goes away does not close the socket itself: the browser closes it with
// 1001, which the server treats as a lost connection and holds the entity for
// resume_grace_s. Leaving on purpose (`stop`) closes with 1000 and forgets the token.
// Timers, the clock, randomness, storage and the WebSocket class are injected, so the
// machine runs under test without a browser.

import {
  CloseCode,
  decodeServerMessage,
  encodeFindMatch,
  encodeJoin,
  encodeSay,
  ErrorCode,
  isRetryable,
  MessageType,
  ProtocolError,
  Role,
  sayProblem,
  SUBPROTOCOL,
} from "./protocol.js";
import { Session } from "./session.js";

export const DEFAULT_RECONNECT = Object.freeze({
  maxAttempts: 6, // consecutive failed attempts before giving up
  baseDelayS: 0.25, // delay before the first retry; doubles each time
  maxDelayS: 5,
  jitter: 0.5, // each delay is shortened by a random fraction up to this
});

/** Delay before retry number `attempt` (1-based), as ReconnectPolicy.delay_s. */
export function reconnectDelayS(policy, attempt, random) {
  const delay = Math.min(policy.maxDelayS, policy.baseDelayS * 2 ** (attempt - 1));
  return delay * (1 - policy.jitter * random());
}

/** A code the browser may put in a close frame (1000 or 3000..4999); others become 1000. */
export function browserCloseCode(code) {
  return code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000;
}

const OPEN = 1; // WebSocket.OPEN

/** `url` for a reconnect: ?resume=TOKEN instead of its ?token= and ?seat= (section 1.1). */
export function resumeUrl(url, resumeToken) {
  const parsed = new URL(url);
  for (const name of ["token", "seat", "resume"]) parsed.searchParams.delete(name);
  parsed.searchParams.set("resume", resumeToken);
  return parsed.toString();
}

/**
 * Where a player's resume token is kept across page loads: sessionStorage under `key`
 * (per tab, gone with the tab). Storage can be unavailable (privacy settings): then
 * nothing is kept.
 */
export function sessionResumeStore(key, storage = globalThis.sessionStorage) {
  return {
    load() {
      try {
        const record = JSON.parse(storage.getItem(key) ?? "null");
        return record && typeof record.url === "string" && typeof record.resume === "string" ? record : null;
      } catch {
        return null;
      }
    },
    save(record) {
      try {
        storage.setItem(key, JSON.stringify(record));
      } catch {
        // not kept
      }
    },
    clear() {
      try {
        storage.removeItem(key);
      } catch {
        // nothing kept
      }
    },
  };
}

export class Connection {
  constructor({
    url,
    role = Role.PLAYER,
    name = "player",
    mode = null, // matchmaking: FindMatch for a room of this mode instead of a Join
    reconnect = DEFAULT_RECONNECT, // null: never reconnect
    connectTimeoutS = 5,
    pingIntervalS = 1,
    inputSource = () => null, // the game's input each tick ({field: value}); null: none sent
    inputView = () => false, // whether this tick's input carries the view (section 4.2)
    prediction = null, // the game's prediction hook (prediction.js)
    interpolation = {}, // Interpolator options
    resumeStore = null, // sessionResumeStore(key): resume across page loads
    onChange = () => {},
    onWelcome = () => {},
    onSnapshot = () => {},
    onEvent = () => {},
    onMessage = () => {},
    WebSocketImpl = globalThis.WebSocket,
    now = () => performance.now() / 1000,
    random = Math.random,
    timers = globalThis,
  }) {
    this.url = url;
    this.role = role;
    this.name = name;
    this.mode = mode;
    this.inputView = inputView;
    this.resumeStore = resumeStore;
    this.onWelcomeHook = onWelcome;
    this.onSnapshotHook = onSnapshot;
    this.onEvent = onEvent;
    this.onMessageHook = onMessage;
    this.matchedUrl = null; // the room matchmaking placed us in
    this.reconnect = reconnect;
    this.connectTimeoutS = connectTimeoutS;
    this.pingIntervalS = pingIntervalS;
    this.inputSource = inputSource;
    this.onChange = onChange;
    this.WebSocketImpl = WebSocketImpl;
    this.now = now;
    this.random = random;
    this.timers = timers;
    this.session = new Session({ role, prediction, interpolation });
    this.state = "idle";
    this.ws = null;
    this.attempt = 0; // consecutive failed attempts
    this.reconnects = 0;
    this.resumes = 0;
    this.closeCode = null;
    this.closeReason = null;
    this.lastError = null; // {code, reason}: the latest Error message or local failure
    this.resumeToken = "";
    this.lastEntityId = 0;
    this.joinedWithResume = false;
    this.openedWithResume = false; // the current socket's URL carries ?resume=
    this.socketOpened = false;
    this.fault = null; // set when we close the socket ourselves: {code, reason, retry}
    this.stopping = false;
    this.finishReason = null;
    this.timerIds = { deadline: null, ping: null, input: null, retry: null };
  }

  get entityId() {
    return this.session.entityId;
  }

  /** Whether the current socket is open and its Welcome has arrived. */
  get joined() {
    const ws = this.ws;
    return Boolean(ws && ws.readyState === OPEN && !this.fault && this.session.welcome);
  }

  /**
   * Send a chat line (Say). False, and nothing sent, unless joined, or if the server would
   * refuse the text (see protocol.sayProblem). Beyond the server's chat rate the line is
   * dropped there and an Error CHAT_RATE_LIMITED comes back; the connection stays.
   */
  say(text) {
    if (!this.joined || sayProblem(text) !== null) return false;
    return this.send(encodeSay(text));
  }

  /** Send a game command (by name, with {field: value}); false unless joined. */
  command(command, values = {}) {
    if (!this.joined || this.role !== Role.PLAYER) return false;
    return this.send(this.session.command(command, values));
  }

  start() {
    if (this.state !== "idle") return;
    const stored = this.role === Role.PLAYER && this.resumeStore ? this.resumeStore.load() : null;
    if (stored) {
      // A page load in the middle of a match: back to the same room as the same player.
      this.url = stored.url;
      this.resumeToken = stored.resume;
      this.lastEntityId = stored.entityId ?? 0;
      this.mode = null;
    }
    this.open();
  }

  /** Leave for good: a normal close (1000), no reconnection, the resume token forgotten. */
  stop(reason = "left") {
    if (this.state === "closed") return;
    if (this.resumeStore) this.resumeStore.clear();
    this.stopping = true;
    this.clearTimers();
    const ws = this.ws;
    if (ws) ws.close(CloseCode.NORMAL, reason);
    else this.finish(CloseCode.NORMAL, reason);
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.onChange(state);
  }

  // -------------------------------------------------------------- socket lifecycle

  open() {
    this.session.reset();
    this.fault = null;
    this.setState(this.attempt > 0 ? "reconnecting" : "connecting");
    this.openedWithResume = Boolean(this.resumeToken) && this.role === Role.PLAYER;
    this.socketOpened = false;
    const url = this.openedWithResume ? resumeUrl(this.url, this.resumeToken) : this.url;
    const ws = new this.WebSocketImpl(url, SUBPROTOCOL);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => ws === this.ws && this.onOpen();
    ws.onmessage = (event) => ws === this.ws && this.onMessage(event.data);
    ws.onclose = (event) => ws === this.ws && this.onClose(event.code, event.reason);
    ws.onerror = () => {}; // a close event always follows
    this.setTimer("deadline", this.connectTimeoutS, () =>
      this.abandon("no connection to the server in time"),
    );
  }

  onOpen() {
    this.socketOpened = true;
    this.joinedWithResume = Boolean(this.resumeToken) && this.role === Role.PLAYER;
    const resume = this.joinedWithResume ? this.resumeToken : "";
    if (this.mode && !this.matchedUrl && !resume) this.send(encodeFindMatch(this.mode, this.name));
    else this.send(encodeJoin(this.role, this.name, resume));
    this.setTimer("deadline", this.connectTimeoutS, () =>
      this.abandon("no welcome from the server in time"),
    );
    this.sendPing();
  }

  onMessage(data) {
    let message;
    try {
      message = decodeServerMessage(data);
      this.session.handle(message, this.now());
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.fail(error.code, error.reason);
      return;
    }
    if (message.type === MessageType.WELCOME) this.onWelcome(message);
    else if (message.type === MessageType.SNAPSHOT) {
      this.onSnapshotHook(this.session);
      for (const event of this.session.lastEvents) this.onEvent(event);
    } else if (message.type === MessageType.MATCHED) {
      this.matchedUrl = message.url;
      this.url = message.url; // every later connection goes to the room we were placed in
    } else if (message.type === MessageType.ERROR) {
      this.lastError = { code: message.code, reason: message.reason };
      if (message.code === ErrorCode.MATCH_FAILED && !this.session.welcome) {
        this.stopping = true; // nowhere to play: say why, and do not retry
        this.finishReason = `no match: ${message.reason}`;
        this.closeSocket({ code: null, reason: this.finishReason, retry: false });
      }
    }
    this.onMessageHook(message);
  }

  onWelcome(welcome) {
    this.clearTimer("deadline");
    this.attempt = 0;
    if (this.joinedWithResume && welcome.entityId !== 0 && welcome.entityId === this.lastEntityId) {
      this.resumes += 1;
    }
    this.lastEntityId = welcome.entityId;
    this.resumeToken = welcome.resume;
    if (this.resumeStore && this.role === Role.PLAYER && welcome.resume) {
      this.resumeStore.save({ url: this.url, resume: welcome.resume, entityId: welcome.entityId });
    }
    this.setState(this.role === Role.PLAYER ? "playing" : "spectating");
    this.onWelcomeHook(welcome, this.session);
    const schema = this.session.schema;
    const takesInput = schema ? schema.input !== null : true; // version 1: the page knows
    if (this.role === Role.PLAYER && takesInput) this.startInput(welcome.tickRate);
  }

  onClose(code, reason) {
    this.clearTimers();
    this.ws = null;
    if (this.openedWithResume && !this.socketOpened) this.resumeToken = ""; // refused: start afresh
    const fault = this.fault;
    if (this.stopping) {
      this.finish(code, this.finishReason ?? reason);
      return;
    }
    if (this.matchedUrl && !this.session.welcome && code === CloseCode.NORMAL && !fault) {
      this.setTimer("retry", 0, () => this.open()); // matched on another node: go there
      return;
    }
    if (fault) {
      code = fault.code;
      reason = fault.reason;
    }
    this.closeCode = code;
    this.closeReason = reason || null;
    const retry = fault ? fault.retry : isRetryable(code);
    if (!this.reconnect || !retry) {
      this.finish(code, reason);
      return;
    }
    this.attempt += 1;
    if (this.attempt > this.reconnect.maxAttempts) {
      const gaveUp = `gave up after ${this.attempt - 1} attempts`;
      this.finish(code, reason ? `${gaveUp}: ${reason}` : gaveUp);
      return;
    }
    this.reconnects += 1;
    this.setState("reconnecting");
    const delayS = reconnectDelayS(this.reconnect, this.attempt, this.random);
    this.setTimer("retry", delayS, () => this.open());
  }

  finish(code, reason) {
    this.closeCode = code;
    this.closeReason = reason || null;
    if (this.resumeStore && !isRetryable(code)) this.resumeStore.clear();
    this.setState("closed");
  }

  /** Close the socket ourselves for a protocol error: never retried (clients/_client.py). */
  fail(code, reason) {
    this.lastError = { code, reason };
    this.closeSocket({ code, reason, retry: false });
  }

  /** Give up on this socket (no answer in time) and retry like a lost connection. */
  abandon(reason) {
    this.closeSocket({ code: null, reason, retry: true });
  }

  closeSocket(fault) {
    const ws = this.ws;
    if (!ws || this.fault) return;
    this.fault = fault;
    this.clearTimers();
    const code = fault.code === null ? CloseCode.NORMAL : browserCloseCode(fault.code);
    ws.close(code, fault.reason.slice(0, 100)); // a close reason is at most 123 bytes
  }

  send(bytes) {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN || this.fault) return false;
    ws.send(bytes);
    return true;
  }

  // -------------------------------------------------------------- timers

  setTimer(name, delayS, callback) {
    this.clearTimer(name);
    this.timerIds[name] = this.timers.setTimeout(() => {
      this.timerIds[name] = null;
      callback();
    }, delayS * 1000);
  }

  clearTimer(name) {
    if (this.timerIds[name] !== null) {
      this.timers.clearTimeout(this.timerIds[name]);
      this.timerIds[name] = null;
    }
  }

  clearTimers() {
    for (const name of Object.keys(this.timerIds)) this.clearTimer(name);
  }

  sendPing() {
    this.send(this.session.ping(this.now()));
    this.setTimer("ping", this.pingIntervalS, () => this.sendPing());
  }

  /** One Input per tick, evenly spaced; after a stall the schedule restarts (no burst). */
  startInput(tickRate) {
    const intervalS = 1 / tickRate;
    let dueS = this.now() + intervalS;
    const tick = () => {
      const input = this.inputSource();
      if (input !== null && this.ws && this.ws.readyState === OPEN && !this.fault) {
        const withView = Boolean(this.inputView(input));
        this.send(this.session.nextInput(input, this.now(), { withView }));
      }
      const nowS = this.now();
      dueS += intervalS;
      if (dueS < nowS) dueS = nowS + intervalS;
      this.setTimer("input", dueS - nowS, tick);
    };
    this.setTimer("input", intervalS, tick);
  }
}
