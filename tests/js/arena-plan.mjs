// The interpolation plan of clients/_interpolation.py (the Python reference): players and
// projectiles move (x, y in 1/16 units) and turn (angle in 256 steps); obstacles hold.

const MOVING = Object.freeze({
  tracks: [
    { index: 1, name: "x", steps: 0, scale: 16 },
    { index: 2, name: "y", steps: 0, scale: 16 },
    { index: 3, name: "angle", steps: 256, scale: 1 },
  ],
  x: 0,
  y: 1,
});

export const ARENA_PLAN = Object.freeze([MOVING, MOVING, null]);

/** An interpolated view with its angle back in wire steps, as the Python reference has it. */
export function inSteps(view) {
  return view && { ...view, angle: (view.angle * 256) / (2 * Math.PI) };
}
