// Player movement on the 1/16 grid (docs/protocol.md section 7.6); gameserver/games/arena/movement.py is the reference.
//
// An exact port: the same IEEE-double operations in the same order, and Python's
// rounding rules (int() truncates, round() rounds half to even), so a prediction made
// here is bit-identical to the server's step.

import { roundHalfEven } from "../../sdk/schema.js";

// Python's round() of a float to an int (nearest, ties to even), as the SDK's codecs use it.
export { roundHalfEven };

export const POSITION_SCALE = 16;
const SCALE = POSITION_SCALE;
const DIAGONAL = Math.sqrt(0.5);
export const MOVE_BITS = 15; // UP | DOWN | LEFT | RIGHT

/** Nearest point of the 1/16 grid. */
export function snap(v) {
  return roundHalfEven(v * SCALE) / SCALE;
}

/** Quantized [lo, hi] for a circle centre inside [0, size]. */
export function boundsQ(size, radius) {
  let lo = Math.ceil(radius * SCALE);
  let hi = Math.floor((size - radius) * SCALE);
  if (hi < lo) {
    lo = hi = Math.floor((lo + hi) / 2); // no valid spot: the middle
  }
  return [lo, hi];
}

/** Snap to the grid and keep the circle inside the world (bounds rounded inward). */
export function clampSnap(x, y, width, height, radius) {
  const [xlo, xhi] = boundsQ(width, radius);
  const [ylo, yhi] = boundsQ(height, radius);
  const xq = Math.min(Math.max(roundHalfEven(x * SCALE), xlo), xhi);
  const yq = Math.min(Math.max(roundHalfEven(y * SCALE), ylo), yhi);
  return [xq / SCALE, yq / SCALE];
}

/** Per-tick step and bounds computed once; returns (x, y, buttons) => [x, y]. */
export function makeMover(dt, speed, width, height, radius) {
  const axis = Math.trunc(speed * dt * SCALE);
  const diag = Math.trunc(speed * dt * SCALE * DIAGONAL);
  const offsets = [];
  for (let buttons = 0; buttons < 16; buttons++) {
    const dx = ((buttons >> 3) & 1) - ((buttons >> 2) & 1); // RIGHT - LEFT
    const dy = ((buttons >> 1) & 1) - (buttons & 1); // DOWN - UP
    const d = dx && dy ? diag : axis;
    offsets.push([dx * d, dy * d]);
  }
  const [xlo, xhi] = boundsQ(width, radius);
  const [ylo, yhi] = boundsQ(height, radius);
  return function mover(x, y, buttons) {
    const [ox, oy] = offsets[buttons & 15];
    let xq = roundHalfEven(x * SCALE) + ox;
    let yq = roundHalfEven(y * SCALE) + oy;
    xq = xq < xlo ? xlo : xq > xhi ? xhi : xq;
    yq = yq < ylo ? ylo : yq > yhi ? yhi : yq;
    return [xq / SCALE, yq / SCALE];
  };
}

/** One tick of movement from the direction bits (opposite bits cancel). */
export function move(x, y, buttons, dt, speed, width, height, radius) {
  return makeMover(dt, speed, width, height, radius)(x, y, buttons);
}

/** Push a circle of `radius` at (x, y) out of the circle (cx, cy, cr) if they overlap. */
export function pushOutOfCircle(x, y, radius, cx, cy, cr) {
  const ddx = x - cx;
  const ddy = y - cy;
  const reach = radius + cr;
  const d2 = ddx * ddx + ddy * ddy;
  if (d2 >= reach * reach) return [x, y];
  let nx;
  let ny;
  if (d2 === 0) {
    nx = 1;
    ny = 0; // dead centre: +x, as the server does
  } else {
    const dist = Math.sqrt(d2);
    nx = ddx / dist;
    ny = ddy / dist;
  }
  const px = (cx + nx * reach) * SCALE;
  const py = (cy + ny * reach) * SCALE;
  const qx = nx > 0 ? Math.ceil(px) : nx < 0 ? Math.floor(px) : roundHalfEven(px);
  const qy = ny > 0 ? Math.ceil(py) : ny < 0 ? Math.floor(py) : roundHalfEven(py);
  return [qx / SCALE, qy / SCALE];
}

/** Push a player out of every overlapping obstacle [x, y, radius], in the given order. */
export function resolveObstacles(x, y, radius, obstacles) {
  for (const [cx, cy, cr] of obstacles) [x, y] = pushOutOfCircle(x, y, radius, cx, cy, cr);
  return [x, y];
}
