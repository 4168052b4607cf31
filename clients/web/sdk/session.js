// What one client knows about a game, fed by decoded server messages; clients/_client.py
// (GameClient.handle and friends) is the reference.
//
// Pure apart from the times passed in (seconds on the page's monotonic clock): the
// Welcome and the game's schema from its description, the world mirror, the clock
// estimate, the game's own prediction (a hook: see prediction.js), interpolation of the
// fields the schema marks, the recent events and the chat. One Session lives as long as
// the page; `reset()` starts a new connection (new mirror, seq from 1 again), while the
// clock estimate and the chat history carry over.

import { ClockEstimator } from "./clock.js";
import { defaultDelayS, Interpolator, interpolationPlan } from "./interpolation.js";
import { encodeCommand, encodeInput, encodePing, ErrorCode, MessageType, Role } from "./protocol.js";
import { GameSchema, roundHalfEven } from "./schema.js";
import { DecodedWorld, Mirror } from "./world.js";

const EVENT_HISTORY = 256;
export const CHAT_HISTORY = 50;

/**
 * The (fractional) server tick of what is rendered at `renderTimeS` (server seconds), from
 * the newest snapshot's tick and server time; never below 0. As GameClient.view_tick.
 */
export function viewTick(tick, serverTimeMs, renderTimeS, tickRate) {
  const behindS = serverTimeMs / 1000 - renderTimeS;
  return Math.max(0, tick - behindS * tickRate);
}

export class Session {
  /**
   * `prediction({welcome, schema})`: the game's prediction hook, called at each Welcome
   * of a player; returns a predictor (prediction.js) or null. `interpolation`: options of
   * the Interpolator (delayS defaults to three snapshot intervals); `interpolate: false`
   * turns it off.
   */
  constructor({ role = Role.PLAYER, prediction = null, interpolate = true, interpolation = {} } = {}) {
    this.role = role;
    this.prediction = prediction;
    this.interpolate = interpolate;
    this.interpolation = interpolation;
    this.clock = new ClockEstimator();
    this.events = []; // decoded events (raw arrays without a schema), newest last, bounded
    this.errors = []; // Error messages ({code, reason}), non-fatal
    this.chat = []; // Chat messages ({channel, sender, text}), oldest first, bounded
    this.chatReceived = 0; // every Chat message ever, so a view can tell when to redraw
    this.chatRateLimited = 0; // Says the server dropped (Error CHAT_RATE_LIMITED)
    this.rttsS = []; // every pong's round trip, newest last, bounded
    this.snapshotsReceived = 0;
    this.schema = null;
    this.decoded = null;
    this.reset();
  }

  /** A new connection: everything but the clock, the schema and the history starts over. */
  reset() {
    this.welcome = null;
    this.mirror = new Mirror();
    this.serverTimeMs = 0;
    this.ackSeq = 0;
    this.seq = 0;
    this.predictor = null;
    this.interpolator = null;
    this.lastRenderS = -Infinity;
    this.renderDelayS = 0;
    this.lastEvents = [];
  }

  get entityId() {
    return this.welcome ? this.welcome.entityId : 0;
  }

  get tick() {
    return this.mirror.tick;
  }

  /** The own entity's wire tuple in the mirror, or null. */
  get me() {
    return this.entityId ? (this.mirror.entities.get(this.entityId) ?? null) : null;
  }

  /** Every entity, decoded by the schema ({id, type, kind, ...fields}), in id order. */
  entities() {
    return this.decoded ? this.decoded.all(this.mirror.entities) : [];
  }

  /** One entity decoded, or null. */
  entity(id) {
    const tuple = this.mirror.entities.get(id);
    return tuple && this.decoded ? this.decoded.entity(id, tuple) : null;
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
    if (welcome.description !== null) {
      this.schema = GameSchema.fromDescription(welcome.description);
      this.decoded = new DecodedWorld(this.schema);
    }
    this.predictor = null;
    if (this.prediction && this.role === Role.PLAYER) {
      this.predictor = this.prediction({ welcome, schema: this.schema }) ?? null;
    }
    this.interpolator = null;
    // Entities are drawn this far in the past whether or not anything is interpolated, so
    // an Input's view (the tick on screen) means the same for every game.
    const options = { delayS: defaultDelayS(welcome.snapshotRate), ...this.interpolation };
    this.renderDelayS = this.interpolate ? options.delayS : 0;
    if (this.interpolate && this.schema) {
      this.interpolator = new Interpolator(interpolationPlan(this.schema), options);
    }
  }

  onSnapshot(snapshot, nowS) {
    const mirror = this.mirror;
    mirror.apply(snapshot);
    this.serverTimeMs = snapshot.serverTimeMs;
    this.ackSeq = snapshot.ackSeq;
    const schema = this.schema;
    this.lastEvents = schema ? snapshot.events.map((event) => schema.decodeEvent(event)) : snapshot.events;
    for (const event of this.lastEvents) this.events.push(event);
    if (this.events.length > EVENT_HISTORY) this.events.splice(0, this.events.length - EVENT_HISTORY);
    this.snapshotsReceived += 1;
    const serverTimeS = snapshot.serverTimeMs / 1000;
    this.clock.onSnapshot(nowS, serverTimeS);
    if (this.interpolator) this.interpolator.push(serverTimeS, mirror.entities);
    if (this.predictor) {
      this.predictor.reconcile({ session: this, me: this.me, ackSeq: snapshot.ackSeq, full: snapshot.baselineTick === 0 });
    }
  }

  /** The tick rendered now (see viewTick); 0 before the Welcome or the first snapshot. */
  viewTick(nowS) {
    if (!this.welcome || !this.tick) return 0;
    return viewTick(this.tick, this.serverTimeMs, this.renderTimeS(nowS), this.welcome.tickRate);
  }

  /**
   * The next Input's bytes (seq advances; the prediction takes the step). `input`:
   * the game's input as {field: value} (or wire values in field order, without a schema).
   * `withView`: the Input carries the view (section 4.2): the tick rendered at `nowS`, × 256.
   */
  nextInput(input, nowS = 0, { withView = false } = {}) {
    const wire = this.schema ? this.schema.encodeInput(input) : input;
    this.seq += 1;
    const view = withView ? roundHalfEven(this.viewTick(nowS) * 256) : 0;
    const bytes = encodeInput(this.seq, wire, this.mirror.tick, view);
    if (this.predictor) this.predictor.applyInput(this.seq, wire, input);
    return bytes;
  }

  /** A Command's bytes: `command` by name (or kind), `values` as {field: value}. */
  command(command, values = {}) {
    if (!this.schema) throw new RangeError("no game description yet: commands need the Welcome");
    const [kind, args] = this.schema.encodeCommand(command, values);
    return encodeCommand(kind, args);
  }

  /** A Ping whose nonce is the local clock in ms (the Pong's round trip needs no table). */
  ping(nowS) {
    return encodePing(Math.max(0, Math.round(nowS * 1000)));
  }

  /** Server time at which to draw interpolated entities now; never goes backwards. */
  renderTimeS(nowS) {
    const target = this.clock.serverNow(nowS) - this.renderDelayS;
    if (target < this.lastRenderS) return this.lastRenderS;
    this.lastRenderS = target;
    return target;
  }

  /** Interpolated fields (Map id -> {field: value}) of every entity with any. */
  interpolated(nowS) {
    return this.interpolator ? this.interpolator.sample(this.renderTimeS(nowS)) : new Map();
  }
}
