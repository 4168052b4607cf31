// The benchmark game's viewer: every BenchPlayer as a dot with its heading, drawn from the
// SDK's interpolation. It watches (a spectator) unless opened with `?play`: then the
// arrow keys are the input (dx, dy) and the own dot is predicted with the game's step,
// through the SDK's replayPrediction hook.
//
// window.game (ui/page.js) has, besides the common view:
//   me          the predicted own player {x, y}, or null

import { connectPage, isValidName, replayPrediction } from "../../sdk/index.js";
import { chooseName, gameView, setPageState, storedName } from "../../ui/page.js";

const WORLD = 1000; // world units per side (gameserver/games/bench)
const SPEED = 200; // world units per second, per axis
const KEYS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

/** The bench's step for one player (its rules' move phase; the angle is the server's). */
export function benchStep(state, input, { dtS }) {
  const clamp = (v) => Math.min(WORLD, Math.max(0, v));
  if (!input.dx && !input.dy) return state;
  return { ...state, x: clamp(state.x + input.dx * SPEED * dtS), y: clamp(state.y + input.dy * SPEED * dtS) };
}

const page = { state: "idle", connection: null, code: null, closeCode: null, closeReason: null };
const held = new Set();
const canvas = document.getElementById("bench-view");
const play = new URLSearchParams(location.search).has("play");
const playQuery = new URLSearchParams(location.search);
playQuery.set("play", "");
document.getElementById("play-link").href = `?${playQuery}`;

window.game = gameView(page, {
  get me() {
    const state = page.connection?.session.predictor?.state;
    return state ? { x: state.x, y: state.y } : null;
  },
});

function input() {
  let dx = 0;
  let dy = 0;
  for (const key of held) {
    dx += KEYS[key][0];
    dy += KEYS[key][1];
  }
  return { dx: Math.sign(dx), dy: Math.sign(dy) };
}

function draw() {
  const session = page.connection?.session;
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  if (session) {
    const scale = Math.min(width, height) / WORLD;
    const poses = session.interpolated(performance.now() / 1000);
    const mine = window.game.me;
    const players = session.entities();
    for (const player of players) {
      const isMe = player.id === session.entityId;
      const pose = isMe && mine ? { ...player, ...mine } : { ...player, ...poses.get(player.id) };
      const x = pose.x * scale;
      const y = pose.y * scale;
      ctx.fillStyle = isMe ? "#38bdf8" : "#f97066";
      ctx.beginPath();
      ctx.arc(x, y, 3, 0, 2 * Math.PI);
      ctx.fill();
      ctx.strokeStyle = ctx.fillStyle;
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(x + Math.cos(pose.angle) * 8, y + Math.sin(pose.angle) * 8);
      ctx.stroke();
    }
    document.getElementById("count").textContent = String(players.length);
    document.getElementById("tick").textContent = String(session.tick);
  }
  document.getElementById("state").textContent = page.state;
  requestAnimationFrame(draw);
}

const setState = (state) => setPageState(state, page);

async function start() {
  setState("idle");
  const stored = storedName();
  const name = play ? await chooseName() : isValidName(stored) ? stored : "viewer";
  setState("connecting");
  try {
    page.connection = (
      await connectPage({
        location,
        name,
        spectate: !play,
        inputSource: input,
        prediction: replayPrediction(benchStep),
        onChange: setState,
      })
    ).connection;
  } catch (error) {
    page.closeReason = error.message;
    setState("closed");
  }
  window.addEventListener("keydown", (event) => {
    if (KEYS[event.code]) {
      held.add(event.code);
      event.preventDefault();
    }
  });
  window.addEventListener("keyup", (event) => held.delete(event.code));
  window.addEventListener("blur", () => held.clear());
  requestAnimationFrame(draw);
}

start();
