// The chat panel: the recent Chat messages, newest at the bottom, and a line to type in.
//
// Enter (outside any text field) opens the line and takes the keyboard from the game;
// Enter in the line sends it and closes it, Escape closes it and drops the draft, and
// leaving the field (a click on the arena) closes it but keeps the draft. Announcements
// (channel 1) are styled apart through their data-channel attribute; any other channel
// number shows as ordinary chat.

import { ChatChannel, sayProblem } from "../sdk/protocol.js";

const NOTICE_S = 4;

/** Whether keys pressed in `target` are text being typed, not game controls. */
export function isTypingTarget(target) {
  if (!target) return false;
  const tag = typeof target.tagName === "string" ? target.tagName.toUpperCase() : "";
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable === true;
}

/** The text of one log line: "sender: text". */
export function chatLine({ sender, text }) {
  return `${sender}: ${text}`;
}

/**
 * What a keydown means for the chat: "open", "send", "close" or null (not the chat's).
 * `open`: the line is open; `typing`: the key went to a text field; `composing`: an input
 * method is still composing (its Enter is not ours).
 */
export function chatKeyAction({ key, open, typing, composing = false, modified = false }) {
  if (composing) return null;
  if (open) {
    if (key === "Enter") return "send";
    if (key === "Escape") return "close";
    return null;
  }
  return key === "Enter" && !typing && !modified ? "open" : null;
}

/** What to send for a typed draft: trimmed; "" means nothing to send. */
export function chatDraft(value) {
  return value.trim();
}

export class ChatPanel {
  /**
   * `say(text)` sends a line and returns whether it went out; `onOpen()` runs when the line
   * opens (the game releases held keys); `now()` is the time in seconds.
   */
  constructor(doc, { say, onOpen = () => {}, now = () => performance.now() / 1000 }) {
    this.doc = doc;
    this.root = doc.getElementById("chat");
    this.log = doc.getElementById("chat-log");
    this.input = doc.getElementById("chat-input");
    this.notice = doc.getElementById("chat-notice");
    this.say = say;
    this.onOpen = onOpen;
    this.now = now;
    this.shownReceived = 0;
    this.shownRateLimited = 0;
    this.noticeUntilS = -Infinity;
  }

  get isOpen() {
    return !this.input.hidden;
  }

  /** Listen for the keys that open the line and for the line's own keys. */
  attach(win = window) {
    win.addEventListener("keydown", (event) => {
      if (event.target === this.input) return; // the line's own listener
      const action = chatKeyAction({
        key: event.key,
        open: this.isOpen,
        typing: isTypingTarget(event.target),
        composing: event.isComposing,
        modified: event.ctrlKey || event.metaKey || event.altKey,
      });
      if (action === "open") {
        event.preventDefault();
        this.open();
      }
    });
    this.input.addEventListener("keydown", (event) => {
      const action = chatKeyAction({ key: event.key, open: true, typing: true, composing: event.isComposing });
      if (action === "send") {
        event.preventDefault();
        this.send();
      } else if (action === "close") {
        event.preventDefault();
        this.input.value = "";
        this.close();
      }
    });
    this.input.addEventListener("blur", () => this.close());
  }

  open() {
    if (this.isOpen) return;
    this.onOpen();
    this.input.hidden = false;
    this.root.dataset.open = "";
    this.input.focus();
  }

  close() {
    if (!this.isOpen) return;
    this.input.hidden = true;
    delete this.root.dataset.open;
    this.input.blur();
  }

  send() {
    const text = chatDraft(this.input.value);
    if (!text) {
      this.close();
      return;
    }
    const problem = sayProblem(text);
    if (problem) {
      this.showNotice(problem);
      return;
    }
    if (!this.say(text)) {
      this.showNotice("not connected: the message was not sent");
      return;
    }
    this.input.value = "";
    this.close();
  }

  showNotice(text) {
    this.notice.textContent = text;
    this.notice.hidden = false;
    this.noticeUntilS = this.now() + NOTICE_S;
  }

  /** Redraw from the session if anything changed (cheap to call every frame). */
  update(session) {
    if (session.chatRateLimited !== this.shownRateLimited) {
      this.shownRateLimited = session.chatRateLimited;
      this.showNotice("too many messages: the last one was dropped");
    }
    if (!this.notice.hidden && this.now() >= this.noticeUntilS) this.notice.hidden = true;
    if (session.chatReceived === this.shownReceived) return;
    this.shownReceived = session.chatReceived;
    this.render(session.chat);
  }

  render(messages) {
    const doc = this.doc;
    this.log.replaceChildren(
      ...messages.map((message) => {
        const li = doc.createElement("li");
        li.dataset.channel = String(message.channel);
        if (message.channel === ChatChannel.ANNOUNCEMENT) li.classList.add("announcement");
        const sender = doc.createElement("span");
        sender.className = "sender";
        sender.textContent = message.sender;
        li.append(sender, `: ${message.text}`);
        return li;
      }),
    );
    this.log.scrollTop = this.log.scrollHeight;
  }
}

