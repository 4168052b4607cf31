// The arena's page: its drawing, its input and its prediction on the SDK.
//
// window.game (ui/page.js) has, besides the common view:
//   me          predicted own position {x, y} in world units, or null
//   entities()  as the common view, with `kind` "player" | "projectile" | "obstacle"
//   fps         frames drawn per second

import { connectPage } from "../../sdk/index.js";
import { ChatPanel } from "../../ui/chat.js";
import { chooseName, gameView, pollRoster, roomOf, setPageState } from "../../ui/page.js";
import { Hud, scoreRows } from "./hud.js";
import { attachInput, Buttons, InputState } from "./input.js";
import { arenaPrediction } from "./prediction.js";
import { Renderer } from "./render.js";

const SCOREBOARD_INTERVAL_S = 0.25;
const FPS_WINDOW_S = 1;
const SHOT_HISTORY = 32;

const canvas = document.getElementById("arena");
const renderer = new Renderer(canvas);
const hud = new Hud(document);
const input = new InputState();
const chat = new ChatPanel(document, {
  say: (text) => window.game.say(text),
  onOpen: () => input.releaseAll(), // held keys stop moving the player while typing
});
const page = {
  state: "idle",
  connection: null,
  code: null,
  closeCode: null,
  closeReason: null,
  roster: [],
  names: new Map(), // entity id -> display name, from the roster
  shots: [], // hitscan Shot events as {shooter, x, y, receivedS}, newest last
  fps: 0,
};

const setState = (state) => setPageState(state, page);

function nowS() {
  return performance.now() / 1000;
}

function predictedPosition(elapsedS = 0) {
  const predictor = page.connection?.session.predictor?.predictor;
  return predictor && predictor.known ? predictor.renderPosition(elapsedS) : null;
}

window.game = gameView(page, {
  get me() {
    const at = predictedPosition(0);
    if (at) return { x: at[0], y: at[1] };
    const me = page.connection?.session.entity(page.connection.entityId);
    return me ? { x: me.x, y: me.y } : null;
  },
  entities() {
    const session = page.connection?.session;
    return session ? session.entities().map((e) => ({ ...e, kind: e.type.toLowerCase() })) : [];
  },
  get fps() {
    return page.fps;
  },
});

function onEvent(event) {
  if (event.type !== "Shot") return;
  page.shots.push({ shooter: event.shooter, x: event.end_x, y: event.end_y, receivedS: nowS() });
  if (page.shots.length > SHOT_HISTORY) page.shots.shift();
}

function closeBeforeStart(reason) {
  page.closeReason = reason;
  setState("closed");
  hud.update({ pingMs: null, tick: 0, fps: 0, state: "closed", closeCode: null, closeReason: reason, rows: [] });
}

async function start() {
  setState("idle");
  const name = await chooseName();
  setState("connecting");
  let connection;
  try {
    ({ connection, code: page.code } = await connectPage({
      location,
      name,
      inputSource: () => input.sample(),
      inputView: (controls) => controls.buttons & Buttons.HITSCAN, // judged where seen
      prediction: arenaPrediction,
      onChange: setState,
      onEvent,
    }));
  } catch (error) {
    closeBeforeStart(error.message);
    return;
  }
  page.connection = connection;
  const updateAim = attachInput(input, canvas, {
    toWorld: (x, y) => renderer.toWorld(x, y),
    origin: () => predictedPosition(0),
  });
  chat.attach(window);
  pollRoster(
    () => roomOf(connection),
    (roster) => {
      page.roster = roster;
      page.names = new Map(roster.map((entry) => [entry.entity_id, entry.name]));
    },
  );
  requestAnimationFrame((t) => frame(t, updateAim));
}

// -------------------------------------------------------------- every frame

let lastFrameS = null;
let fpsWindowStartS = null;
let framesInWindow = 0;
let lastScoreboardS = -Infinity;
let rows = [];

function frame(_timestamp, updateAim) {
  const connection = page.connection;
  const now = nowS();
  const elapsedS = lastFrameS === null ? 0 : now - lastFrameS;
  lastFrameS = now;
  if (fpsWindowStartS === null) fpsWindowStartS = now;
  framesInWindow += 1;
  if (now - fpsWindowStartS >= FPS_WINDOW_S) {
    page.fps = framesInWindow / (now - fpsWindowStartS);
    fpsWindowStartS = now;
    framesInWindow = 0;
  }
  const session = connection.session;
  const me = predictedPosition(elapsedS);
  updateAim();
  renderer.draw({ session, remote: session.interpolated(now), me, names: page.names, shots: page.shots, nowS: now });
  if (now - lastScoreboardS >= SCOREBOARD_INTERVAL_S) {
    lastScoreboardS = now;
    rows = scoreRows(session.entities(), page.roster, session.entityId);
  }
  hud.update({
    pingMs: window.game.pingMs,
    tick: session.tick,
    fps: page.fps,
    state: page.state,
    closeCode: connection.closeCode,
    closeReason: connection.closeReason,
    rows,
  });
  chat.update(session);
  requestAnimationFrame((t) => frame(t, updateAim));
}

start();
