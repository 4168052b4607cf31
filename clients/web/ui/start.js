// The start page: the modes this server offers and their games (/api/info), each with
// "play" (matchmaking), "private room" (a new room only its code reaches) and "watch";
// and a box to join a private room by its code (play.html finds the room's game). A game
// without a page of its own is played on the page made from its description (/any/).

import { fetchInfo } from "../sdk/index.js";
import { pageOf } from "./page.js";

function link(text, href, testId) {
  const a = document.createElement("a");
  a.textContent = text;
  a.href = href;
  a.dataset.action = testId;
  return a;
}

async function start() {
  const info = await fetchInfo();
  const status = document.getElementById("start-status");
  const table = document.getElementById("modes");
  const body = table.querySelector("tbody");
  const modes = info.modes.filter((mode) => info.mode_games[mode]);
  const games = [...new Set(modes.map((mode) => info.mode_games[mode]))];
  const pages = new Map(await Promise.all(games.map(async (game) => [game, await pageOf(game)])));
  for (const mode of modes) {
    const game = info.mode_games[mode];
    const page = pages.get(game);
    const row = document.createElement("tr");
    row.dataset.mode = mode;
    row.dataset.game = game;
    const name = document.createElement("td");
    name.textContent = mode;
    const gameCell = document.createElement("td");
    gameCell.textContent = game;
    const actions = document.createElement("td");
    actions.className = "actions";
    const query = (extra) => `?mode=${encodeURIComponent(mode)}${extra}`;
    // The default mode's permanent room is where a page with no room in its address goes.
    const play = mode === "default" ? page : page + query("");
    const watch = mode === "default" ? `${page}?spectate` : page + query("&spectate");
    actions.append(
      link("play", play, "play"),
      link("private room", page + query("&private"), "private"),
      link("watch", watch, "watch"),
    );
    row.append(name, gameCell, actions);
    body.append(row);
  }
  table.hidden = modes.length === 0;
  status.textContent = modes.length ? "Pick a game, or join a friend's private room by its code." : "This server offers no games.";
  document.getElementById("code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = document.getElementById("code-input").value.trim().toUpperCase();
    if (!/^[A-Z0-9]{1,16}$/.test(code)) {
      document.getElementById("code-error").textContent = "A code is letters and digits.";
      return;
    }
    location.assign(`/play.html?code=${encodeURIComponent(code)}`);
  });
}

start();
