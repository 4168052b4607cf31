"""Crazy Eights for 2 to 4 players: the rules as a room drives them.

Theory of operation
-------------------
The table is in one of three phases (``Phase``):

- LOBBY: each joining player takes the next seat (``join`` returns its ``Seat`` entity)
  until ``settings.max_players`` are seated. The match starts at the next step once all
  seats are taken, or once ``settings.min_players`` are seated and every one of them has
  sent ``Ready``. A player leaving the lobby frees its seat; the others move up.
- PLAYING: the deck is shuffled with ``self.random`` and dealt (7 cards each with two
  players, 5 with three or four), the next card is turned up to start the pile (an eight
  is buried in the lower half of the stock and another card turned), and a seat drawn at
  random plays first. On its turn a player plays a card that matches the suit in play or
  the top card's rank, or any eight (naming the suit to follow, in the same ``Play``); or
  it draws one card: a card it can play it may play at once (or keep it: ``Pass``);
  otherwise the turn passes. When the stock is empty, the pile but its top card is
  shuffled into a new stock. When the turn's time runs out (``settings.turn_seconds``,
  counted in ticks to an absolute ``Table.deadline``), or at once when the player to play
  is disconnected, a card is drawn for the player and the turn passes. A player who
  leaves forfeits: its cards go under the stock (shuffled), its seat stays, marked out.
- OVER: someone emptied its hand, or one player is left, or for a whole round nobody
  could play or draw (blocked: fewest cards wins). ``result()`` ranks the players by
  cards left (then penalty points), the forfeited last (the last to leave first).

Joining once the match has started, or when every seat is taken, gives no seat: ``join``
returns 0, the player watches as a spectator does and gets a private ``NoSeat`` event on
the next tick. A command from a player without a seat, or one that breaks a rule, is
refused with a private ``Refused(reason)``; nothing else changes.

Hidden hands: a card in a hand is a ``Card`` entity that only its holder's view holds;
everyone else sees the holder's ``Seat.cards`` count. A card gets a new entity id each
time it enters a hand, so an id says nothing about the card behind it (README).

Events are collected in ``_pending`` as they happen (``join`` and ``leave`` happen
between steps) and returned by the next ``step``. Between moves nothing changes: no
countdowns, no per-tick fields; a step with no command and no timeout changes no state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from gameserver.rules import MatchResult, Player, Private, Rules, TickCommand, TickInput, Viewer

from ._cards import EIGHT, Face, Suit, full_deck, penalty, playable
from ._results import Place, match_result, ranked
from ._schema import (
    MAX_NAME_CHARS,
    NO_SEAT,
    SCHEMA,
    Card,
    Draw,
    Drew,
    DrewCard,
    EndReason,
    Forfeited,
    MatchOver,
    NoSeat,
    NoSeatReason,
    Pass,
    PassReason,
    Phase,
    Play,
    Played,
    Ready,
    Reason,
    Refused,
    Reshuffled,
    Seat,
    Started,
    SuitChosen,
    Table,
    TurnPassed,
)
from ._settings import CrazyEightsSettings

TABLE_ID = 1


class CrazyEights(Rules[None, CrazyEightsSettings]):
    """Crazy Eights: match the suit or the rank, eights are wild, first to empty a hand wins."""

    id: ClassVar[str] = "crazyeights"
    version: ClassVar[int] = 1
    schema = SCHEMA
    settings_type: ClassVar[type] = CrazyEightsSettings
    tick_rate: ClassVar[int] = 10  # a card game needs no more; a turn is counted in these
    max_players: ClassVar[int] = 4

    def __init__(
        self, settings: CrazyEightsSettings, seed: int, *, tick_rate: int | None = None
    ) -> None:
        super().__init__(settings, seed, tick_rate=tick_rate)
        self.table = Table(
            phase=Phase.LOBBY,
            top_suit=Suit.NONE,
            top_rank=0,
            named=Suit.NONE,
            turn=NO_SEAT,
            deadline=0,
            drawn=False,
            stock=0,
            pile=0,
            min_players=settings.min_players,
            max_players=settings.max_players,
            winner=NO_SEAT,
        )
        self.places: list[Place] = []  # in seat order
        self.watchers: set[str] = set()  # joined without a seat
        self.stock: list[Face] = []  # drawn from the end
        self.pile: list[Face] = []  # the top card is the last
        self.drawn_id = 0  # the card drawn this turn by the player to play (0: none)
        self.idle_turns = 0  # turns in a row that passed with neither a play nor a draw
        self.forfeited: list[str] = []  # player ids, in the order they left
        self.public: dict[int, Table | Seat] = {TABLE_ID: self.table}  # what everyone sees
        self.outcome: MatchResult | None = None
        self._next_id = TABLE_ID + 1  # entity ids are never reused
        self._pending: list[Any] = []

    # -- membership --------------------------------------------------------------------

    def join(self, player: Player) -> int:
        if self.table.phase is not Phase.LOBBY or len(self.places) >= self.settings.max_players:
            why = NoSeatReason.STARTED if self.table.phase is not Phase.LOBBY else NoSeatReason.FULL
            self.watchers.add(player.id)
            self._tell(player.id, NoSeat(why=why))
            return 0
        seat_id = self._new_id()
        name = "".join(ch for ch in player.name if ch.isprintable())[:MAX_NAME_CHARS]
        seat = Seat(
            index=len(self.places),
            name=name or f"player {len(self.places) + 1}",
            cards=0,
            turn=False,
            ready=False,
            connected=True,
            out=False,
        )
        self.places.append(Place(player, seat_id, seat))
        self.public[seat_id] = seat
        return seat_id

    def leave(self, player: Player) -> None:
        self.watchers.discard(player.id)
        place = self._seated(player.id)
        if place is None or place.seat.out:
            return
        if self.table.phase is Phase.LOBBY:
            self.places.remove(place)
            del self.public[place.seat_id]
            for index, other in enumerate(self.places):
                other.seat.index = index
        elif self.table.phase is Phase.PLAYING:
            self._forfeit(place)
        else:
            place.seat.connected = False

    def disconnected(self, player: Player) -> None:
        place = self._seated(player.id)
        if place is not None and not place.seat.out:
            place.seat.connected = False

    def reconnected(self, player: Player) -> None:
        place = self._seated(player.id)
        if place is not None and not place.seat.out:
            place.seat.connected = True

    # -- the tick --------------------------------------------------------------------------

    def step(self, inputs: Sequence[TickInput[None]], commands: Sequence[TickCommand]) -> list[Any]:
        for sent in commands:
            self._command(sent.player, sent.command)
        phase = self.table.phase
        if phase is Phase.LOBBY:
            self._maybe_start()
        elif phase is Phase.PLAYING:
            place = self.places[self.table.turn]
            if not place.seat.connected or self.tick + 1 >= self.table.deadline:
                self._timed_out(place)
        if not self._pending:
            return []
        events, self._pending = self._pending, []
        return events

    # -- reading the world ---------------------------------------------------------------

    def entities(self) -> Mapping[int, Table | Seat | Card]:
        world: dict[int, Table | Seat | Card] = dict(self.public)
        for place in self.places:
            world.update(place.hand)
        return world

    def view(self, viewer: Viewer) -> Mapping[int, Table | Seat | Card]:
        """The table and the seats; a seated player's own hand too (nobody else's)."""
        if viewer.player is not None:
            place = self._seated(viewer.player.id)
            if place is not None and place.hand:
                return {**self.public, **place.hand}
        return self.public

    def score(self, player: Player) -> int | None:
        """Cards held: public already (a penalty score would tell what the cards are)."""
        place = self._seated(player.id)
        return None if place is None else place.seat.cards

    def result(self) -> MatchResult | None:
        return self.outcome

    # -- commands --------------------------------------------------------------------------

    def _command(self, player: Player, command: object) -> None:
        place = self._seated(player.id)
        if place is None or place.seat.out:
            self._refuse(player.id, Reason.NO_SEAT)
            return
        phase = self.table.phase
        if phase is Phase.OVER:
            self._refuse(player.id, Reason.MATCH_OVER)
        elif isinstance(command, Ready):
            if phase is Phase.LOBBY:
                place.seat.ready = True
            else:
                self._refuse(player.id, Reason.ALREADY_STARTED)
        elif phase is Phase.LOBBY:
            self._refuse(player.id, Reason.NOT_STARTED)
        elif self.table.turn != place.seat.index:
            self._refuse(player.id, Reason.NOT_YOUR_TURN)
        elif isinstance(command, Play):
            self._play(place, command)
        elif isinstance(command, Draw):
            self._draw(place)
        elif isinstance(command, Pass):
            if self.drawn_id == 0:
                self._refuse(player.id, Reason.DRAW_FIRST)
            else:
                self._end_turn(place, PassReason.PASSED, idle=False)

    def _play(self, place: Place, command: Play) -> None:
        face = (command.suit, command.rank)
        card_id = next((i for i, c in place.hand.items() if (c.suit, c.rank) == face), 0)
        reason: Reason | None = None
        if card_id == 0:
            reason = Reason.NOT_IN_HAND
        elif self.drawn_id and card_id != self.drawn_id:
            reason = Reason.PLAY_DRAWN_CARD
        elif command.rank == EIGHT and command.named is Suit.NONE:
            reason = Reason.NAME_A_SUIT
        elif command.rank != EIGHT and command.named is not Suit.NONE:
            reason = Reason.EIGHTS_ONLY
        elif not playable(face, self.pile[-1], self.table.named):
            reason = Reason.NO_MATCH
        if reason is not None:
            self._refuse(place.player.id, reason)
            return
        del place.hand[card_id]
        place.seat.cards = len(place.hand)
        self.drawn_id = 0
        self.pile.append(face)
        self.table.named = command.named
        self.idle_turns = 0
        index = place.seat.index
        self._pending.append(Played(seat=index, suit=command.suit, rank=command.rank))
        if command.rank == EIGHT:
            self._pending.append(SuitChosen(seat=index, suit=command.named))
        self._sync_table()
        if not place.hand:
            self._finish(place, EndReason.EMPTIED_HAND)
        else:
            self._begin_turn(self._next_active(index))

    def _draw(self, place: Place) -> None:
        if self.drawn_id:
            self._refuse(place.player.id, Reason.ALREADY_DREW)
            return
        card_id = self._draw_card(place, auto=False)
        if card_id == 0:
            self._end_turn(place, PassReason.NOTHING_TO_DRAW, idle=True)
            return
        card = place.hand[card_id]
        if playable((card.suit, card.rank), self.pile[-1], self.table.named):
            card.drawn = True  # the player may still play it, or Pass
            self.drawn_id = card_id
            self.table.drawn = True
        else:
            self._end_turn(place, PassReason.NO_PLAY, idle=False)

    def _timed_out(self, place: Place) -> None:
        why = PassReason.TIMEOUT if place.seat.connected else PassReason.AWAY
        drew = self.drawn_id != 0 or self._draw_card(place, auto=True) != 0
        self._end_turn(place, why, idle=not drew)

    # -- the table ------------------------------------------------------------------------

    def _maybe_start(self) -> None:
        seated = len(self.places)
        if seated >= self.settings.max_players or (
            seated >= self.settings.min_players and all(p.seat.ready for p in self.places)
        ):
            self._deal()

    def _deal(self) -> None:
        stock = full_deck()
        self.random.shuffle(stock)
        hand_size = 7 if len(self.places) == 2 else 5
        for _ in range(hand_size):
            for place in self.places:
                self._give(place, stock.pop())
        top = stock.pop()
        while top[1] == EIGHT:  # buried low, so at most four of these
            stock.insert(self.random.randrange(len(stock) // 2 + 1), top)
            top = stock.pop()
        self.stock = stock
        self.pile = [top]
        self.table.phase = Phase.PLAYING
        first = self.random.randrange(len(self.places))
        self._pending.append(Started(first=first, hand_size=hand_size))
        self._sync_table()
        self._begin_turn(first)

    def _draw_card(self, place: Place, *, auto: bool) -> int:
        """Move the stock's top card to ``place``'s hand; its new id (0: nothing to draw)."""
        if not self.stock and len(self.pile) > 1:
            self.stock = self.pile[:-1]
            self.random.shuffle(self.stock)
            del self.pile[:-1]
            self._pending.append(Reshuffled(cards=len(self.stock)))
        if not self.stock:
            return 0
        suit, rank = face = self.stock.pop()
        card_id = self._give(place, face)
        self.idle_turns = 0
        self._pending.append(Drew(seat=place.seat.index, auto=auto))
        self._tell(place.player.id, DrewCard(suit=suit, rank=rank))
        self._sync_table()
        return card_id

    def _give(self, place: Place, face: Face) -> int:
        card_id = self._new_id()
        place.hand[card_id] = Card(suit=face[0], rank=face[1])
        place.seat.cards = len(place.hand)
        return card_id

    def _end_turn(self, place: Place, why: PassReason, *, idle: bool) -> None:
        self._pending.append(TurnPassed(seat=place.seat.index, why=why))
        if idle:
            self.idle_turns += 1
            active = [p for p in self.places if not p.seat.out]
            if self.idle_turns >= len(active):
                best = ranked(active, place.seat.index, len(self.places))[0]
                self._finish(best, EndReason.BLOCKED)
                return
        self._begin_turn(self._next_active(place.seat.index))

    def _begin_turn(self, index: int) -> None:
        self._clear_drawn()
        for place in self.places:
            place.seat.turn = place.seat.index == index
        self.table.turn = index
        self.table.deadline = self.tick + 1 + self.settings.turn_seconds * self.tick_rate

    def _clear_drawn(self) -> None:
        if self.drawn_id:
            for place in self.places:
                card = place.hand.get(self.drawn_id)
                if card is not None:
                    card.drawn = False
            self.drawn_id = 0
        self.table.drawn = False

    def _next_active(self, index: int) -> int:
        count = len(self.places)
        for step in range(1, count + 1):
            candidate = (index + step) % count
            if not self.places[candidate].seat.out:
                return candidate
        return index

    def _forfeit(self, place: Place) -> None:
        faces = place.faces()
        place.forfeit_penalty = penalty(faces)
        self.random.shuffle(faces)
        self.stock[:0] = faces  # under the stock
        place.hand.clear()
        seat = place.seat
        seat.cards, seat.out, seat.connected = 0, True, False
        self.forfeited.append(place.player.id)
        self._pending.append(Forfeited(seat=seat.index))
        self._sync_table()
        active = [p for p in self.places if not p.seat.out]
        if len(active) == 1:
            self._finish(active[0], EndReason.LAST_PLAYER)
        elif seat.turn:
            seat.turn = False
            self._begin_turn(self._next_active(seat.index))

    def _finish(self, winner: Place, why: EndReason) -> None:
        self._clear_drawn()
        self.table.phase = Phase.OVER
        self.table.turn = NO_SEAT
        self.table.deadline = 0
        self.table.winner = winner.seat.index
        for place in self.places:
            place.seat.turn = False
        self._pending.append(MatchOver(winner=winner.seat.index, why=why))
        self.outcome = match_result(self.places, winner, why, self.forfeited)

    # -- small helpers ----------------------------------------------------------------------

    def _seated(self, player_id: str) -> Place | None:
        for place in self.places:
            if place.player.id == player_id:
                return place
        return None

    def _sync_table(self) -> None:
        table = self.table
        table.top_suit, table.top_rank = self.pile[-1] if self.pile else (Suit.NONE, 0)
        table.stock = len(self.stock)
        table.pile = len(self.pile)

    def _new_id(self) -> int:
        entity_id = self._next_id
        self._next_id += 1
        return entity_id

    def _tell(self, player_id: str, event: object) -> None:
        self._pending.append(Private(event, frozenset((player_id,))))

    def _refuse(self, player_id: str, reason: Reason) -> None:
        self._tell(player_id, Refused(reason=reason))
