// The game page: name form, connection, input loop, rendering, HUD, chat and window.game.
//
// window.game is a read-only view for tools and browser tests:
//   state       "idle" (name form shown) | "connecting" | "playing" | "spectating" |
//               "reconnecting" | "closed"; <body data-state> mirrors it
//   entityId    own entity id (0 for a spectator or before the Welcome)
//   tick        tick of the newest applied snapshot
//   me          predicted own position {x, y} in world units, or null
//   entities()  the mirror as [{id, kind, x, y, ...}] in world units (world.js describe)
//   resumes     Welcomes after a drop that gave back the same entity
//   closeCode, closeReason, lastError ({code, reason} of the latest Error message or
//   local protocol failure), fps, pingMs (median round trip, null before a pong)
//   chat()      the recent Chat messages as [{channel, sender, text}], oldest first (50 at most)
//   say(text)   send a chat line; false (nothing sent) unless joined or if the text is invalid

import { ChatPanel } from "./chat.js";
import { Connection } from "./connection.js";
import { Hud, scoreRows } from "./hud.js";
import { attachInput, InputState } from "./input.js";
import { DEFAULT_INFO, mergeInfo, NAME_STORAGE_KEY, parsePageOptions, webSocketUrl } from "./options.js";
import { isValidName, Role, SUBPROTOCOL } from "./protocol.js";
import { Renderer } from "./render.js";
import { describeWorld, POSITION_SCALE } from "./world.js";

const ROSTER_INTERVAL_MS = 2000;
const SCOREBOARD_INTERVAL_S = 0.25;
const FPS_WINDOW_S = 1;
const ROOM = "default";

const options = parsePageOptions(location.search);
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
  closeCode: null,
  closeReason: null,
  roster: [],
  names: new Map(), // entity id -> display name, from the roster
  fps: 0,
};

function setState(state) {
  page.state = state;
  document.body.dataset.state = state;
}

function nowS() {
  return performance.now() / 1000;
}

// -------------------------------------------------------------- window.game

function predictedMe() {
  const connection = page.connection;
  if (!connection) return null;
  const predictor = connection.session.predictor;
  if (predictor && predictor.known) return { x: predictor.x, y: predictor.y };
  const tuple = connection.session.me;
  return tuple ? { x: tuple[1] / POSITION_SCALE, y: tuple[2] / POSITION_SCALE } : null;
}

window.game = Object.freeze({
  get state() {
    return page.state;
  },
  get entityId() {
    return page.connection ? page.connection.entityId : 0;
  },
  get tick() {
    return page.connection ? page.connection.session.tick : 0;
  },
  get me() {
    return predictedMe();
  },
  entities() {
    return page.connection ? describeWorld(page.connection.session.mirror.entities) : [];
  },
  get resumes() {
    return page.connection ? page.connection.resumes : 0;
  },
  get closeCode() {
    return page.connection ? page.connection.closeCode : page.closeCode;
  },
  get closeReason() {
    return page.connection ? page.connection.closeReason : page.closeReason;
  },
  get lastError() {
    return page.connection ? page.connection.lastError : null;
  },
  get fps() {
    return page.fps;
  },
  get pingMs() {
    const rtt = page.connection ? page.connection.session.clock.rttS : null;
    return rtt === null ? null : rtt * 1000;
  },
  chat() {
    if (!page.connection) return [];
    return page.connection.session.chat.map(({ channel, sender, text }) => ({ channel, sender, text }));
  },
  say(text) {
    return page.connection ? page.connection.say(text) : false;
  },
});

// -------------------------------------------------------------- joining

function askName() {
  const form = document.getElementById("join-form");
  const field = document.getElementById("name-input");
  const error = document.getElementById("name-error");
  field.value = storedName() ?? "";
  form.hidden = false;
  field.focus();
  return new Promise((resolve) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const name = field.value.trim();
      if (!isValidName(name)) {
        error.textContent = "1 to 32 printable characters, please.";
        return;
      }
      rememberName(name);
      form.hidden = true;
      resolve(name);
    });
  });
}

async function fetchInfo() {
  try {
    const response = await fetch("/api/info", { cache: "no-store" });
    return mergeInfo(response.ok ? await response.json() : null);
  } catch {
    return { ...DEFAULT_INFO };
  }
}

async function pollRoster() {
  try {
    const url = `/api/roster?room=${encodeURIComponent(ROOM)}`;
    const response = await fetch(url, { cache: "no-store" });
    if (response.ok) {
      const room = await response.json();
      page.roster = room && Array.isArray(room.roster) ? room.roster : [];
      page.names = new Map(page.roster.map((entry) => [entry.entity_id, entry.name]));
    }
  } catch {
    // The roster only adds names; the game goes on without it.
  }
}

function closeBeforeStart(reason) {
  page.closeReason = reason;
  setState("closed");
  hud.update({ pingMs: null, tick: 0, fps: 0, state: "closed", closeCode: null, closeReason: reason, rows: [] });
}

// Storage can be unavailable (privacy settings): the name is then simply not remembered.
function storedName() {
  try {
    return localStorage.getItem(NAME_STORAGE_KEY);
  } catch {
    return null;
  }
}

function rememberName(name) {
  try {
    localStorage.setItem(NAME_STORAGE_KEY, name);
  } catch {
    // not remembered
  }
}

async function start() {
  setState("idle");
  const spectate = options.spectate;
  let name;
  if (spectate) {
    const stored = storedName();
    name = isValidName(stored) ? stored : "spectator";
  } else if (isValidName(options.name)) {
    name = options.name;
  } else {
    name = await askName();
  }
  setState("connecting");
  const info = await fetchInfo();
  const spoken = info.subprotocols ?? [info.subprotocol];
  if (!spoken.includes(SUBPROTOCOL)) {
    closeBeforeStart(`the server speaks ${spoken.join(", ")}, this page ${SUBPROTOCOL}`);
    return;
  }
  if (info.tokens_required && !options.token) {
    closeBeforeStart("this server requires a join token: open the page with ?token=...");
    return;
  }
  const connection = new Connection({
    url: webSocketUrl(location, info.ws_path, options.token),
    role: spectate ? Role.SPECTATOR : Role.PLAYER,
    name,
    inputSource: () => input.sample(),
    onChange: setState,
  });
  page.connection = connection;
  const updateAim = attachInput(input, canvas, {
    toWorld: (x, y) => renderer.toWorld(x, y),
    origin: () => connection.session.predictedPosition(0),
  });
  chat.attach(window);
  window.addEventListener("pagehide", () => connection.stop("page closed"));
  connection.start();
  pollRoster();
  setInterval(pollRoster, ROSTER_INTERVAL_MS);
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
  const me = session.predictedPosition(elapsedS);
  updateAim();
  renderer.draw({
    session,
    remote: session.remoteView(now),
    me,
    names: page.names,
    nowS: now,
  });
  if (now - lastScoreboardS >= SCOREBOARD_INTERVAL_S) {
    lastScoreboardS = now;
    rows = scoreRows(session.mirror.entities, page.roster, session.entityId);
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
