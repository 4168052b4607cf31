"""Game pages made from the browser SDK, in real headless Chromium against a real server.

The card game is played by two pages to the end of a match, as two people would play
it: clicking a playable card of their hand, drawing, passing. What the tests read comes
from ``window.game`` (the page's own decoded view) and from the DOM the player sees.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gameserver.cli.common import bundled_web_root
from gameserver.config import Config, Mode

from .conftest import ServerThread

Page = Any
CARDS = "games/crazyeights/?mode=cards"
# What changes whenever a move is made: the next action waits for it.
TABLE_KEY = "() => JSON.stringify([window.game.table(), window.game.seats()])"


@pytest.fixture
def cards_server() -> Iterator[ServerThread]:
    # Two seats, so the match starts as soon as both are taken; short turns, so a page
    # that misses its turn does not hold the test up. The default mode is the arena.
    cards = Mode.of(
        "cards",
        game="crazyeights",
        max_players=2,
        tick_rate=30,
        settings={"min_players": 2, "max_players": 2, "turn_seconds": 4},
    )
    bench = Mode.of("bench", game="bench", max_players=8)
    config = Config.of(
        host="127.0.0.1", port=0, seed=5, web_root=bundled_web_root(), modes=(cards, bench),
        shutdown_timeout_s=0.5,
    )  # fmt: skip
    thread = ServerThread(config)
    thread.start()
    yield thread
    thread.stop()


def wait_until(page: Page, predicate: str, arg: Any = None, timeout_ms: int = 15_000) -> Any:
    return page.wait_for_function(predicate, arg=arg, timeout=timeout_ms).json_value()


def seated(page: Page) -> None:
    wait_until(page, "() => window.game.state === 'playing' && window.game.mySeat !== null")


def hand_ids(page: Page) -> set[int]:
    return {card["id"] for card in page.evaluate("() => window.game.hand()")}


def shows_only_its_own_hand(page: Page) -> list[dict[str, Any]]:
    """The page's hand is its seat's cards, in its view and on its screen."""
    view = page.evaluate(
        "() => ({hand: window.game.hand(), seat: window.game.mySeat,"
        " cards: window.game.entities().filter(e => e.type === 'Card').length,"
        " shown: document.querySelectorAll('#hand .card').length})"
    )
    if view["seat"] is None:
        return []
    assert view["cards"] == len(view["hand"]) == view["seat"]["cards"], view
    return list(view["hand"])


def take_turn(page: Page) -> None:
    """Play as a person would: a playable card (an eight names clubs), else draw, else pass."""
    before = page.evaluate(TABLE_KEY)
    card = page.query_selector('#hand .card[data-playable="true"]')
    if card is not None:
        rank = card.get_attribute("data-rank")
        card.click()
        if rank == "8":
            page.click('#suit-picker button[data-suit="CLUBS"]')
    elif page.is_visible("#draw-button"):
        page.click("#draw-button")
    elif page.is_visible("#pass-button"):
        page.click("#pass-button")
    else:
        return
    # The move shows on the table; if the page was refused, the turn timer moves it on.
    page.wait_for_function(f"k => ({TABLE_KEY})() !== k", arg=before, timeout=6_000)


def test_two_pages_play_the_card_game_to_the_end(
    cards_server: ServerThread, new_page: Callable[[str], Page]
) -> None:
    pages = [new_page(cards_server.page_url + CARDS + f"&name={n}") for n in ("ann", "bob")]
    for page in pages:
        seated(page)
    wait_until(pages[0], "() => window.game.table() && window.game.table().phase === 'PLAYING'")
    ids = [page.evaluate("() => window.game.entityId") for page in pages]
    assert ids[0] != ids[1] and all(ids)
    turns = 0
    deadline = time.monotonic() + 120
    while not all(page.evaluate("() => window.game.result !== null") for page in pages):
        assert time.monotonic() < deadline, "the match did not end in time"
        hands = [shows_only_its_own_hand(page) for page in pages]
        # Neither page holds a card of the other's: the hands are disjoint entities.
        assert not {c["id"] for c in hands[0]} & {c["id"] for c in hands[1]}
        for page in pages:
            if page.evaluate("() => Boolean(window.game.mySeat && window.game.mySeat.turn)"):
                take_turn(page)
                turns += 1
    results = [page.evaluate("() => window.game.result") for page in pages]
    assert (
        results[0]["winner"] == results[1]["winner"]
        and results[0]["ranking"] == results[1]["ranking"]
    )
    assert sorted(results[0]["ranking"]) == ["ann", "bob"] and turns >= 2
    # The result screen names the winner on both pages, in the winner's words on its own.
    winner = results[0]["ranking"][0]
    for page, name in zip(pages, ("ann", "bob"), strict=True):
        page.wait_for_selector("#result:not([hidden])")
        title = page.inner_text("#result-title")
        assert title.startswith("You won") if name == winner else winner in title, title
    seats = pages[0].evaluate("() => window.game.seats()")
    # The winner emptied its hand, or had the fewest cards when play was blocked.
    assert min(seat["cards"] for seat in seats) == next(
        seat["cards"] for seat in seats if seat["name"] == winner
    )


def test_a_page_reloaded_mid_match_resumes_its_player(
    cards_server: ServerThread, new_page: Callable[[str], Page]
) -> None:
    ann, bob = (new_page(cards_server.page_url + CARDS + f"&name={n}") for n in ("ann", "bob"))
    for page in (ann, bob):
        seated(page)
    wait_until(bob, "() => window.game.hand().length > 0")
    entity_id = bob.evaluate("() => window.game.entityId")
    hand = hand_ids(bob)
    bob.reload()
    seated(bob)
    wait_until(bob, "() => window.game.hand().length > 0")
    # The same player: the same seat entity and the same cards, and it counts as a resume.
    assert bob.evaluate("() => window.game.entityId") == entity_id
    assert bob.evaluate("() => window.game.resumes") == 1
    # Every card it held is still its own (away, its turn may have drawn it one more).
    assert hand <= hand_ids(bob)
    wait_until(ann, "id => window.game.seats().some(s => s.id === id && s.connected)", entity_id)
    assert cards_server.call(lambda: cards_server.server.metrics.resumes) == 1


def test_the_start_page_lists_the_games_and_a_friend_joins_a_private_room_by_code(
    cards_server: ServerThread, new_page: Callable[[str], Page]
) -> None:
    host = new_page(cards_server.page_url)
    host.wait_for_selector('#modes tr[data-mode="cards"]')
    offered = host.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('#modes tbody tr')]"
        ".map(r => [r.dataset.mode, r.dataset.game]))"
    )
    assert offered == {"default": "arena", "cards": "crazyeights", "bench": "bench"}
    host.click('#modes tr[data-mode="cards"] a[data-action="private"]')
    host.fill("#name-input", "ann")
    host.click("#join-button")
    seated(host)
    code = wait_until(host, "() => window.game.code")
    assert host.inner_text("#room-code") == code
    # A friend types the code on the start page and lands at the same table.
    friend = new_page(cards_server.page_url)
    friend.fill("#code-input", code.lower())  # codes are not case-sensitive
    friend.click("#code-button")
    friend.fill("#name-input", "bob")
    friend.click("#join-button")
    friend.wait_for_url("**/games/crazyeights/**")
    seated(friend)
    for page in (host, friend):
        wait_until(page, "() => window.game.seats().map(s => s.name).sort().join() === 'ann,bob'")
    # The friend's seat is the one it took through the code (kept across the page change).
    assert friend.evaluate("() => window.game.resumes") == 1
    wait_until(host, "() => window.game.table().phase === 'PLAYING'")


def test_the_bench_viewer_shows_a_player_moving(
    cards_server: ServerThread, new_page: Callable[[str], Page]
) -> None:
    player = new_page(cards_server.page_url + "games/bench/?mode=bench&play&name=ann")
    wait_until(player, "() => window.game.state === 'playing' && window.game.me !== null")
    room = player.evaluate("() => window.game.room")
    assert room.startswith("bench-")
    viewer = new_page(cards_server.page_url + f"games/bench/?room={room}")
    wait_until(viewer, "() => window.game.state === 'spectating'")
    me = player.evaluate("() => window.game.entityId")
    x0 = wait_until(viewer, "id => window.game.entities().find(e => e.id === id)?.x ?? null", me)
    direction, sign = ("ArrowRight", 1) if x0 < 500 else ("ArrowLeft", -1)
    player.keyboard.down(direction)
    # The player's own page moves it at once (predicted); the viewer sees the server move it.
    wait_until(player, "([x0, s]) => (window.game.me.x - x0) * s > 50", [x0, sign])
    wait_until(
        viewer,
        "([id, x0, s]) => (window.game.entities().find(e => e.id === id).x - x0) * s > 50",
        [me, x0, sign],
    )
    player.keyboard.up(direction)


def test_the_page_for_any_game_plays_from_the_description_alone(
    cards_server: ServerThread, new_page: Callable[[str], Page]
) -> None:
    pages = [new_page(cards_server.page_url + f"any/?mode=cards&name={n}") for n in ("ann", "bob")]
    for page in pages:
        wait_until(page, "() => window.game.state === 'playing'")
        page.wait_for_selector('table[data-type="Table"] tbody tr')
    turn = "() => window.game.entities().some(e => e.id === window.game.entityId && e.turn)"
    wait_until(
        pages[0], "() => window.game.entities().find(e => e.type === 'Table').phase === 'PLAYING'"
    )
    mover = next(page for page in pages if page.evaluate(turn))
    stock = "() => window.game.entities().find(e => e.type === 'Table').stock"
    before = mover.evaluate(stock)
    mover.click('form[data-command="Draw"] button')  # the form the description made
    for page in pages:
        wait_until(page, f"s => ({stock})() === s - 1", before)
        # Each page's Card table holds its own cards only, as many as its seat says.
        wait_until(
            page,
            "() => document.querySelectorAll('table[data-type=\"Card\"] tbody tr').length"
            " === window.game.entities().find(e => e.id === window.game.entityId).cards",
        )
    assert any("Drew" in page.inner_text("#events") for page in pages)
