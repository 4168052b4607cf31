// The live monitor page: one Server-Sent Event per monitor interval from /monitor/events.
//
// Stable hooks for tools and browser tests: #monitor-state[data-state] is "connecting",
// "live" or "disconnected"; each room is `#rooms tr[data-room=NAME]` with cells
// `td[data-field=...]`; each roster row is `[data-roster-entity=ID]` inside
// `table[data-roster-room=NAME]`; #bandwidth-in / #bandwidth-out carry the rate in
// bytes per second in data-bytes-per-s; #tick-graph plots p50 and p99 of the first room.

import { formatKBps, formatUptime, RateMeter, TickHistory } from "./monitor-model.js";

const GRAPH_ROOM = "default";
const COLORS = { p50: "#38bdf8", p99: "#fbbf24", axis: "#374151", text: "#9ca3af" };

const element = (id) => document.getElementById(id);
const bytesIn = new RateMeter();
const bytesOut = new RateMeter();
const histories = new Map(); // room name -> TickHistory

function setState(state) {
  element("monitor-state").dataset.state = state;
  element("monitor-state").textContent = state;
  document.body.dataset.state = state;
}

function cell(text, field, numeric = false) {
  const td = document.createElement("td");
  td.textContent = text;
  td.dataset.field = field;
  if (numeric) td.className = "num";
  return td;
}

/** A count whose cell text is the count alone; the limit is in a tooltip. */
function limited(count, max, field) {
  const td = cell(String(count), field, true);
  if (max !== undefined) td.title = `at most ${max}`;
  return td;
}

const ms = (value) => (typeof value === "number" ? value.toFixed(2) : "–");

function renderRooms(rooms) {
  const rows = rooms.map((room) => {
    const tr = document.createElement("tr");
    tr.dataset.room = room.name;
    if (room.running === false) tr.classList.add("stopped");
    tr.append(
      cell(room.name, "name"),
      cell(room.game, "game"),
      limited(room.players, room.max_players, "players"),
      limited(room.spectators, room.max_spectators, "spectators"),
      cell(String(room.tick), "tick", true),
      cell(ms(room.tick_ms?.p50), "tick-p50", true),
      cell(ms(room.tick_ms?.p99), "tick-p99", true),
      cell(String(room.skipped_ticks ?? 0), "skipped", true),
    );
    return tr;
  });
  element("rooms").querySelector("tbody").replaceChildren(...rows);
}

function renderRosters(rooms) {
  const tables = rooms.map((room) => {
    const box = document.createElement("div");
    const title = document.createElement("h3");
    title.textContent = room.name;
    const table = document.createElement("table");
    table.dataset.rosterRoom = room.name;
    const head = document.createElement("tr");
    for (const label of ["entity", "name", "score", "connected"]) {
      const th = document.createElement("th");
      th.textContent = label;
      head.append(th);
    }
    const roster = [...(room.roster ?? [])].sort((a, b) => b.score - a.score || a.entity_id - b.entity_id);
    const rows = roster.map((entry) => {
      const tr = document.createElement("tr");
      tr.dataset.rosterEntity = String(entry.entity_id);
      if (!entry.connected) tr.classList.add("disconnected");
      tr.append(
        cell(String(entry.entity_id), "entity", true),
        cell(entry.name, "name"),
        cell(String(entry.score), "score", true),
        cell(entry.connected ? "yes" : "no", "connected"),
      );
      return tr;
    });
    table.append(head, ...rows);
    box.append(title, table);
    return box;
  });
  element("rosters").replaceChildren(...tables);
}

function renderServer(sample) {
  const server = sample.server ?? {};
  element("connections").textContent = String(server.connections ?? "–");
  element("messages").textContent = `${server.messages_in ?? "–"} / ${server.messages_out ?? "–"}`;
  const errors = Object.entries(server.protocol_errors ?? {});
  element("protocol-errors").textContent = errors.length
    ? errors.map(([code, count]) => `${code}: ${count}`).join(", ")
    : "none";
  const rates = [
    ["bandwidth-in", bytesIn.update(sample.time_s, server.bytes_in)],
    ["bandwidth-out", bytesOut.update(sample.time_s, server.bytes_out)],
  ];
  for (const [id, rate] of rates) {
    element(id).textContent = formatKBps(rate);
    element(id).dataset.bytesPerS = rate === null ? "" : String(rate);
  }
  element("uptime").textContent = `up ${formatUptime(sample.uptime_s ?? 0)}`;
  element("draining").hidden = !sample.draining;
}

function drawGraph(history) {
  const canvas = element("tick-graph");
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  const left = 44;
  const top = 8;
  const plotW = width - left - 8;
  const plotH = height - top - 20;
  ctx.clearRect(0, 0, width, height);
  const topMs = history ? history.scaleMs() : 1;
  ctx.strokeStyle = COLORS.axis;
  ctx.fillStyle = COLORS.text;
  ctx.font = "11px system-ui, sans-serif";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  ctx.lineWidth = 1;
  for (const fraction of [0, 0.5, 1]) {
    const y = top + plotH * (1 - fraction);
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + plotW, y);
    ctx.stroke();
    ctx.fillText(`${+(topMs * fraction).toFixed(2)} ms`, left - 4, y);
  }
  if (!history || history.samples.length === 0) return;
  const step = plotW / Math.max(1, history.capacity - 1);
  const offset = history.capacity - history.samples.length;
  for (const key of ["p50", "p99"]) {
    ctx.beginPath();
    history.samples.forEach((sample, i) => {
      const x = left + (offset + i) * step;
      const y = top + plotH * (1 - Math.min(sample[key], topMs) / topMs);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.strokeStyle = COLORS[key];
    ctx.lineWidth = 2;
    ctx.stroke();
  }
  canvas.dataset.samples = String(history.samples.length);
}

function onSample(sample) {
  const rooms = Array.isArray(sample.rooms) ? sample.rooms : [];
  for (const room of rooms) {
    if (!histories.has(room.name)) histories.set(room.name, new TickHistory());
    histories.get(room.name).push(room.tick_ms?.p50, room.tick_ms?.p99);
  }
  renderServer(sample);
  renderRooms(rooms);
  renderRosters(rooms);
  const graphed = histories.get(GRAPH_ROOM) ?? histories.get(rooms[0]?.name);
  drawGraph(graphed);
}

function start() {
  setState("connecting");
  drawGraph(null);
  const events = new EventSource("/monitor/events");
  events.onopen = () => setState("live");
  events.onerror = () => setState("disconnected"); // EventSource retries by itself
  // The server's last word before it shuts down; the stream then ends.
  events.addEventListener("draining", () => {
    element("draining").hidden = false;
  });
  events.onmessage = (event) => {
    let sample;
    try {
      sample = JSON.parse(event.data);
    } catch {
      return; // not ours to interpret
    }
    setState("live");
    onSample(sample);
  };
}

start();
