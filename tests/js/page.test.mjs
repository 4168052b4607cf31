// The page's pure helpers: input mapping, HUD text, URL options, monitor arithmetic.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { describeState, scoreRows } from "../../clients/web/games/arena/hud.js";
import { aimFromVector, Buttons, buttonForKey, InputState } from "../../clients/web/games/arena/input.js";
import { formatKBps, formatUptime, RateMeter, TickHistory } from "../../clients/web/js/monitor-model.js";
import { mergeInfo, parsePageOptions, webSocketUrl } from "../../clients/web/sdk/matchmaking.js";
import { computeCamera } from "../../clients/web/games/arena/render.js";

describe("input", () => {
  test("aim: 0 = +x, clockwise on screen since +y is down (section 5.3)", () => {
    assert.equal(aimFromVector(1, 0), 0);
    assert.equal(aimFromVector(0, 1), 16384); // down
    assert.equal(aimFromVector(-1, 0), 32768); // left
    assert.equal(aimFromVector(0, -1), 49152); // up
    assert.equal(aimFromVector(1, 1), 8192); // section 10.4: down-right at 45 degrees
    assert.equal(aimFromVector(1, -1e-9), 0, "just above +x wraps to 0, never 65536");
    assert.equal(aimFromVector(0, 0), 0);
  });

  test("WASD and arrows move, Space fires", () => {
    assert.equal(buttonForKey("KeyW"), Buttons.UP);
    assert.equal(buttonForKey("ArrowDown"), Buttons.DOWN);
    assert.equal(buttonForKey("KeyA"), Buttons.LEFT);
    assert.equal(buttonForKey("ArrowRight"), Buttons.RIGHT);
    assert.equal(buttonForKey("Space"), Buttons.FIRE);
    assert.equal(buttonForKey("KeyE"), Buttons.HITSCAN);
    assert.equal(Buttons.HITSCAN, 32);
    assert.equal(buttonForKey("KeyQ"), 0);
  });

  test("held state: keys combine, a short click still fires once", () => {
    const input = new InputState();
    input.keyDown("KeyD");
    input.keyDown("ArrowUp");
    assert.equal(input.sample().buttons, Buttons.RIGHT | Buttons.UP);
    input.pointerDown();
    input.pointerUp(); // released before the tick
    assert.equal(input.sample().buttons & Buttons.FIRE, Buttons.FIRE);
    assert.equal(input.sample().buttons & Buttons.FIRE, 0, "only once");
    input.pointerDown();
    assert.equal(input.sample().buttons & Buttons.FIRE, Buttons.FIRE);
    assert.equal(input.sample().buttons & Buttons.FIRE, Buttons.FIRE, "held: every tick");
    input.releaseAll();
    assert.equal(input.sample().buttons, 0);
    assert.equal(input.keyDown("KeyQ"), false);
  });

  test("the right mouse button or E holds HITSCAN; a short right-click still shoots once", () => {
    const input = new InputState();
    input.mouseButtons(2); // right button down
    assert.equal(input.sample().buttons, Buttons.HITSCAN);
    input.mouseButtons(3); // left added while right held (a chorded pointermove)
    assert.equal(input.sample().buttons, Buttons.HITSCAN | Buttons.FIRE);
    input.mouseButtons(0);
    assert.equal(input.sample().buttons, 0);
    input.mouseButtons(2);
    input.mouseButtons(0); // released before the tick
    assert.equal(input.sample().buttons, Buttons.HITSCAN);
    assert.equal(input.sample().buttons, 0, "only once");
    input.keyDown("KeyE");
    assert.equal(input.sample().buttons, Buttons.HITSCAN);
    assert.equal(input.sample().buttons, Buttons.HITSCAN, "held: every tick");
    input.keyUp("KeyE");
    assert.equal(input.sample().buttons, 0);
  });
});

describe("HUD", () => {
  test("the state line names the close code", () => {
    assert.equal(describeState("playing", null, null), "playing");
    assert.equal(describeState("closed", 4009, "room full"), "closed: ROOM_FULL (4009) room full");
    assert.equal(describeState("closed", null, "no welcome"), "closed: no welcome");
  });

  test("scoreboard: mirror scores win, the roster adds names and players out of view", () => {
    const entities = [
      { id: 2, type: "Player", score: 3 },
      { id: 4, type: "Player", score: 5 },
      { id: 3, type: "Projectile", owner: 2 },
    ];
    const roster = [
      { entity_id: 2, name: "ann", score: 1, connected: true }, // stale: the mirror says 3
      { entity_id: 9, name: "zed", score: 4, connected: false },
    ];
    assert.deepEqual(scoreRows(entities, roster, 2), [
      { id: 4, name: "#4", score: 5, self: false },
      { id: 9, name: "zed", score: 4, self: false },
      { id: 2, name: "ann", score: 3, self: true },
    ]);
  });
});

describe("page options", () => {
  test("?spectate, ?name, ?token, and the room: ?mode, ?code, ?room, ?private", () => {
    const none = { spectate: false, name: null, token: null, mode: null, code: null, room: null, private: false };
    assert.deepEqual(parsePageOptions("?spectate"), { ...none, spectate: true });
    assert.deepEqual(parsePageOptions("?name=ann&token=a.b"), { ...none, name: "ann", token: "a.b" });
    assert.deepEqual(parsePageOptions(""), none);
    assert.deepEqual(parsePageOptions("?mode=duel&private"), { ...none, mode: "duel", private: true });
    assert.deepEqual(parsePageOptions("?code=K7PQ2M&room=r"), { ...none, code: "K7PQ2M", room: "r" });
  });

  test("the WebSocket URL follows the page's scheme and host", () => {
    assert.equal(webSocketUrl({ protocol: "http:", host: "h:8000" }, "/ws", null), "ws://h:8000/ws");
    assert.equal(webSocketUrl({ protocol: "https:", host: "h" }, "/ws", "x-y_z.t"), "wss://h/ws?token=x-y_z.t");
    assert.equal(webSocketUrl({ protocol: "http:", host: "h" }, "/ws", null, { room: "r 1" }), "ws://h/ws?room=r+1");
  });

  test("/api/info over the defaults", () => {
    const defaults = { ws_path: "/ws", subprotocol: "gameserver.v2", tokens_required: false, modes: ["default"], mode_games: {} };
    assert.deepEqual(mergeInfo(null), defaults);
    assert.deepEqual(mergeInfo({ ws_path: "/game", tokens_required: true, modes: ["default", "cards"], mode_games: { cards: "crazyeights" } }), {
      ...defaults,
      ws_path: "/game",
      tokens_required: true,
      modes: ["default", "cards"],
      mode_games: { cards: "crazyeights" },
    });
    assert.equal(mergeInfo({ ws_path: "ws" }).ws_path, "/ws", "a relative path is not trusted");
  });
});

describe("camera", () => {
  test("a player's camera centres the player", () => {
    const cam = computeCamera(800, 600, 1000, 1000, [250, 400]);
    assert.equal(250 * cam.scale + cam.offsetX, 400);
    assert.equal(400 * cam.scale + cam.offsetY, 300);
  });

  test("a spectator sees the whole world", () => {
    const cam = computeCamera(800, 600, 1000, 1000, null);
    assert.ok(cam.offsetY >= 0 && 1000 * cam.scale + cam.offsetY <= 600);
    assert.ok(cam.offsetX >= 0 && 1000 * cam.scale + cam.offsetX <= 800);
  });
});

describe("monitor arithmetic", () => {
  test("rates from successive counters; a reset gives no rate", () => {
    const meter = new RateMeter();
    assert.equal(meter.update(10, 5000), null);
    assert.equal(meter.update(12, 9000), 2000);
    assert.equal(meter.update(13, 100), null, "counter went down: the server restarted");
    assert.equal(meter.update(13, 200), null, "no time passed");
    assert.equal(meter.update(14, 1200), 1000);
    assert.equal(formatKBps(2000), "2.0 kB/s");
    assert.equal(formatKBps(null), "–");
  });

  test("tick history keeps the last 120 samples and a round scale", () => {
    const history = new TickHistory();
    for (let i = 0; i < 130; i++) history.push(0.4, i === 129 ? 3.3 : 1.2);
    assert.equal(history.samples.length, 120);
    assert.equal(history.scaleMs(), 5);
    assert.equal(new TickHistory().scaleMs(), 1);
  });

  test("uptime", () => {
    assert.equal(formatUptime(6.9), "6s");
    assert.equal(formatUptime(245), "4m 05s");
    assert.equal(formatUptime(3723), "1h 02m 03s");
  });
});
