"""Hidden hands over real sockets: nobody ever receives a card face it may not know.

Three bots play Crazy Eights to the end on a real server while a spectator watches; the
test keeps every byte each WebSocket received (the socket's raw byte stream, not what the
WebSocket library chose to hand over) and judges all of it.

The check is strict in four ways:

1. **Every byte is accounted for.** The raw stream is parsed here, independently of
   trio-websocket: the HTTP 101 answer, then WebSocket frames (unmasked, as a server's
   must be) with nothing left over. Each binary message must be exactly one CBOR item in
   its one spelling (re-encoding gives the same bytes), so nothing can ride along unseen,
   and the messages must be the very ones the client library delivered.
2. **Every value is placed.** Each message is decoded strictly; each snapshot is applied
   to a mirror; each entity and event is decoded with the game's own description. The
   card game's wire has a closed set of places a card face can be in: a ``Card`` entity,
   the ``Table``'s pile top, and the ``Played`` and ``DrewCard`` events. Any other
   entity or event type fails the test until someone decides whether it may carry faces.
3. **Judged against the truth, not against the views.** After every step, the server's
   actual hands are read from the rules' own state (not from ``view()``, the code under
   test). At every snapshot, a player's mirror must hold exactly its own hand at that
   tick, by entity id and face: nothing of another hand, nothing stale. No change entry
   may ever name the id of a card that another player holds or held. ``DrewCard`` may
   only tell a player the face of a card now in its own hand; ``Played`` only the face
   that left that seat's hand at that tick; the table's top only the pile's real top.
4. **The spectator** gets no ``Card`` entity and no ``DrewCard``, ever: the only faces in
   its stream are the pile's top and the cards as they are played.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from functools import partial
from typing import Any

import attrs
import cbor2
import pytest
import trio

from gameserver.games import crazyeights
from gameserver.games.crazyeights import CrazyEights, CrazyEightsSettings
from gameserver.protocol import MessageType, Snapshot, Welcome, apply, decode_server_message
from gameserver.rules import GameSchema, Private, TickCommand, TickInput, Viewer
from gameserver.testing import KitClient, ReceivedEvent, connect_game, default_room, serve_game

Face = tuple[int, int]  # (suit, rank)
Hands = dict[int, dict[int, Face]]  # seat entity id -> {card entity id: face}


@attrs.frozen
class Truth:
    """What the server held after one step: each seat's hand and the pile's top."""

    tick: int
    hands: Hands
    top: Face | None


# -- 1. every byte accounted for ------------------------------------------------------------


def websocket_messages(raw: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of every message in a server's byte stream, after its HTTP 101."""
    head, separator, rest = raw.partition(b"\r\n\r\n")
    assert separator and head.startswith(b"HTTP/1.1 101 "), head[:40]
    messages: list[tuple[int, bytes]] = []
    fragments: list[bytes] = []
    first_opcode = 0
    pos = 0
    while pos < len(rest):
        assert len(rest) - pos >= 2, "a frame header cut short"
        b0, b1 = rest[pos], rest[pos + 1]
        fin, opcode, masked, length = b0 & 0x80, b0 & 0x0F, b1 & 0x80, b1 & 0x7F
        assert not b0 & 0x70, "reserved bits set (no extension was negotiated)"
        assert not masked, "a server's frames are never masked"
        pos += 2
        if length == 126:
            length, pos = int.from_bytes(rest[pos : pos + 2], "big"), pos + 2
        elif length == 127:
            length, pos = int.from_bytes(rest[pos : pos + 8], "big"), pos + 8
        payload = rest[pos : pos + length]
        assert len(payload) == length, "a frame cut short"
        pos += length
        if opcode >= 8:  # control frames come whole, even between fragments
            messages.append((opcode, payload))
            continue
        if opcode != 0:
            first_opcode = opcode
        fragments.append(payload)
        if fin:
            messages.append((first_opcode, b"".join(fragments)))
            fragments = []
    assert not fragments, "a message cut short"
    return messages


def received_messages(client: KitClient) -> list[bytes]:
    """Every data message in ``client``'s raw byte stream, checked as in point 1."""
    messages = websocket_messages(b"".join(client.raw))
    data = []
    for opcode, payload in messages:
        assert opcode in (0x2, 0x8, 0x9, 0xA), f"opcode {opcode:#x} (text frames are never sent)"
        if opcode == 0x2:
            item = cbor2.load(stream := io.BytesIO(payload))
            assert stream.tell() == len(payload), "bytes after the message's CBOR item"
            assert cbor2.dumps(item) == payload, "a message not in its one CBOR spelling"
            data.append(payload)
    assert data == client.messages, "the raw stream and the client library disagree"
    return data


# -- 2 to 4: every value placed and judged -------------------------------------------------


def faces_of(entities: dict[int, Any]) -> dict[int, Face]:
    return {eid: (int(e.suit), e.rank) for eid, e in entities.items() if type(e).__name__ == "Card"}


def judge(
    client: KitClient,
    seat: int | None,
    truth: dict[int, Truth],
    held_by_others: set[int],
) -> int:
    """Check every message ``client`` received (``seat``: its seat entity, None: spectator).

    Returns how many card faces of its own the connection was shown (so the test can tell
    the check saw hands at all).
    """
    schema: GameSchema | None = None
    mirror: dict[int, tuple[Any, ...]] = {}
    mirror_tick = 0
    own_faces_seen = 0
    for payload in received_messages(client):
        message = decode_server_message(payload)
        if isinstance(message, Welcome):
            assert message.schema is not None
            schema = GameSchema.from_description(
                {k: message.schema[k] for k in ("entities", "input", "commands", "events")}
            )
            continue
        if not isinstance(message, Snapshot):
            assert payload[1] in (MessageType.PONG, MessageType.ERROR, MessageType.CHAT)
            continue
        assert schema is not None, "a snapshot before the Welcome"
        base = {} if message.baseline_tick == 0 else mirror
        assert message.baseline_tick in (0, mirror_tick)
        for change in message.changes:
            assert change[0] not in held_by_others or change[0] in truth_hand(
                truth, message.tick, seat
            ), f"entity {change[0]}, another player's card, sent to {client.me}"
        mirror, mirror_tick = apply(base, message.changes, message.removed), message.tick
        now = truth[message.tick]
        entities = {eid: schema.entity_from_wire(w) for eid, w in mirror.items()}
        kinds = {type(e).__name__ for e in entities.values()}
        assert kinds <= {"Table", "Seat", "Card"}, f"an entity type nobody judged: {kinds}"
        own = faces_of(entities)
        expected = {} if seat is None else now.hands.get(seat, {})
        assert own == expected, f"tick {message.tick}: {client.me} holds {own}, not {expected}"
        own_faces_seen += len(own)
        table = entities[1]
        if now.top is not None:
            assert (int(table.top_suit), table.top_rank) == now.top
        for tick, *wire in message.events:
            event = schema.events.from_wire(wire)
            name = type(event).__name__
            if name == "DrewCard":
                assert seat is not None, "a spectator was told a drawn card"
                face = (int(event.suit), event.rank)
                assert face in truth[tick].hands[seat].values(), f"DrewCard {face} not drawn"
            elif name == "Played":
                face = (int(event.suit), event.rank)
                seats = [s for s, h in truth[tick - 1].hands.items() if face in h.values()]
                assert len(seats) == 1 and face not in truth[tick].hands[seats[0]].values()
                assert truth[tick].top == face, "Played names another card than the pile's top"
            else:  # the game's other events carry no face: their fields are all known
                assert name in {
                    "Started", "SuitChosen", "Drew", "TurnPassed", "Reshuffled",
                    "Forfeited", "Refused", "NoSeat", "MatchOver",
                }, f"an event type nobody judged: {name}"  # fmt: skip
    return own_faces_seen


def truth_hand(truth: dict[int, Truth], tick: int, seat: int | None) -> dict[int, Face]:
    return {} if seat is None else truth[tick].hands.get(seat, {})


def capture_truth(rules: Any, truth: dict[int, Truth], step: Callable[[], Any]) -> Any:
    """The room's step, then the hands as the rules hold them (their own state)."""
    events = step()
    hands = {
        place.seat_id: {cid: (int(c.suit), c.rank) for cid, c in place.hand.items()}
        for place in rules.places
    }
    top = (int(rules.pile[-1][0]), rules.pile[-1][1]) if rules.pile else None
    truth[rules.tick] = Truth(rules.tick, hands, top)
    return events


def match_over(client: KitClient) -> bool:
    return any(e.name == "MatchOver" for e in client.events)


@attrs.frozen
class Match:
    spectator: KitClient
    players: list[KitClient]
    truth: dict[int, Truth]


async def play_match(rules: str | type[CrazyEights], transport: str = "fast") -> Match:
    """Three bots play ``rules`` to the end over real sockets while a spectator watches."""
    settings = CrazyEightsSettings(min_players=3, max_players=3)
    truth: dict[int, Truth] = {0: Truth(0, {}, None)}
    async with (
        serve_game(rules, settings=settings, transport=transport) as server,
        AsyncExitStack() as stack,
    ):
        host = default_room(server).game
        host.step = partial(capture_truth, host.rules, truth, host.step)  # type: ignore[method-assign]
        spectator = await stack.enter_async_context(connect_game(server.url, "eve", "spectator"))
        players = [
            await stack.enter_async_context(connect_game(server.url, name))
            for name in ("ada", "bob", "cy")
        ]
        async with trio.open_nursery() as nursery:
            for seed, player in enumerate(players):
                bot = crazyeights.Bot(seed)
                nursery.start_soon(partial(player.run_bot, bot, until=match_over, timeout_s=600))
        await spectator.wait_for(match_over)
        for client in (spectator, *players):  # the stream's end, then the close frames
            await client.next_snapshot()
    for client in (spectator, *players):
        assert client.closed
    return Match(spectator, players, truth)


def judge_match(match: Match) -> None:
    """Points 1 to 4 of the module's docstring, for every connection of the match."""
    every_card: dict[int, int] = {}  # card entity id -> the seat that held it
    for state in match.truth.values():
        for seat, hand in state.hands.items():
            for card_id in hand:
                assert every_card.setdefault(card_id, seat) == seat, "a card id reused"
    shown = {}
    for player in match.players:
        others = {cid for cid, seat in every_card.items() if seat != player.me}
        shown[player.me] = judge(player, player.me, match.truth, others)
    assert judge(match.spectator, None, match.truth, set(every_card)) == 0
    assert all(count > 0 for count in shown.values()), "the players saw their own hands"
    assert any(e.name == "Played" for e in match.spectator.events), "cards were played"
    for player in match.players:  # every public event reached everyone alike
        public = [e for e in player.events if e.name not in ("DrewCard", "Refused", "NoSeat")]
        assert list(map(plain, public)) == list(map(plain, match.spectator.events))


@pytest.mark.parametrize("transport", ["fast", "tasks"])
async def test_no_player_ever_receives_another_players_cards(
    transport: str, autojump_clock: trio.testing.MockClock
) -> None:
    judge_match(await play_match("crazyeights", transport))


# -- the check can fail: two leaks it must catch ----------------------------------------------


class ShowsANeighboursCard(CrazyEights):
    """A view that also shows a player the first card of the next seat's hand."""

    id = "leakyview"

    def view(self, viewer: Viewer) -> Mapping[int, Any]:
        seen = dict(super().view(viewer) or self.entities())
        seats = [p for p in self.places if p.hand]
        for place, neighbour in zip(seats, seats[1:] + seats[:1], strict=True):
            if viewer.player is not None and place.player.id == viewer.player.id:
                card_id = next(iter(neighbour.hand))
                seen[card_id] = neighbour.hand[card_id]
        return seen


class TellsEveryoneTheDraw(CrazyEights):
    """A drawn card's face sent to everyone, not to its drawer alone."""

    id = "leakydraw"

    def step(self, inputs: Sequence[TickInput[None]], commands: Sequence[TickCommand]) -> list[Any]:
        events = super().step(inputs, commands)
        return [e.event if isinstance(e, Private) and type(e.event).__name__ == "DrewCard" else e
                for e in events]  # fmt: skip


@pytest.mark.parametrize(
    ("leaky", "caught"),
    [
        (ShowsANeighboursCard, "another player's card"),
        (TellsEveryoneTheDraw, "not drawn|a spectator was told"),
    ],
)
async def test_the_check_catches_a_leak(
    leaky: type[CrazyEights], caught: str, autojump_clock: trio.testing.MockClock
) -> None:
    match = await play_match(leaky)
    with pytest.raises(AssertionError, match=caught):
        judge_match(match)


def plain(event: ReceivedEvent) -> tuple[int, str, tuple[Any, ...]]:
    """An event comparable across clients (each client makes its own classes)."""
    return event.tick, event.name, attrs.astuple(event.event)
