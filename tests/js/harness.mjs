// Runs the browser client's modules on cases read as JSON from stdin and writes the
// results as JSON to stdout, so tests/unit/test_web_client.py can hold them against the
// Python code. Input: {"cases": [{"op": ..., ...}, ...]}; output: {"results": [...]},
// one result per case, in order; a case that throws gives {"error": {name, code, message}}.
//
// Generic CBOR values travel tagged, since JSON cannot tell 2 from 2.0 or hold bytes:
//   {"n": "1.5"} number (String(v), "-0" for negative zero), {"big": "123"} BigInt,
//   {"bytes": "hex"}, {"map": [[k, v], ...]}, {"simple": n}, {"undefined": true};
//   null, booleans, strings and arrays stand for themselves.

import { CborSimple, decode, encode, fromHex, toHex } from "../../clients/web/sdk/cbor.js";
import { ClockEstimator } from "../../clients/web/sdk/clock.js";
import { Interpolator } from "../../clients/web/sdk/interpolation.js";
import { makeMover, pushOutOfCircle, resolveObstacles, roundHalfEven } from "../../clients/web/games/arena/movement.js";
import { arenaPrediction, Predictor } from "../../clients/web/games/arena/prediction.js";
import {
  decodeServerMessage,
  encodeCommand,
  encodeInput,
  encodeJoin,
  encodePing,
} from "../../clients/web/sdk/protocol.js";
import { GameSchema } from "../../clients/web/sdk/schema.js";
import { Session } from "../../clients/web/sdk/session.js";
import { applyDelta } from "../../clients/web/sdk/world.js";
import { ARENA_PLAN, inSteps } from "./arena-plan.mjs";

function tag(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (value === undefined) return { undefined: true };
  if (typeof value === "number") return { n: Object.is(value, -0) ? "-0" : String(value) };
  if (typeof value === "bigint") return { big: value.toString() };
  if (value instanceof Uint8Array) return { bytes: toHex(value) };
  if (value instanceof CborSimple) return { simple: value.value };
  if (Array.isArray(value)) return value.map(tag);
  if (value instanceof Map) return { map: [...value].map(([k, v]) => [tag(k), tag(v)]) };
  throw new Error(`cannot tag ${value}`);
}

function untag(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(untag);
  if ("n" in value) return Number(value.n);
  if ("big" in value) return BigInt(value.big);
  if ("bytes" in value) return fromHex(value.bytes);
  if ("map" in value) return new Map(value.map.map(([k, v]) => [untag(k), untag(v)]));
  if ("simple" in value) return new CborSimple(value.simple);
  if ("undefined" in value) return undefined;
  throw new Error(`cannot untag ${JSON.stringify(value)}`);
}

const worldToJson = (entities) => [...entities].sort((a, b) => a[0] - b[0]);

function predictorState(p) {
  return {
    x: p.x,
    y: p.y,
    ox: p.ox,
    oy: p.oy,
    known: p.known,
    alive: p.alive,
    pending: p.pending.length,
    corrections: p.corrections,
    snaps: p.snaps,
  };
}

const viewsToJson = (views) =>
  [...views].sort((a, b) => a[0] - b[0]).map(([id, v]) => [id, v.x, v.y, v.angle]);

const OPS = {
  cbor_decode: ({ hex }) => tag(decode(fromHex(hex))),

  cbor_encode: ({ value }) => toHex(encode(untag(value))),

  decode_server: ({ hex }) => decodeServerMessage(fromHex(hex)),

  encode_join: ({ role, name, resume }) => toHex(encodeJoin(role, name, resume)),
  encode_input: ({ seq, buttons, aim, ack_tick, view }) =>
    toHex(encodeInput(seq, [buttons, aim], ack_tick, view ?? 0)),
  encode_ping: ({ nonce }) => toHex(encodePing(nonce)),

  round: ({ values }) => values.map(roundHalfEven),

  move: ({ tick_rate, speed, width, height, radius, x, y, buttons, obstacles }) => {
    const mover = makeMover(1 / tick_rate, speed, width, height, radius);
    const moved = mover(x, y, buttons);
    return { moved, resolved: resolveObstacles(moved[0], moved[1], radius, obstacles) };
  },

  push: ({ x, y, radius, cx, cy, cr }) => pushOutOfCircle(x, y, radius, cx, cy, cr),

  delta: ({ baseline, changes, removed }) =>
    worldToJson(applyDelta(new Map(baseline), changes, removed)),

  // Server messages (hex) and locally sent inputs through a Session, as GameClient.handle.
  session: ({ role, steps }) => {
    const session = new Session({ role, prediction: arenaPrediction });
    return steps.map(([kind, ...args]) => {
      try {
        if (kind === "message") session.handle(decodeServerMessage(fromHex(args[0])), 0);
        else if (kind === "input" && session.predictor) session.predictor.applyInput(args[0], [args[1]]);
      } catch (error) {
        return { error: { name: error.name, code: error.code ?? null } };
      }
      return {
        tick: session.tick,
        ack_seq: session.ackSeq,
        entity_id: session.entityId,
        world: worldToJson(session.mirror.entities),
        predicted: session.predictor && session.predictor.predictor.known
          ? [session.predictor.predictor.x, session.predictor.predictor.y]
          : null,
      };
    });
  },

  predict: ({ params, tick_rate, obstacles, smoothing_s, snap_distance, ops }) => {
    const p = new Predictor(params, tick_rate, { smoothingS: smoothing_s, snapDistance: snap_distance });
    p.setObstacles(obstacles);
    return ops.map(([kind, ...args]) => {
      if (kind === "input") p.applyInput(args[0], args[1]);
      else if (kind === "reconcile") p.reconcile(args[0], args[1], args[2], args[3]);
      else if (kind === "render") return { render: p.renderPosition(args[0]), ...predictorState(p) };
      return predictorState(p);
    });
  },

  interpolate: ({ delay_s, max_extrapolation_s, capacity, teleport_speed, ops }) => {
    const interp = new Interpolator(ARENA_PLAN, {
      delayS: delay_s,
      maxExtrapolationS: max_extrapolation_s,
      capacity,
      teleportSpeed: teleport_speed,
    });
    return ops.map(([kind, time, world]) => {
      if (kind === "push") {
        interp.push(time, new Map(world));
        return interp.length;
      }
      return viewsToJson(new Map([...interp.sample(time)].map(([id, view]) => [id, inSteps(view)])));
    });
  },

  // A game's Welcome (protocol 2), then its entity tuples and events decoded by the schema
  // from the Welcome's description; commands and inputs ({field: value}) encoded by it.
  game: ({ welcome, entities, events, commands, inputs }) => {
    const message = decodeServerMessage(fromHex(welcome));
    const schema = GameSchema.fromDescription(message.description);
    const tryOr = (f) => {
      try {
        return f();
      } catch (error) {
        return { error: { name: error.name, code: error.code ?? null, message: error.message } };
      }
    };
    return {
      game: message.game,
      entities: entities.map(([id, tuple]) => tryOr(() => schema.decodeEntity(id, tuple))),
      events: events.map((event) => tryOr(() => schema.decodeEvent(event))),
      commands: commands.map(([name, values]) =>
        tryOr(() => toHex(encodeCommand(...schema.encodeCommand(name, values)))),
      ),
      inputs: inputs.map((values, i) => tryOr(() => toHex(encodeInput(i + 1, schema.encodeInput(values), 0)))),
    };
  },

  clock: ({ window, ops }) => {
    const clock = new ClockEstimator(window);
    return ops.map(([kind, ...args]) => {
      if (kind === "pong") clock.onPong(args[0], args[1], args[2]);
      else if (kind === "snapshot") clock.onSnapshot(args[0], args[1]);
      return { rtt: clock.rttS, offset: clock.offsetS, now: clock.serverNow(args[0]), samples: clock.samples };
    });
  },
};

function run(testCase) {
  const op = OPS[testCase.op];
  if (!op) throw new Error(`unknown op ${testCase.op}`);
  return op(testCase);
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

const { cases } = JSON.parse(await readStdin());
const results = cases.map((testCase) => {
  try {
    return { ok: run(testCase) };
  } catch (error) {
    return { error: { name: error.name, code: error.code ?? null, message: error.message } };
  }
});
process.stdout.write(JSON.stringify({ results }));
