// The heads-up display: ping, server tick, frame rate, connection state and scoreboard.
//
// Scores come from the decoded player entities (`score`). A player only sees the
// entities around it (section 6.4), and names are not on the wire at all, so the room
// roster polled from /api/roster fills in names and the scores of players out of view.

import { closeCodeLabel } from "../../sdk/protocol.js";

/** "closed: ROOM_FULL (4009) room full", or the bare state. */
export function describeState(state, closeCode, closeReason) {
  if (state !== "closed" || (closeCode === null && !closeReason)) return state;
  const parts = [closeCode === null ? "" : closeCodeLabel(closeCode), closeReason || ""];
  return `closed: ${parts.filter(Boolean).join(" ")}`;
}

/**
 * Scoreboard rows {id, name, score, self}, best score first, then by id.
 * `entities`: decoded entities ({id, type, score, ...}); `roster`: [{entity_id, name, score,
 * connected}].
 */
export function scoreRows(entities, roster, selfId) {
  const rows = new Map();
  for (const entry of roster) {
    rows.set(entry.entity_id, { id: entry.entity_id, name: entry.name, score: entry.score });
  }
  for (const entity of entities) {
    if (entity.type !== "Player") continue;
    const row = rows.get(entity.id) ?? { id: entity.id, name: null, score: 0 };
    row.score = entity.score;
    rows.set(entity.id, row);
  }
  return [...rows.values()]
    .map((row) => ({ ...row, name: row.name || `#${row.id}`, self: row.id === selfId }))
    .sort((a, b) => b.score - a.score || a.id - b.id);
}

export class Hud {
  constructor(doc = document) {
    this.ping = doc.getElementById("hud-ping");
    this.tick = doc.getElementById("hud-tick");
    this.fps = doc.getElementById("hud-fps");
    this.state = doc.getElementById("hud-state");
    this.scoreboard = doc.getElementById("scoreboard");
    this.lastScores = "";
  }

  /** `view`: {pingMs, tick, fps, state, closeCode, closeReason, rows}. */
  update({ pingMs, tick, fps, state, closeCode, closeReason, rows }) {
    setText(this.ping, pingMs === null ? "– ms" : `${Math.round(pingMs)} ms`);
    setText(this.tick, String(tick));
    setText(this.fps, String(Math.round(fps)));
    setText(this.state, describeState(state, closeCode, closeReason));
    this.state.dataset.state = state;
    const key = JSON.stringify(rows);
    if (key !== this.lastScores) {
      this.lastScores = key;
      this.renderScores(rows);
    }
  }

  renderScores(rows) {
    const body = this.scoreboard.querySelector("tbody") ?? this.scoreboard;
    body.replaceChildren(
      ...rows.map((row) => {
        const tr = document.createElement("tr");
        tr.dataset.entity = String(row.id);
        if (row.self) tr.classList.add("self");
        const name = document.createElement("td");
        name.textContent = row.name;
        const score = document.createElement("td");
        score.textContent = String(row.score);
        score.className = "score";
        tr.append(name, score);
        return tr;
      }),
    );
  }
}

function setText(element, text) {
  if (element && element.textContent !== text) element.textContent = text;
}
