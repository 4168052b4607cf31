"""The browser client in real headless Chromium against a real server.

Pages are driven as a player would: keys held down, a name typed into the
form. What the tests read comes from ``window.game`` (the page's own view of
the world) and from the DOM the player sees.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gameserver.cli.common import bundled_web_root
from gameserver.config import Config
from gameserver.core import GameHost
from gameserver.games.arena import ArenaRules, ArenaSettings, Buttons
from gameserver.protocol import CloseCode
from gameserver.recording import INPUT, JOIN, header, tick_record
from gameserver.rules import Player

from .conftest import ADMIN_TOKEN, ServerThread

Page = Any
PLAYING = "() => window.game && window.game.state === 'playing'"
ARENA = "games/arena/"  # the arena's page


# The player's x once it has not changed for 300 ms (false until then).
STILL = """() => {
    const x = window.game.me.x, now = performance.now(), seen = window.__still;
    if (!seen || seen.x !== x) { window.__still = {x, since: now}; return false; }
    return now - seen.since > 300 ? {x} : false;
}"""


def join(page: Page) -> int:
    """Wait until the page plays; its entity id."""
    wait_until(page, PLAYING)
    return int(page.evaluate("() => window.game.entityId"))


def entity(page: Page, entity_id: int) -> dict[str, Any] | None:
    for item in page.evaluate("() => window.game.entities()"):
        if item["id"] == entity_id:
            return dict(item)
    return None


def wait_until(page: Page, predicate: str, arg: Any = None, timeout_ms: int = 15_000) -> Any:
    return page.wait_for_function(predicate, arg=arg, timeout=timeout_ms).json_value()


def operator_json(game_server: ServerThread, path: str) -> Any:
    """An operator route, with the admin token (without it: 401)."""
    url = game_server.page_url + path
    try:
        urllib.request.urlopen(url)
    except urllib.error.HTTPError as error:
        assert error.code == 401
    else:
        raise AssertionError(f"{path} answered without the admin token")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    return json.load(urllib.request.urlopen(request))


def seen_x(page: Page, entity_id: int) -> float:
    seen = entity(page, entity_id)
    assert seen is not None, f"entity {entity_id} not in view"
    return float(seen["x"])


def test_two_players_see_each_other_move(
    game_server: ServerThread, new_page: Callable[[str], Page]
) -> None:
    alice = new_page(game_server.page_url + ARENA + "?name=alice")
    bob = new_page(game_server.page_url + ARENA + "?name=bob")
    for page in (alice, bob):
        wait_until(page, PLAYING)
    alice_id = alice.evaluate("() => window.game.entityId")
    bob_id = bob.evaluate("() => window.game.entityId")
    assert alice_id and bob_id and alice_id != bob_id
    wait_until(bob, "id => window.game.entities().some(e => e.id === id)", alice_id)
    start_x = seen_x(bob, alice_id)
    start_predicted = alice.evaluate("() => window.game.me.x")
    direction = "ArrowRight" if start_x < 240 else "ArrowLeft"  # away from the nearer wall
    sign = 1 if direction == "ArrowRight" else -1
    alice.keyboard.down(direction)
    # Bob's page shows Alice moving while the key is held (the server moved her).
    wait_until(
        bob,
        "([id, x0, sign]) => window.game.entities().some("
        "  e => e.id === id && (e.x - x0) * sign > 60)",
        [alice_id, start_x, sign],
    )
    alice.keyboard.up(direction)
    moved_predicted = alice.evaluate("() => window.game.me.x")
    assert (moved_predicted - start_predicted) * sign > 60  # her own page moved her too
    # Once she stops, both pages agree on where she is.
    wait_until(
        bob,
        "([id, x]) => window.game.entities().some(e => e.id === id && Math.abs(e.x - x) < 1)",
        [alice_id, alice.evaluate("() => window.game.me.x")],
    )
    # The HUD shows a live game: state, a ping and a growing tick.
    assert alice.inner_text("#hud-state") == "playing"
    wait_until(alice, "() => window.game.pingMs !== null")
    assert "ms" in alice.inner_text("#hud-ping")
    assert int(alice.inner_text("#hud-tick")) > 0
    # The scoreboard names both players (names come from the public /api/roster).
    wait_until(
        alice,
        "() => ['alice', 'bob'].every(n => "
        "document.querySelector('#scoreboard').innerText.includes(n))",
    )


def test_a_spectator_page_sees_both_players(
    game_server: ServerThread, new_page: Callable[[str], Page]
) -> None:
    alice = new_page(game_server.page_url + ARENA + "?name=alice")
    bob = new_page(game_server.page_url + ARENA + "?name=bob")
    ids = [join(alice), join(bob)]
    watcher = new_page(game_server.page_url + ARENA + "?spectate")
    wait_until(watcher, "() => window.game.state === 'spectating'")
    assert watcher.evaluate("() => window.game.entityId") == 0
    wait_until(
        watcher, "ids => ids.every(id => window.game.entities().some(e => e.id === id))", ids
    )
    rooms = operator_json(game_server, "api/rooms")
    assert rooms[0]["spectators"] == 1 and rooms[0]["players"] == 2


def test_the_name_form_joins_under_the_typed_name(
    game_server: ServerThread, new_page: Callable[[str], Page]
) -> None:
    page = new_page(game_server.page_url + ARENA)
    page.wait_for_selector("#join-form:not([hidden])")
    assert page.evaluate("() => window.game.state") == "idle"
    page.fill("#name-input", "Zoë the brave")
    page.click("#join-button")
    wait_until(page, PLAYING)
    entity_id = page.evaluate("() => window.game.entityId")
    rooms = operator_json(game_server, "api/rooms")
    assert {"entity_id": entity_id, "name": "Zoë the brave"}.items() <= next(
        p for p in rooms[0]["roster"] if p["entity_id"] == entity_id
    ).items()


def test_a_page_survives_a_dropped_connection_and_resumes(
    game_server: ServerThread, new_page: Callable[[str], Page]
) -> None:
    # The page reaches the server through a TCP relay, which can cut the connection.
    page = new_page(game_server.relayed_page_url + ARENA + "?name=carol")
    wait_until(page, PLAYING)
    entity_id = page.evaluate("() => window.game.entityId")
    assert game_server.relay is not None
    relay = game_server.relay
    game_server.call(relay.drop_all)
    wait_until(page, "() => window.game.resumes === 1")
    wait_until(page, PLAYING)
    assert page.evaluate("() => window.game.entityId") == entity_id
    assert game_server.call(lambda: game_server.server.metrics.resumes) == 1
    # A server-side close for a lost cause (1011) is survived the same way.
    connections = game_server.call(lambda: list(game_server.server.connections))
    assert len(connections) == 1
    game_server.call(lambda: connections[0].close(CloseCode.INTERNAL_ERROR, "test"))
    wait_until(page, "() => window.game.resumes === 2")
    wait_until(page, PLAYING)
    assert page.evaluate("() => window.game.entityId") == entity_id
    # And the game goes on: the resumed player still moves.
    x0 = page.evaluate("() => window.game.me.x")
    key = "d" if x0 < 240 else "a"
    page.keyboard.down(key)
    wait_until(
        page,
        "([id, x0]) => window.game.entities().some(e => e.id === id && Math.abs(e.x - x0) > 40)",
        [entity_id, x0],
    )
    page.keyboard.up(key)


def test_the_monitor_shows_the_room_and_its_players(
    game_server: ServerThread, new_page: Callable[[str], Page]
) -> None:
    players = [new_page(game_server.page_url + ARENA + f"?name={n}") for n in ("alice", "bob")]
    ids = [join(page) for page in players]
    # The token once in the address; the page keeps a cookie and drops the token from the URL.
    monitor = new_page(game_server.page_url + f"monitor?token={ADMIN_TOKEN}")
    assert monitor.url == game_server.page_url + "monitor"
    monitor.wait_for_selector('#rooms tr[data-room="default"]')
    for entity_id, name in zip(ids, ("alice", "bob"), strict=True):
        row = monitor.wait_for_selector(f'[data-roster-entity="{entity_id}"]')
        assert name in row.inner_text()
    room_row = monitor.inner_text('#rooms tr[data-room="default"]')
    assert "arena" in room_row
    # Live: bandwidth shows traffic and the tick graph has been drawn.
    wait_until(
        monitor,
        "() => parseFloat(document.querySelector('#bandwidth-out').innerText) > 0",
    )
    assert monitor.evaluate(
        "() => { const c = document.querySelector('#tick-graph');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true; return false; }"
    )


def test_chat_typed_on_one_page_shows_on_the_other(
    game_server: ServerThread, new_page: Callable[[str], Page]
) -> None:
    alice = new_page(game_server.page_url + ARENA + "?name=alice")
    bob = new_page(game_server.page_url + ARENA + "?name=bob")
    join(alice)
    join(bob)
    x0 = alice.evaluate("() => window.game.me.x")
    alice.keyboard.press("Enter")  # opens the chat input
    alice.keyboard.type("good game, wasd")  # typing moves nobody
    alice.keyboard.press("Enter")
    wait_until(
        bob,
        "() => window.game.chat().some(m => m.sender === 'alice' && m.text === 'good game, wasd')",
    )
    assert "alice: good game, wasd" in bob.inner_text("#chat-log")
    assert alice.evaluate("() => window.game.me.x") == x0


def test_a_recorded_match_is_watched_in_the_browser(
    tmp_path: Path, new_page: Callable[[str], Page]
) -> None:
    # A short match, recorded the way a room records one: three players pacing left and right.
    settings = ArenaSettings(width=480.0, height=360.0, obstacle_count=0)
    game = GameHost(ArenaRules(settings, seed=5), tick_rate=30)
    items = [header(rules="arena", rules_version=ArenaRules.version, seed=5, tick_rate=30,
                    settings=settings, room="r", mode="m")]  # fmt: skip
    names = ("ann", "bob", "cy")
    ops = [[JOIN, name, name, game.join(Player(name, name)), {}] for name in names]
    for index in range(300):
        pace = Buttons.RIGHT if index % 40 < 20 else Buttons.LEFT
        inputs = [[INPUT, name, [int(pace), 0], None] for name in names]
        for _, player_id, fields, _ in inputs:
            game.set_input(player_id, game.decode_input(fields))
        game.step()
        items.append(tick_record(game.tick, (ops if index == 0 else []) + inputs, None, None))
    recording = tmp_path / "match.rec"
    recording.write_bytes(b"".join(items))
    config = Config.of(host="127.0.0.1", port=0, web_root=bundled_web_root())
    replay = ServerThread(config, replay=recording, replay_speed=1.0)
    replay.start()
    try:
        page = new_page(replay.page_url + ARENA + "?spectate")
        wait_until(page, "() => window.game.state === 'spectating'")
        wait_until(
            page, "() => window.game.entities().filter(e => e.kind === 'player').length === 3"
        )
        first = ops[0][3]
        x0 = entity(page, first)["x"]  # type: ignore[index]
        wait_until(
            page,
            "([id, x0]) => window.game.entities()"
            ".some(e => e.id === id && Math.abs(e.x - x0) > 20)",
            [first, x0],
        )
    finally:
        replay.stop()


def test_an_arena_page_reloaded_comes_back_as_the_same_player(
    game_server: ServerThread, new_page: Callable[[str], Page]
) -> None:
    page = new_page(game_server.page_url + ARENA + "?name=dora")
    entity_id = join(page)
    x0 = page.evaluate("() => window.game.me.x")
    key = "d" if x0 < 240 else "a"
    page.keyboard.down(key)
    wait_until(page, "x0 => Math.abs(window.game.me.x - x0) > 30", x0)
    page.keyboard.up(key)
    # Let the last inputs reach the server and the prediction settle on its answer.
    moved = wait_until(page, STILL)["x"]
    page.reload()
    # The same entity, where it was: the server held it while the page loaded again.
    assert join(page) == entity_id
    assert page.evaluate("() => window.game.resumes") == 1
    assert abs(page.evaluate("() => window.game.me.x") - moved) < 10
    rooms = operator_json(game_server, "api/rooms")
    assert [p["entity_id"] for p in rooms[0]["roster"]] == [entity_id]
