// Keyboard and mouse to the arena's control state (docs/protocol.md sections 5.3 and 7.2).
//
// An Input is the whole control state (section 8), so this module only keeps what
// is held: WASD or arrow keys move, the mouse aims, the left mouse button or Space fires,
// the right mouse button or E shoots hitscan. A click shorter than a tick still shoots
// once: it is latched until the next sample.
// Keys typed into a text field (the chat line, the name form) never move or fire.

import { isTypingTarget } from "../../ui/chat.js";
import { roundHalfEven } from "./movement.js";

export const Buttons = Object.freeze({ UP: 1, DOWN: 2, LEFT: 4, RIGHT: 8, FIRE: 16, HITSCAN: 32 });
export const AIM_STEPS = 65536;

const KEY_BUTTONS = new Map([
  ["KeyW", Buttons.UP],
  ["ArrowUp", Buttons.UP],
  ["KeyS", Buttons.DOWN],
  ["ArrowDown", Buttons.DOWN],
  ["KeyA", Buttons.LEFT],
  ["ArrowLeft", Buttons.LEFT],
  ["KeyD", Buttons.RIGHT],
  ["ArrowRight", Buttons.RIGHT],
  ["Space", Buttons.FIRE],
  ["KeyE", Buttons.HITSCAN],
]);

// PointerEvent.buttons bits: primary (left) and secondary (right).
const MOUSE_PRIMARY = 1;
const MOUSE_SECONDARY = 2;

export { isTypingTarget };

/** The button bit of a KeyboardEvent.code, or 0. */
export function buttonForKey(code) {
  return KEY_BUTTONS.get(code) ?? 0;
}

/** Aim (0..65535, 0 = +x, increasing toward +y) of the direction (dx, dy) in world axes. */
export function aimFromVector(dx, dy) {
  if (dx === 0 && dy === 0) return 0;
  const turns = Math.atan2(dy, dx) / (2 * Math.PI);
  return ((roundHalfEven(turns * AIM_STEPS) % AIM_STEPS) + AIM_STEPS) % AIM_STEPS;
}

/** Held keys and mouse state; `sample()` is called once per tick by the input loop. */
export class InputState {
  constructor() {
    this.keys = new Set();
    this.mouseDown = false;
    this.hitscanMouseDown = false;
    this.latched = 0; // buttons pressed since the last sample
    this.aim = 0;
  }

  keyDown(code) {
    const button = buttonForKey(code);
    if (!button) return false;
    this.keys.add(code);
    if (button & (Buttons.FIRE | Buttons.HITSCAN)) this.latched |= button;
    return true;
  }

  keyUp(code) {
    return this.keys.delete(code);
  }

  pointerDown() {
    this.mouseButtons(this.mouseButtonMask() | MOUSE_PRIMARY);
  }

  pointerUp() {
    this.mouseButtons(this.mouseButtonMask() & ~MOUSE_PRIMARY);
  }

  /** The mouse buttons held now (a PointerEvent.buttons mask): left fires, right hitscans. */
  mouseButtons(mask) {
    const fire = Boolean(mask & MOUSE_PRIMARY);
    const hitscan = Boolean(mask & MOUSE_SECONDARY);
    if (fire && !this.mouseDown) this.latched |= Buttons.FIRE;
    if (hitscan && !this.hitscanMouseDown) this.latched |= Buttons.HITSCAN;
    this.mouseDown = fire;
    this.hitscanMouseDown = hitscan;
  }

  mouseButtonMask() {
    return (this.mouseDown ? MOUSE_PRIMARY : 0) | (this.hitscanMouseDown ? MOUSE_SECONDARY : 0);
  }

  /** Everything released (the window lost focus: keyup events will not come). */
  releaseAll() {
    this.keys.clear();
    this.mouseDown = false;
    this.hitscanMouseDown = false;
  }

  buttons() {
    let buttons = this.latched;
    for (const code of this.keys) buttons |= buttonForKey(code);
    if (this.mouseDown) buttons |= Buttons.FIRE;
    if (this.hitscanMouseDown) buttons |= Buttons.HITSCAN;
    return buttons;
  }

  /**
   * The control state for the next Input as the game's input ({buttons, aim}: the
   * button bits, the aim in radians); consumes latched clicks.
   */
  sample() {
    const state = { buttons: this.buttons(), aim: (this.aim * 2 * Math.PI) / AIM_STEPS };
    this.latched = 0;
    return state;
  }
}

/**
 * Listen on the page: keys on `window`, the mouse on `canvas`. `toWorld(clientX, clientY)`
 * maps a mouse position to world coordinates and `origin()` gives the own player's
 * position (or null); the aim points from the player to the mouse.
 */
export function attachInput(state, canvas, { toWorld, origin }) {
  let mouse = null;
  const updateAim = () => {
    const from = origin();
    if (!mouse || !from) return;
    const [wx, wy] = toWorld(mouse.x, mouse.y);
    state.aim = aimFromVector(wx - from[0], wy - from[1]);
  };
  window.addEventListener("keydown", (event) => {
    if (isTypingTarget(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (state.keyDown(event.code)) event.preventDefault();
  });
  window.addEventListener("keyup", (event) => {
    if (state.keyUp(event.code)) event.preventDefault();
  });
  window.addEventListener("blur", () => state.releaseAll());
  // A second button pressed while one is held comes as a pointermove: read the mask.
  const mouseButtons = (event) => state.mouseButtons(event.buttons & (MOUSE_PRIMARY | MOUSE_SECONDARY));
  canvas.addEventListener("pointermove", (event) => {
    mouse = { x: event.clientX, y: event.clientY };
    updateAim();
    if (event.pointerType === "mouse") mouseButtons(event);
  });
  canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 && event.button !== 2) return;
    mouse = { x: event.clientX, y: event.clientY };
    updateAim();
    if (event.pointerType === "mouse") mouseButtons(event);
    else state.pointerDown(); // touch or pen: fire
    canvas.setPointerCapture?.(event.pointerId);
  });
  canvas.addEventListener("pointerup", (event) => {
    if (event.pointerType === "mouse") mouseButtons(event);
    else state.pointerUp();
  });
  canvas.addEventListener("pointercancel", () => state.mouseButtons(0));
  canvas.addEventListener("contextmenu", (event) => event.preventDefault());
  // The player moves under a still mouse: re-aim every frame, not only on mouse moves.
  return updateAim;
}
