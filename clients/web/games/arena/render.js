// Drawing the arena on a canvas, top-down, +y down (docs/protocol.md section 7).
//
// Entities come decoded by the SDK from the game's description (world units, radians).
// Obstacles are drawn from the mirror (they never move); other players and projectiles
// from the SDK's interpolation, about three snapshot intervals in the past; the own
// player from the prediction, now. A player's camera follows its own player; a
// spectator sees the whole world scaled to fit.

const PLAYER_VIEW_SPAN = 640; // world units across the shorter side of a player's screen
const SPECTATOR_MARGIN_PX = 16;
const GRID_STEP = 100; // the server's interest cell size, a useful sense of scale
const DEFAULT_PLAYER_RADIUS = 16;
const DEFAULT_PROJECTILE_RADIUS = 4;
const TURN = 2 * Math.PI;
const SHOT_SHOW_S = 0.15; // how long a hitscan shot's line stays

const COLORS = {
  background: "#0e1116",
  floor: "#1a1f27",
  grid: "#232a34",
  border: "#3b4656",
  obstacle: "#475467",
  obstacleEdge: "#667085",
  me: "#38bdf8",
  other: "#f97066",
  dead: "#667085",
  projectile: "#fde68a",
  shot: "#fef3c7",
  hpBack: "#111827",
  hp: "#4ade80",
  hpLow: "#f87171",
  text: "#e5e7eb",
};

/**
 * Screen = world * scale + offset. `focus` ([x, y] or null): the point to centre on;
 * without one the whole world is fitted (spectators).
 */
export function computeCamera(width, height, worldWidth, worldHeight, focus) {
  if (focus) {
    const scale = Math.min(width, height) / PLAYER_VIEW_SPAN;
    return { scale, offsetX: width / 2 - focus[0] * scale, offsetY: height / 2 - focus[1] * scale };
  }
  const usableW = Math.max(1, width - 2 * SPECTATOR_MARGIN_PX);
  const usableH = Math.max(1, height - 2 * SPECTATOR_MARGIN_PX);
  const scale = Math.min(usableW / worldWidth, usableH / worldHeight);
  return {
    scale,
    offsetX: (width - worldWidth * scale) / 2,
    offsetY: (height - worldHeight * scale) / 2,
  };
}

export class Renderer {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.camera = { scale: 1, offsetX: 0, offsetY: 0 };
    this.width = 0;
    this.height = 0;
  }

  /** Match the backing store to the element's size and the device pixel ratio. */
  resize() {
    const ratio = window.devicePixelRatio || 1;
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    if (width !== this.width || height !== this.height || this.ratio !== ratio) {
      this.width = width;
      this.height = height;
      this.ratio = ratio;
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
    }
    this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  }

  /** World coordinates under a mouse position (clientX, clientY). */
  toWorld(clientX, clientY) {
    const rect = this.canvas.getBoundingClientRect();
    const { scale, offsetX, offsetY } = this.camera;
    return [(clientX - rect.left - offsetX) / scale, (clientY - rect.top - offsetY) / scale];
  }

  /**
   * One frame. `view`: {session, remote (Map id -> interpolated {x, y, aim}), me ([x, y]
   * or null), names (Map id -> name), shots ([{shooter, x, y, receivedS}]), nowS (the
   * page clock, for fading shots)}.
   */
  draw({ session, remote, me, names, shots = [], nowS = null }) {
    this.resize();
    const ctx = this.ctx;
    ctx.fillStyle = COLORS.background;
    ctx.fillRect(0, 0, this.width, this.height);
    const welcome = session.welcome;
    if (!welcome) return;
    const params = welcome.params;
    const worldW = params.width ?? welcome.worldWidth;
    const worldH = params.height ?? welcome.worldHeight;
    this.camera = computeCamera(this.width, this.height, worldW, worldH, me);
    this.drawFloor(worldW, worldH);
    const entities = session.entities();
    for (const entity of entities) {
      if (entity.type === "Obstacle") this.drawObstacle(entity);
    }
    const playerRadius = params.player_radius ?? DEFAULT_PLAYER_RADIUS;
    const projectileRadius = params.projectile_radius ?? DEFAULT_PROJECTILE_RADIUS;
    const selfId = session.entityId;
    for (const entity of entities) {
      const pose = { ...entity, ...remote.get(entity.id) };
      if (entity.type === "Projectile") {
        this.drawProjectile(pose, projectileRadius);
      } else if (entity.type === "Player") {
        const isSelf = entity.id === selfId;
        const at = isSelf && me ? { ...entity, x: me[0], y: me[1] } : pose;
        this.drawPlayer(at, playerRadius, isSelf, names.get(entity.id) ?? `#${entity.id}`, params.max_hp);
      }
    }
    if (nowS !== null) this.drawShots(session, shots, remote, me, nowS);
  }

  /** Hitscan shots of the last SHOT_SHOW_S: a fading line from the shooter to the end. */
  drawShots(session, shots, remote, me, nowS) {
    const ctx = this.ctx;
    for (const shot of shots) {
      const age = nowS - shot.receivedS;
      if (age < 0 || age > SHOT_SHOW_S) continue;
      let from = shot.shooter === session.entityId && me ? { x: me[0], y: me[1] } : remote.get(shot.shooter);
      if (!from) from = session.entity(shot.shooter);
      if (!from) continue;
      const [x0, y0] = this.screen(from.x, from.y);
      const [x1, y1] = this.screen(shot.x, shot.y);
      ctx.globalAlpha = 1 - age / SHOT_SHOW_S;
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
      ctx.strokeStyle = COLORS.shot;
      ctx.lineWidth = 2;
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }

  screen(x, y) {
    const { scale, offsetX, offsetY } = this.camera;
    return [x * scale + offsetX, y * scale + offsetY];
  }

  drawFloor(worldW, worldH) {
    const ctx = this.ctx;
    const [x0, y0] = this.screen(0, 0);
    const [x1, y1] = this.screen(worldW, worldH);
    ctx.fillStyle = COLORS.floor;
    ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
    ctx.strokeStyle = COLORS.grid;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let gx = GRID_STEP; gx < worldW; gx += GRID_STEP) {
      const [sx] = this.screen(gx, 0);
      ctx.moveTo(sx, y0);
      ctx.lineTo(sx, y1);
    }
    for (let gy = GRID_STEP; gy < worldH; gy += GRID_STEP) {
      const [, sy] = this.screen(0, gy);
      ctx.moveTo(x0, sy);
      ctx.lineTo(x1, sy);
    }
    ctx.stroke();
    ctx.strokeStyle = COLORS.border;
    ctx.lineWidth = 2;
    ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
  }

  drawObstacle(obstacle) {
    const ctx = this.ctx;
    const [sx, sy] = this.screen(obstacle.x, obstacle.y);
    const r = obstacle.radius * this.camera.scale;
    ctx.beginPath();
    ctx.arc(sx, sy, r, 0, TURN);
    ctx.fillStyle = COLORS.obstacle;
    ctx.fill();
    ctx.strokeStyle = COLORS.obstacleEdge;
    ctx.lineWidth = 2;
    ctx.stroke();
  }

  drawProjectile(pose, radius) {
    const ctx = this.ctx;
    const [sx, sy] = this.screen(pose.x, pose.y);
    ctx.beginPath();
    ctx.arc(sx, sy, Math.max(2, radius * this.camera.scale), 0, TURN);
    ctx.fillStyle = COLORS.projectile;
    ctx.fill();
  }

  drawPlayer(pose, radius, isSelf, name, maxHp = 100) {
    const ctx = this.ctx;
    const alive = pose.flags.ALIVE;
    const [sx, sy] = this.screen(pose.x, pose.y);
    const r = Math.max(3, radius * this.camera.scale);
    const color = !alive ? COLORS.dead : isSelf ? COLORS.me : COLORS.other;
    ctx.globalAlpha = alive ? 1 : 0.5;
    ctx.beginPath();
    ctx.arc(sx, sy, r, 0, TURN);
    ctx.fillStyle = color;
    ctx.fill();
    if (isSelf) {
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 2;
      ctx.stroke();
    }
    const angle = pose.aim;
    ctx.beginPath();
    ctx.moveTo(sx, sy);
    ctx.lineTo(sx + Math.cos(angle) * r * 1.5, sy + Math.sin(angle) * r * 1.5);
    ctx.strokeStyle = color;
    ctx.lineWidth = Math.max(2, r / 4);
    ctx.stroke();
    ctx.globalAlpha = 1;
    // hp bar above, name below
    const barW = Math.max(24, r * 2);
    const hp = Math.max(0, Math.min(1, pose.hp / (maxHp || 100)));
    ctx.fillStyle = COLORS.hpBack;
    ctx.fillRect(sx - barW / 2, sy - r - 10, barW, 5);
    ctx.fillStyle = hp > 0.3 ? COLORS.hp : COLORS.hpLow;
    ctx.fillRect(sx - barW / 2, sy - r - 10, barW * hp, 5);
    ctx.fillStyle = COLORS.text;
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillText(name, sx, sy + r + 4);
  }
}
