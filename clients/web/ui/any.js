// A page for any game, made from its description alone: every entity as a row of its
// decoded fields (one table per entity type), the events as a log, a form per command and,
// for a game with input, a control per input field, sent every tick. Nothing here names a
// game: a game added with `gameserver new-game` is playable in a browser at once, at
// /any/?mode=MODE, before it has a page of its own (docs/web.md).

import { connectPage } from "../sdk/index.js";
import { chooseName, gameView, setPageState } from "./page.js";

const EVENT_LOG = 50;
const page = { state: "idle", connection: null, code: null, closeCode: null, closeReason: null, log: [] };
const $ = (id) => document.getElementById(id);
const inputValues = {};

window.game = gameView(page);

function text(value) {
  if (value && typeof value === "object") {
    return Object.keys(value).filter((key) => value[key]).join("|") || "–";
  }
  if (typeof value === "number" && !Number.isInteger(value)) return value.toFixed(2);
  return String(value);
}

/** A control for one field: a select for enums, checkboxes for flags and bools, else an input. */
function control(field, onChange) {
  if (field.type === "enum") {
    const select = document.createElement("select");
    for (const name of Object.keys(field.members)) select.append(new Option(name, name));
    select.addEventListener("change", () => onChange(select.value));
    onChange(select.value);
    return select;
  }
  if (field.type === "bool" || field.type === "flags") {
    const box = document.createElement("span");
    const names = field.type === "bool" ? [field.name] : Object.keys(field.members);
    const checked = new Set();
    for (const name of names) {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "checkbox";
      input.dataset.member = name;
      input.addEventListener("change", () => {
        if (input.checked) checked.add(name);
        else checked.delete(name);
        onChange(field.type === "bool" ? checked.size > 0 : [...checked]);
      });
      label.append(input, ` ${name} `);
      box.append(label);
    }
    onChange(field.type === "bool" ? false : []);
    return box;
  }
  const input = document.createElement("input");
  input.type = field.type === "text" ? "text" : "number";
  if (field.type === "int") Object.assign(input, { min: field.min, max: field.max, step: 1 });
  input.value = field.type === "text" ? "" : String(Math.max(field.min ?? 0, Math.min(0, field.max ?? 0)));
  const read = () => (field.type === "text" ? input.value : Number(input.value));
  input.addEventListener("input", () => onChange(read()));
  onChange(read());
  return input;
}

function labelled(field, element) {
  const label = document.createElement("label");
  label.append(`${field.name} `, element, " ");
  label.dataset.field = field.name;
  return label;
}

function buildControls(schema) {
  if (schema.input) {
    $("input-panel").hidden = false;
    $("input-form").replaceChildren(
      ...schema.input.fields.map((field) => labelled(field, control(field, (v) => (inputValues[field.name] = v)))),
    );
  }
  if (schema.commands.length) $("commands-panel").hidden = false;
  $("commands").replaceChildren(
    ...schema.commands.map((type) => {
      const form = document.createElement("form");
      form.className = "fields";
      form.dataset.command = type.name;
      const values = {};
      for (const field of type.fields) form.append(labelled(field, control(field, (v) => (values[field.name] = v))));
      const button = document.createElement("button");
      button.type = "submit";
      button.textContent = type.name;
      form.append(button);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        try {
          if (!page.connection.command(type.name, { ...values })) $("status").textContent = "not sent: not joined";
        } catch (error) {
          $("status").textContent = error.message;
        }
      });
      return form;
    }),
  );
}

function renderWorld(session) {
  const schema = session.schema;
  if (!schema) return;
  const entities = session.entities();
  $("world").replaceChildren(
    ...schema.entities.map((type) => {
      const table = document.createElement("table");
      table.className = "entities";
      table.dataset.type = type.name;
      const head = table.createTHead().insertRow();
      for (const name of ["id", ...type.fields.map((f) => f.name)]) head.insertCell().textContent = name;
      const body = table.createTBody();
      for (const entity of entities.filter((e) => e.type === type.name)) {
        const row = body.insertRow();
        row.dataset.entity = String(entity.id);
        if (entity.id === session.entityId) row.classList.add("self");
        row.insertCell().textContent = String(entity.id);
        for (const field of type.fields) row.insertCell().textContent = text(entity[field.name]);
      }
      const caption = table.createCaption();
      caption.textContent = type.name;
      return table;
    }),
  );
}

function onEvent(event) {
  page.log.unshift(event);
  page.log.length = Math.min(page.log.length, EVENT_LOG);
  $("events").replaceChildren(
    ...page.log.map((e) => {
      const item = document.createElement("li");
      const { tick, type, kind: _kind, ...fields } = e;
      item.textContent = `tick ${tick} ${type} ${Object.entries(fields).map(([k, v]) => `${k}=${text(v)}`).join(" ")}`;
      return item;
    }),
  );
}

let shownTick = -1;

function frame() {
  const session = page.connection?.session;
  if (session && session.tick !== shownTick) {
    shownTick = session.tick;
    $("tick").textContent = String(session.tick);
    renderWorld(session);
  }
  $("state").textContent = page.state;
  requestAnimationFrame(frame);
}

const setState = (state) => setPageState(state, page);

async function start() {
  setState("idle");
  const name = await chooseName();
  setState("connecting");
  try {
    ({ connection: page.connection, code: page.code } = await connectPage({
      location,
      name,
      inputSource: () => ({ ...inputValues }),
      onChange: setState,
      onEvent,
      onWelcome: (welcome, session) => {
        $("title").textContent = welcome.game;
        document.title = welcome.game;
        if (session.schema && session.role === 0) buildControls(session.schema);
      },
    }));
  } catch (error) {
    page.closeReason = error.message;
    setState("closed");
    $("status").textContent = error.message;
    return;
  }
  if (page.code) {
    $("code-line").hidden = false;
    $("room-code").textContent = page.code;
  }
  requestAnimationFrame(frame);
}

start();
