// Finding a room: what the server offers (/api/info), matchmaking over HTTP
// (POST /api/match, docs/operations.md), and the WebSocket URL a page connects to.
// Matchmaking on the WebSocket itself (FindMatch) is the Connection's `mode` option.

import { SUBPROTOCOL } from "./protocol.js";

export const DEFAULT_INFO = Object.freeze({
  ws_path: "/ws",
  subprotocol: SUBPROTOCOL,
  tokens_required: false,
  modes: ["default"],
  mode_games: {},
});

export const NAME_STORAGE_KEY = "gameserver.name";

/**
 * What a page's address asks for: `?spectate` (any value) watches; `?name=x` skips the
 * name form; `?token=` is passed on; `?mode=`, `?code=`, `?room=` pick the room
 * (matchmaking for a mode, a private room's code, a room by id); `?private` with a mode
 * makes a new private room.
 */
export function parsePageOptions(search) {
  const params = new URLSearchParams(search);
  return {
    spectate: params.has("spectate"),
    name: params.get("name"),
    token: params.get("token") || null,
    mode: params.get("mode") || null,
    code: params.get("code") || null,
    room: params.get("room") || null,
    private: params.has("private"),
  };
}

/** ws:// or wss:// (as the page) on the page's host, the server's path, and a query. */
export function webSocketUrl(location, wsPath, token, query = {}) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = new URL(`${scheme}//${location.host}${wsPath}`);
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined) url.searchParams.set(key, value);
  }
  if (token) url.searchParams.set("token", token);
  const text = url.toString();
  return text;
}

/** /api/info merged over the defaults; a missing or broken answer leaves the defaults. */
export function mergeInfo(answer) {
  const info = { ...DEFAULT_INFO };
  if (answer && typeof answer === "object") {
    if (typeof answer.ws_path === "string" && answer.ws_path.startsWith("/")) {
      info.ws_path = answer.ws_path;
    }
    if (typeof answer.subprotocol === "string") info.subprotocol = answer.subprotocol;
    if (Array.isArray(answer.subprotocols) && answer.subprotocols.every((p) => typeof p === "string")) {
      info.subprotocols = answer.subprotocols;
    }
    if (typeof answer.tokens_required === "boolean") info.tokens_required = answer.tokens_required;
    if (Array.isArray(answer.modes) && answer.modes.every((m) => typeof m === "string")) {
      info.modes = answer.modes;
    }
    if (answer.mode_games && typeof answer.mode_games === "object") {
      info.mode_games = { ...answer.mode_games };
    }
  }
  return info;
}

/** The server's /api/info (merged over the defaults; the defaults if it cannot be read). */
export async function fetchInfo(fetchImpl = globalThis.fetch) {
  try {
    const response = await fetchImpl("/api/info", { cache: "no-store" });
    return mergeInfo(response.ok ? await response.json() : null);
  } catch {
    return mergeInfo(null);
  }
}

/** A refused matchmaking request: the HTTP status and the server's reason. */
export class MatchError extends Error {
  constructor(status, reason) {
    super(`matchmaking refused (${status}): ${reason}`);
    this.name = "MatchError";
    this.status = status;
    this.reason = reason;
  }
}

/**
 * POST /api/match: `{mode}` a seat in a public room of that mode, `{mode, private: true}`
 * a new private room (its `code` is in the answer), `{code}` a seat in that private room.
 * Resolves to the answer ({room, url, code, ...}: connect to `url`); MatchError if refused.
 * `token`: an identity token, on a server with authentication on.
 */
export async function requestMatch({ mode, code, private: isPrivate = false, name, token } = {}, fetchImpl = globalThis.fetch) {
  const body = code ? { code } : { mode, private: isPrivate };
  if (name) body.name = name;
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetchImpl("/api/match", { method: "POST", headers, body: JSON.stringify(body), cache: "no-store" });
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok || !answer || typeof answer.url !== "string") {
    throw new MatchError(response.status, (answer && answer.error) || "no answer");
  }
  return answer;
}
