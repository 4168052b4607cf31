// What one client knows about the game, fed by decoded server messages; clients/client.py (GameClient.handle and friends) is the reference.
//
// Pure apart from the times passed in (seconds on the page's monotonic clock): the
// Welcome, the world mirror, the clock estimate, prediction of the own player,
// interpolation of the others and the recent chat. One Session lives as long as the
// page; `reset()` starts a new connection (new mirror, seq from 1 again), while the clock
// estimate and the chat history carry over.

import { ClockEstimator } from "./clock.js";
import { Buttons } from "./input.js";
import { defaultDelayS, Interpolator } from "./interpolation.js";
import { roundHalfEven } from "./movement.js";
import { Predictor } from "./prediction.js";
import { encodeInput, encodePing, ErrorCode, MessageType, Role } from "./protocol.js";
import { EventKind, Mirror, POSITION_SCALE } from "./world.js";

const EVENT_HISTORY = 256;
const SHOT_HISTORY = 32;
export const CHAT_HISTORY = 50;
const ARENA = "arena";
// Arena params prediction needs; a Welcome without them is not predicted.
const PREDICTION_PARAMS = ["width", "height", "player_radius", "player_speed"];

/**
 * The (fractional) server tick of what is rendered at `renderTimeS` (server seconds), from
 * the newest snapshot's tick and server time; never below 0. As GameClient.view_tick.
 */
export function viewTick(tick, serverTimeMs, renderTimeS, tickRate) {
  const behindS = serverTimeMs / 1000 - renderTimeS;
  return Math.max(0, tick - behindS * tickRate);
}

export class Session {
  constructor({ role = Role.PLAYER, predict = true, interpolate = true } = {}) {
    this.role = role;
    this.predict = predict;
    this.interpolate = interpolate;
    this.clock = new ClockEstimator();
    this.events = []; // [tick, kind, ...args], newest last, bounded
    this.shots = []; // SHOT events as {shooterId, targetId, x, y, receivedS}, newest last, bounded
    this.errors = []; // Error messages ({code, reason}), non-fatal
    this.chat = []; // Chat messages ({channel, sender, text}), oldest first, bounded
    this.chatReceived = 0; // every Chat message ever, so a view can tell when to redraw
    this.chatRateLimited = 0; // Says the server dropped (Error CHAT_RATE_LIMITED)
    this.rttsS = []; // every pong's round trip, newest last, bounded
    this.snapshotsReceived = 0;
    this.reset();
  }

  /** A new connection: everything but the clock and the history starts over. */
  reset() {
    this.welcome = null;
    this.mirror = new Mirror();
    this.serverTimeMs = 0;
    this.ackSeq = 0;
    this.seq = 0;
    this.predictor = null;
    this.interpolator = null;
    this.lastRenderS = -Infinity;
  }

  get entityId() {
    return this.welcome ? this.welcome.entityId : 0;
  }

  get tick() {
    return this.mirror.tick;
  }

  /** The own player's wire tuple in the mirror, or null. */
  get me() {
    return this.entityId ? (this.mirror.entities.get(this.entityId) ?? null) : null;
  }

  /** Apply one decoded server message; throws ProtocolError (DeltaError) on a mismatch. */
  handle(message, nowS) {
    switch (message.type) {
      case MessageType.SNAPSHOT:
        this.onSnapshot(message, nowS);
        break;
      case MessageType.WELCOME:
        this.onWelcome(message);
        break;
      case MessageType.PONG: {
        const sentS = message.nonce / 1000;
        this.rttsS.push(nowS - sentS);
        if (this.rttsS.length > EVENT_HISTORY) this.rttsS.shift();
        this.clock.onPong(sentS, nowS, message.serverTimeMs / 1000);
        break;
      }
      case MessageType.ERROR:
        this.errors.push({ code: message.code, reason: message.reason });
        if (this.errors.length > EVENT_HISTORY) this.errors.shift();
        if (message.code === ErrorCode.CHAT_RATE_LIMITED) this.chatRateLimited += 1;
        break;
      case MessageType.CHAT:
        this.chat.push({ channel: message.channel, sender: message.sender, text: message.text });
        if (this.chat.length > CHAT_HISTORY) this.chat.splice(0, this.chat.length - CHAT_HISTORY);
        this.chatReceived += 1;
        break;
      default:
        break;
    }
  }

  onWelcome(welcome) {
    this.welcome = welcome;
    this.predictor = null;
    const params = welcome.params;
    const predictable = PREDICTION_PARAMS.every((key) => typeof params[key] === "number");
    if (this.predict && this.role === Role.PLAYER && welcome.game === ARENA && predictable) {
      this.predictor = new Predictor(params, welcome.tickRate);
    }
    this.interpolator = this.interpolate
      ? new Interpolator({ delayS: defaultDelayS(welcome.snapshotRate) })
      : null;
  }

  onSnapshot(snapshot, nowS) {
    const mirror = this.mirror;
    mirror.apply(snapshot);
    this.serverTimeMs = snapshot.serverTimeMs;
    this.ackSeq = snapshot.ackSeq;
    for (const event of snapshot.events) {
      this.events.push(event);
      if (event[1] === EventKind.SHOT && event.length >= 6) {
        const [, , shooterId, targetId, xQ, yQ] = event;
        this.shots.push({ shooterId, targetId, x: xQ / POSITION_SCALE, y: yQ / POSITION_SCALE, receivedS: nowS });
      }
    }
    if (this.shots.length > SHOT_HISTORY) this.shots.splice(0, this.shots.length - SHOT_HISTORY);
    if (this.events.length > EVENT_HISTORY) this.events.splice(0, this.events.length - EVENT_HISTORY);
    this.snapshotsReceived += 1;
    const serverTimeS = snapshot.serverTimeMs / 1000;
    this.clock.onSnapshot(nowS, serverTimeS);
    if (this.interpolator) this.interpolator.push(serverTimeS, mirror.entities);
    const predictor = this.predictor;
    if (predictor) {
      if (snapshot.baselineTick === 0) predictor.setObstaclesFromWorld(mirror.entities);
      const me = this.me;
      if (me) predictor.reconcileWire(me, snapshot.ackSeq);
    }
  }

  /** The tick rendered now (see viewTick); 0 before the Welcome or the first snapshot. */
  viewTick(nowS) {
    if (!this.welcome || !this.tick) return 0;
    return viewTick(this.tick, this.serverTimeMs, this.renderTimeS(nowS), this.welcome.tickRate);
  }

  /**
   * The next Input frame's bytes (seq advances; the prediction takes the step). A frame
   * with HITSCAN held carries the view (section 7.7): the tick rendered at `nowS`, × 256.
   */
  nextInput(buttons, aim, nowS = 0) {
    this.seq += 1;
    const view = buttons & Buttons.HITSCAN ? roundHalfEven(this.viewTick(nowS) * 256) : 0;
    const bytes = encodeInput(this.seq, buttons, aim, this.mirror.tick, view);
    if (this.predictor) this.predictor.applyInput(this.seq, buttons);
    return bytes;
  }

  /** A Ping whose nonce is the local clock in ms (the Pong's round trip needs no table). */
  ping(nowS) {
    return encodePing(Math.max(0, Math.round(nowS * 1000)));
  }

  /** Server time at which to draw remote entities now; never goes backwards. */
  renderTimeS(nowS) {
    const delay = this.interpolator ? this.interpolator.delayS : 0;
    const target = this.clock.serverNow(nowS) - delay;
    if (target < this.lastRenderS) return this.lastRenderS;
    this.lastRenderS = target;
    return target;
  }

  /** Interpolated poses (Map id -> {x, y, angle}) of every moving entity. */
  remoteView(nowS) {
    return this.interpolator ? this.interpolator.sample(this.renderTimeS(nowS)) : new Map();
  }

  /** The own player's smoothed predicted position [x, y], or null before it is known. */
  predictedPosition(elapsedS = 0) {
    const predictor = this.predictor;
    if (!predictor || !predictor.known) return null;
    return predictor.renderPosition(elapsedS);
  }
}
