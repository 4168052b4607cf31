// From a page's address to a running Connection: the server's info, the room the address
// asks for (section 1 of docs/protocol.md: a mode by matchmaking, a private room made or
// joined by code, a room by id, or the default room), and the player's resume token kept
// in sessionStorage, so a reloaded page comes back as the same player.

import { Connection, sessionResumeStore } from "./connection.js";
import { fetchInfo, parsePageOptions, requestMatch, webSocketUrl } from "./matchmaking.js";
import { Role, SUBPROTOCOL } from "./protocol.js";

/** The sessionStorage key of the resume token of the page at `location`. */
export function resumeKey(location) {
  return `gameserver.resume:${location.pathname}${location.search}`;
}

/** Why this page cannot connect to a server with `info`, or null. */
export function infoProblem(info, options) {
  const spoken = info.subprotocols ?? [info.subprotocol];
  if (!spoken.includes(SUBPROTOCOL)) return `the server speaks ${spoken.join(", ")}, this page ${SUBPROTOCOL}`;
  if (info.tokens_required && !options.token) return "this server requires a join token: open the page with ?token=...";
  return null;
}

/**
 * Connect the page at `location` as `name`; resolves to {connection, code} (`code`: the
 * private room's code when this page made or joined one), or rejects with an Error whose
 * message says why (the server speaks another version, needs a token, matchmaking
 * refused). `connectionOptions` go to the Connection (inputSource, prediction, onEvent...).
 */
export async function connectPage({ location, name, spectate = null, fetchImpl = globalThis.fetch, storage, ...connectionOptions }) {
  const options = parsePageOptions(location.search);
  const role = (spectate ?? options.spectate) ? Role.SPECTATOR : Role.PLAYER;
  const info = await fetchInfo(fetchImpl);
  const problem = infoProblem(info, options);
  if (problem) throw new Error(problem);
  const resumeStore = role === Role.PLAYER ? sessionResumeStore(resumeKey(location), storage) : null;
  const base = webSocketUrl(location, info.ws_path, options.token);
  let url = base;
  let mode = null;
  let code = options.code ? options.code.toUpperCase() : null;
  const resuming = resumeStore && resumeStore.load();
  if (resuming) {
    url = resuming.url; // the Connection resumes from what is stored
  } else if (role === Role.SPECTATOR) {
    const query = options.code ? { code } : options.room ? { room: options.room } : options.mode ? { mode: options.mode } : {};
    url = webSocketUrl(location, info.ws_path, options.token, query);
  } else if (options.code || (options.private && options.mode)) {
    const request = options.code ? { code } : { mode: options.mode, private: true };
    const answer = await requestMatch({ ...request, name, token: options.token }, fetchImpl);
    url = seatUrl(answer.url, options.token);
    code = answer.code ?? code;
  } else if (options.room) {
    url = webSocketUrl(location, info.ws_path, options.token, { room: options.room });
  } else if (options.mode) {
    mode = options.mode; // FindMatch on the WebSocket
  }
  const connection = new Connection({ url, role, name, mode, resumeStore, ...connectionOptions });
  connection.start();
  return { connection, code, info };
}

/** Matchmaking's URL, with the identity token a server with authentication on needs. */
function seatUrl(url, token) {
  if (!token) return url;
  const parsed = new URL(url);
  parsed.searchParams.set("token", token);
  return parsed.toString();
}
