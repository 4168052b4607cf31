// What every game page shares around the SDK: the name form, the remembered name, the
// page state on <body data-state>, the room's roster, and window.game, the read-only view
// of the page that tools and browser tests read:
//   state       "idle" (name form shown) | "connecting" | "playing" | "spectating" |
//               "reconnecting" | "closed"; <body data-state> mirrors it
//   entityId    own entity id (0 for a spectator, a latecomer or before the Welcome)
//   tick        tick of the newest applied snapshot
//   entities()  every entity decoded by the game's schema ({id, type, kind, ...fields})
//   events()    the recent events, decoded, oldest first
//   resumes     Welcomes after a drop (or a page load) that gave back the same entity
//   closeCode, closeReason, lastError ({code, reason} of the latest Error message or
//   local protocol failure), pingMs (median round trip, null before a pong)
//   code        the private room's code, when the page made or joined one
//   room        the room's id, as far as the page's URL or matchmaking named it ("default")
//   chat()      the recent Chat messages as [{channel, sender, text}], oldest first
//   say(text)   send a chat line; false (nothing sent) unless joined or if the text is invalid
// A page adds its own getters (the arena: `me`, `fps`; the card game: `hand()`).

import { isValidName, NAME_STORAGE_KEY, parsePageOptions } from "../sdk/index.js";

/** The page made from a game's description alone, for a game without a page of its own. */
export const ANY_GAME_PAGE = "/any/";

/** The page of a game; each game's page lives in its own folder under /games/. */
export function gamePage(game) {
  return `/games/${encodeURIComponent(game)}/`;
}

/** The game's own page if the server has one, else the page for any game (/any/). */
export async function pageOf(game, fetchImpl = globalThis.fetch) {
  const page = gamePage(game);
  try {
    const response = await fetchImpl(page, { method: "HEAD", cache: "no-store" });
    if (response.ok) return page;
  } catch {
    // unknown: the page for any game plays it too
  }
  return ANY_GAME_PAGE;
}

/** Show `state` on <body data-state>; with `page`, also keep it as `page.state` (what
 * window.game's `state` reads). */
export function setPageState(state, page = null) {
  if (page) page.state = state;
  document.body.dataset.state = state;
}

// Storage can be unavailable (privacy settings): the name is then simply not remembered.
export function storedName() {
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

/** Show the name form (#join-form, #name-input, #name-error) until a valid name is sent. */
export function askName(doc = document) {
  const form = doc.getElementById("join-form");
  const field = doc.getElementById("name-input");
  const error = doc.getElementById("name-error");
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

/** The name to join with: a spectator's remembered one, `?name=`, or the form's. */
export async function chooseName(search = location.search) {
  const options = parsePageOptions(search);
  if (options.spectate) {
    const stored = storedName();
    return isValidName(stored) ? stored : "spectator";
  }
  if (isValidName(options.name)) return options.name;
  return askName();
}

/** window.game's common part over `page` ({state, connection, code, closeCode, closeReason}). */
export function gameView(page, extra = {}) {
  const connection = () => page.connection;
  const view = {
    get state() {
      return page.state;
    },
    get entityId() {
      return connection() ? connection().entityId : 0;
    },
    get tick() {
      return connection() ? connection().session.tick : 0;
    },
    entities() {
      return connection() ? connection().session.entities() : [];
    },
    events() {
      return connection() ? [...connection().session.events] : [];
    },
    get resumes() {
      return connection() ? connection().resumes : 0;
    },
    get closeCode() {
      return connection() ? connection().closeCode : page.closeCode;
    },
    get closeReason() {
      return connection() ? connection().closeReason : page.closeReason;
    },
    get lastError() {
      return connection() ? connection().lastError : null;
    },
    get pingMs() {
      const rtt = connection() ? connection().session.clock.rttS : null;
      return rtt === null ? null : rtt * 1000;
    },
    get code() {
      return page.code ?? null;
    },
    get room() {
      return roomOf(connection());
    },
    chat() {
      if (!connection()) return [];
      return connection().session.chat.map(({ channel, sender, text }) => ({ channel, sender, text }));
    },
    say(text) {
      return connection() ? connection().say(text) : false;
    },
  };
  Object.defineProperties(view, Object.getOwnPropertyDescriptors(extra));
  return Object.freeze(view);
}

/** Poll /api/roster for the room's player names (names are not on the WebSocket wire). */
export function pollRoster(room, onRoster, intervalMs = 2000) {
  const poll = async () => {
    try {
      const response = await fetch(`/api/roster?room=${encodeURIComponent(room())}`, { cache: "no-store" });
      if (response.ok) {
        const answer = await response.json();
        onRoster(answer && Array.isArray(answer.roster) ? answer.roster : []);
      }
    } catch {
      // The roster only adds names; the game goes on without it.
    }
  };
  poll();
  return setInterval(poll, intervalMs);
}

/** The room a connection is in, for the roster: from its URL, else the default room. */
export function roomOf(connection) {
  if (!connection) return "default";
  try {
    return new URL(connection.url).searchParams.get("room") || "default";
  } catch {
    return "default";
  }
}
