// What the page URL and the server's /api/info say about how to connect.

import { SUBPROTOCOL } from "./protocol.js";

export const DEFAULT_INFO = Object.freeze({
  ws_path: "/ws",
  subprotocol: SUBPROTOCOL,
  tokens_required: false,
});

export const NAME_STORAGE_KEY = "gameserver.name";

/** `?spectate` (any value) watches; `?name=x` skips the name form; `?token=` is passed on. */
export function parsePageOptions(search) {
  const params = new URLSearchParams(search);
  return {
    spectate: params.has("spectate"),
    name: params.get("name"),
    token: params.get("token") || null,
  };
}

/** ws:// or wss:// (as the page) on the page's host, the server's path, and the token. */
export function webSocketUrl(location, wsPath, token) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${location.host}${wsPath}`;
  if (!token) return url;
  return `${url}${wsPath.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
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
  }
  return info;
}
