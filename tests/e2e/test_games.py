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

from gameserver.cli import bundled_web_root
from gameserver.config import Config, Mode

from .conftest import ServerThread

Page = Any
CARDS = "games/crazyeights/?mode=cards"
# What changes whenever a move is made: the next action waits for it.
TABLE_KEY = "() => JSON.stringify([window.game.table(), window.game.seats()])"


@pytest.fixture
def cards_server() -> Iterator[ServerThread]:
    # Two seats, so the match starts as soon as both are taken; short turns, so a page
    # that misses its turn does not hold the test up.
    cards = Mode(
        "cards",
        game="crazyeights",
        max_players=2,
        tick_rate=30,
        settings={"min_players": 2, "max_players": 2, "turn_seconds": 4},
    )
    config = Config(
        host="127.0.0.1", port=0, seed=5, web_root=bundled_web_root(), modes=(cards,),
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
