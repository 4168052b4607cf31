// The WebSocket, joining and reconnecting; clients/client.py (GameClient._run) is the reference.
//
// Theory of operation. States:
//   connecting    the first socket is opening, or joined and waiting for the Welcome;
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
// Timers, the clock, randomness and the WebSocket class are injected, so the machine
// runs under test without a browser.

import {
  CloseCode,
  decodeServerMessage,
  encodeJoin,
  encodeSay,
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

export class Connection {
  constructor({
    url,
    role = Role.PLAYER,
    name = "player",
    reconnect = DEFAULT_RECONNECT, // null: never reconnect
    connectTimeoutS = 5,
    pingIntervalS = 1,
    inputSource = () => ({ buttons: 0, aim: 0 }),
    onChange = () => {},
    WebSocketImpl = globalThis.WebSocket,
    now = () => performance.now() / 1000,
    random = Math.random,
    timers = globalThis,
  }) {
    this.url = url;
    this.role = role;
    this.name = name;
    this.reconnect = reconnect;
    this.connectTimeoutS = connectTimeoutS;
    this.pingIntervalS = pingIntervalS;
    this.inputSource = inputSource;
    this.onChange = onChange;
    this.WebSocketImpl = WebSocketImpl;
    this.now = now;
    this.random = random;
    this.timers = timers;
    this.session = new Session({ role });
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

  start() {
    if (this.state !== "idle") return;
    this.open();
  }

  /** Leave for good: a normal close (1000), no reconnection. */
  stop(reason = "left") {
    if (this.state === "closed") return;
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
    this.send(encodeJoin(this.role, this.name, resume));
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
    else if (message.type === MessageType.ERROR) this.lastError = { code: message.code, reason: message.reason };
  }

  onWelcome(welcome) {
    this.clearTimer("deadline");
    this.attempt = 0;
    if (this.joinedWithResume && welcome.entityId !== 0 && welcome.entityId === this.lastEntityId) {
      this.resumes += 1;
    }
    this.lastEntityId = welcome.entityId;
    this.resumeToken = welcome.resume;
    this.setState(this.role === Role.PLAYER ? "playing" : "spectating");
    if (this.role === Role.PLAYER) this.startInput(welcome.tickRate);
  }

  onClose(code, reason) {
    this.clearTimers();
    this.ws = null;
    if (this.openedWithResume && !this.socketOpened) this.resumeToken = ""; // refused: start afresh
    const fault = this.fault;
    if (this.stopping) {
      this.finish(code, reason);
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
    this.setState("closed");
  }

  /** Close the socket ourselves for a protocol error: never retried (clients/client.py). */
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
      const { buttons, aim } = this.inputSource();
      if (this.ws && this.ws.readyState === OPEN && !this.fault) {
        this.send(this.session.nextInput(buttons, aim, this.now()));
      }
      const nowS = this.now();
      dueS += intervalS;
      if (dueS < nowS) dueS = nowS + intervalS;
      this.setTimer("input", dueS - nowS, tick);
    };
    this.setTimer("input", intervalS, tick);
  }
}
