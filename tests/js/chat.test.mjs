// Chat: the session's history, the panel's keys and its log, on a small stand-in DOM.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { encode } from "../../clients/web/sdk/cbor.js";
import { ChatPanel, chatDraft, chatKeyAction, chatLine } from "../../clients/web/ui/chat.js";
import { Buttons, InputState, isTypingTarget } from "../../clients/web/games/arena/input.js";
import { decodeServerMessage } from "../../clients/web/sdk/protocol.js";
import { CHAT_HISTORY, Session } from "../../clients/web/sdk/session.js";

/** Just enough of an element for the chat panel. */
class FakeElement {
  constructor(tagName, doc) {
    this.tagName = tagName.toUpperCase();
    this.doc = doc;
    this.children = [];
    this.dataset = {};
    this.hidden = false;
    this.value = "";
    this.className = "";
    this.ownText = "";
    this.listeners = new Map();
    this.scrollTop = 0;
    const classes = new Set();
    this.classList = { add: (c) => classes.add(c), contains: (c) => classes.has(c) };
  }

  get textContent() {
    return this.ownText + this.children.map((c) => (typeof c === "string" ? c : c.textContent)).join("");
  }

  set textContent(text) {
    this.children = [];
    this.ownText = text;
  }

  get scrollHeight() {
    return this.children.length * 20;
  }

  append(...nodes) {
    this.children.push(...nodes);
  }

  replaceChildren(...nodes) {
    this.ownText = "";
    this.children = nodes;
  }

  addEventListener(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(listener);
  }

  dispatch(type, event = {}) {
    const full = { target: this, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; }, ...event };
    for (const listener of this.listeners.get(type) ?? []) listener(full);
    return full;
  }

  focus() {
    this.doc.activeElement = this;
  }

  blur() {
    if (this.doc.activeElement !== this) return;
    this.doc.activeElement = this.doc.body;
    this.dispatch("blur");
  }
}

function fakePage() {
  const doc = {
    elements: new Map(),
    createElement: (tag) => new FakeElement(tag, doc),
    getElementById: (id) => doc.elements.get(id) ?? null,
  };
  doc.body = new FakeElement("body", doc);
  doc.activeElement = doc.body;
  for (const [id, tag] of [["chat", "div"], ["chat-log", "ul"], ["chat-notice", "p"], ["chat-input", "input"]]) {
    doc.elements.set(id, new FakeElement(tag, doc));
  }
  doc.elements.get("chat-input").hidden = true;
  doc.elements.get("chat-notice").hidden = true;
  const win = new FakeElement("window", doc);
  // A key goes to the focused element, then bubbles up to the window.
  const press = (key, extra = {}) => {
    const target = doc.activeElement;
    const event = { key, target, ...extra };
    if (target !== doc.body) target.dispatch("keydown", event);
    return win.dispatch("keydown", event);
  };
  return { doc, win, press, input: doc.elements.get("chat-input"), log: doc.elements.get("chat-log") };
}

function chatSession(messages) {
  const session = new Session();
  for (const fields of messages) session.handle(decodeServerMessage(encode(fields)), 0);
  return session;
}

describe("the session's chat history", () => {
  test("Chat messages in arrival order, the last 50 only", () => {
    assert.equal(CHAT_HISTORY, 50);
    const session = new Session();
    for (let i = 1; i <= 120; i++) {
      session.handle(decodeServerMessage(encode([20, i % 3, `p${i}`, `line ${i}`])), 0);
      assert.equal(session.chat.length, Math.min(i, 50));
    }
    assert.deepEqual(session.chat[0], { channel: 71 % 3, sender: "p71", text: "line 71" });
    assert.deepEqual(session.chat.at(-1), { channel: 0, sender: "p120", text: "line 120" });
    assert.equal(session.chatReceived, 120);
  });

  test("a new connection keeps the history", () => {
    const session = chatSession([[20, 1, "server", "welcome to the arena"]]);
    session.reset();
    assert.deepEqual(session.chat, [{ channel: 1, sender: "server", text: "welcome to the arena" }]);
  });

  test("Error 3 (CHAT_RATE_LIMITED) is counted; other errors are not", () => {
    const session = chatSession([
      [19, 3, "chat rate limited"],
      [19, 1, "spectators cannot send input"],
      [19, 3, "chat rate limited"],
    ]);
    assert.equal(session.chatRateLimited, 2);
    assert.equal(session.errors.length, 3);
  });
});

describe("chat keys", () => {
  test("Enter opens the line, unless typing elsewhere, composing or with a modifier", () => {
    assert.equal(chatKeyAction({ key: "Enter", open: false, typing: false }), "open");
    assert.equal(chatKeyAction({ key: "Enter", open: false, typing: true }), null);
    assert.equal(chatKeyAction({ key: "Enter", open: false, typing: false, modified: true }), null);
    assert.equal(chatKeyAction({ key: "KeyW", open: false, typing: false }), null);
    assert.equal(chatKeyAction({ key: "Escape", open: false, typing: false }), null);
  });

  test("in the open line: Enter sends, Escape closes, the rest is typing", () => {
    assert.equal(chatKeyAction({ key: "Enter", open: true, typing: true }), "send");
    assert.equal(chatKeyAction({ key: "Escape", open: true, typing: true }), "close");
    assert.equal(chatKeyAction({ key: "w", open: true, typing: true }), null);
    assert.equal(chatKeyAction({ key: "Enter", open: true, typing: true, composing: true }), null);
  });

  test("keys typed into text fields are not game keys", () => {
    assert.ok(isTypingTarget({ tagName: "INPUT" }));
    assert.ok(isTypingTarget({ tagName: "textarea" }));
    assert.ok(isTypingTarget({ tagName: "DIV", isContentEditable: true }));
    assert.ok(!isTypingTarget({ tagName: "BODY" }));
    assert.ok(!isTypingTarget({ tagName: "CANVAS" }));
    assert.ok(!isTypingTarget(null));
    assert.ok(!isTypingTarget({}), "the window itself");
  });

  test("log lines and drafts", () => {
    assert.equal(chatLine({ sender: "ann", text: "hi" }), "ann: hi");
    assert.equal(chatDraft("  gg  "), "gg");
    assert.equal(chatDraft("   "), "");
  });
});

describe("the chat panel", () => {
  function setup({ sayResult = true } = {}) {
    const page = fakePage();
    const said = [];
    const held = new InputState();
    let nowS = 0;
    const panel = new ChatPanel(page.doc, {
      say: (text) => {
        said.push(text);
        return sayResult;
      },
      onOpen: () => held.releaseAll(),
      now: () => nowS,
    });
    panel.attach(page.win);
    return { ...page, panel, said, held, advance: (s) => (nowS += s) };
  }

  test("Enter opens and focuses the line and releases held movement", () => {
    const { panel, press, input, doc, held } = setup();
    held.keyDown("KeyW");
    held.keyDown("KeyD");
    assert.equal(held.buttons(), Buttons.UP | Buttons.RIGHT);
    const event = press("Enter");
    assert.ok(event.defaultPrevented);
    assert.ok(panel.isOpen);
    assert.equal(input.hidden, false);
    assert.equal(doc.activeElement, input);
    assert.equal(held.buttons(), 0, "no key stays held while typing");
    assert.ok(isTypingTarget(doc.activeElement), "so input.js ignores what is typed");
  });

  test("Enter in the line sends the trimmed text and closes it", () => {
    const { panel, press, input, said, doc } = setup();
    press("Enter");
    input.value = "  hello there ";
    press("Enter");
    assert.deepEqual(said, ["hello there"]);
    assert.equal(panel.isOpen, false);
    assert.equal(input.value, "");
    assert.equal(doc.activeElement, doc.body, "the keys are the game's again");
    press("Enter");
    press("Enter");
    assert.deepEqual(said, ["hello there"], "an empty line sends nothing");
    assert.equal(panel.isOpen, false);
  });

  test("Escape closes without sending and drops the draft", () => {
    const { panel, press, input, said } = setup();
    press("Enter");
    input.value = "never mind";
    press("Escape");
    assert.equal(panel.isOpen, false);
    assert.equal(input.value, "");
    assert.deepEqual(said, []);
  });

  test("leaving the field closes the line but keeps the draft", () => {
    const { panel, press, input } = setup();
    press("Enter");
    input.value = "half a";
    input.blur();
    assert.equal(panel.isOpen, false);
    assert.equal(input.value, "half a");
  });

  test("text the server would refuse stays in the line with a notice; nothing is sent", () => {
    const { panel, press, input, said, doc, advance } = setup();
    const notice = doc.getElementById("chat-notice");
    press("Enter");
    input.value = "x".repeat(201);
    press("Enter");
    assert.deepEqual(said, []);
    assert.ok(panel.isOpen);
    assert.equal(notice.hidden, false);
    assert.match(notice.textContent, /200/);
    advance(5);
    panel.update(new Session());
    assert.equal(notice.hidden, true, "the notice goes away");
  });

  test("not joined: the line stays open with a notice", () => {
    const { panel, press, input, said, doc } = setup({ sayResult: false });
    press("Enter");
    input.value = "hello?";
    press("Enter");
    assert.deepEqual(said, ["hello?"]);
    assert.ok(panel.isOpen);
    assert.match(doc.getElementById("chat-notice").textContent, /not connected/);
  });

  test("the server's rate limit shows a notice", () => {
    const { panel, doc } = setup();
    const session = chatSession([[19, 3, "chat rate limited"]]);
    panel.update(session);
    assert.equal(doc.getElementById("chat-notice").hidden, false);
    assert.match(doc.getElementById("chat-notice").textContent, /too many/);
  });

  test("the log: 'sender: text' per line, newest at the bottom, channels as data-channel", () => {
    const { panel, log } = setup();
    const session = chatSession([
      [20, 0, "ann", "hi"],
      [20, 1, "server", "restart in 5 minutes"],
      [20, 5, "bob", "<b>not markup</b>"],
    ]);
    panel.update(session);
    assert.deepEqual(log.children.map((li) => li.tagName), ["LI", "LI", "LI"]);
    assert.deepEqual(log.children.map((li) => li.textContent), [
      "ann: hi",
      "server: restart in 5 minutes",
      "bob: <b>not markup</b>",
    ]);
    assert.deepEqual(log.children.map((li) => li.dataset.channel), ["0", "1", "5"]);
    assert.ok(log.children[1].classList.contains("announcement"));
    assert.ok(!log.children[2].classList.contains("announcement"), "an unknown channel is chat");
    assert.equal(log.scrollTop, log.scrollHeight, "scrolled to the newest");
    const before = log.children;
    panel.update(session);
    assert.equal(log.children, before, "no redraw without news");
    for (let i = 0; i < 60; i++) session.handle(decodeServerMessage(encode([20, 0, "ann", `n${i}`])), 0);
    panel.update(session);
    assert.equal(log.children.length, 50);
    assert.equal(log.children.at(-1).textContent, "ann: n59");
  });
});
