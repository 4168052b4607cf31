"""Everything about Crazy Eights that travels: entities, commands, events, and their enums.

Entities (``entities`` order is the wire's entity kind):

- ``Table`` (one, id 1, everyone sees it): the phase, the pile's top card and the suit
  named with an eight, whose turn it is and the tick its time runs out at (an absolute
  tick, so the table does not change while a player thinks), the stock's and the pile's
  sizes, the winner once the match is over.
- ``Seat`` (one per seated player, everyone sees it): name, position at the table, how
  many cards the player holds (and nothing else about them), turn, ready, connected, out.
- ``Card`` (one per card in a hand, only its holder sees it): suit, rank, and whether it
  is the card just drawn (the only one its holder may still play this turn).

A card entity's id is new each time a card enters a hand (see the package README).
"""

from __future__ import annotations

import enum

from gameserver import rules

from ._cards import Suit

SEATS = 4
MAX_NAME_CHARS = 32
DECK_SIZE = 52
TICK_MAX = 2**40  # about 3,500 years at 10 ticks a second
NO_SEAT = -1  # ``Table.turn`` and ``Table.winner`` when nobody


class Phase(enum.IntEnum):
    LOBBY = 0  # seats fill; the match starts when enough are ready, or all seats are taken
    PLAYING = 1
    OVER = 2


class Reason(enum.IntEnum):
    """Why a command was refused (``Refused``, sent to its sender only)."""

    NO_SEAT = 0  # the sender watches: it has no seat
    NOT_STARTED = 1  # Play, Draw or Pass before the match started
    ALREADY_STARTED = 2  # Ready after the match started
    MATCH_OVER = 3
    NOT_YOUR_TURN = 4
    NOT_IN_HAND = 5  # the sender holds no such card
    NO_MATCH = 6  # neither the suit in play nor the top card's rank, and not an eight
    NAME_A_SUIT = 7  # an eight is played naming the suit to follow
    EIGHTS_ONLY = 8  # only an eight names a suit
    ALREADY_DREW = 9  # one draw a turn
    PLAY_DRAWN_CARD = 10  # after drawing, only the card drawn may be played
    DRAW_FIRST = 11  # Pass is for after a draw


class PassReason(enum.IntEnum):
    """Why a turn passed without a play (``TurnPassed``)."""

    PASSED = 0  # the player drew a playable card and chose to keep it
    NO_PLAY = 1  # the card drawn could not be played
    TIMEOUT = 2  # the turn's time ran out: a card was drawn for the player
    AWAY = 3  # the player is disconnected: a card was drawn for it at once
    NOTHING_TO_DRAW = 4  # stock and pile were both empty


class EndReason(enum.IntEnum):
    EMPTIED_HAND = 0  # the winner played its last card
    LAST_PLAYER = 1  # everyone else left
    BLOCKED = 2  # nobody could play or draw for a whole round: fewest cards wins


class NoSeatReason(enum.IntEnum):
    STARTED = 0  # the match had started (or was over) when the player joined
    FULL = 1  # every seat was taken


# -- entities -------------------------------------------------------------------------------


@rules.entity
class Table:
    phase: Phase = rules.enum(Phase)
    top_suit: Suit = rules.enum(Suit)  # NONE before the deal
    top_rank: int = rules.integer(0, 13)  # 0 before the deal
    named: Suit = rules.enum(Suit)  # the suit to follow when an eight is on top, else NONE
    turn: int = rules.integer(NO_SEAT, SEATS - 1)  # the seat to play, -1: nobody
    deadline: int = rules.integer(0, TICK_MAX)  # the tick at which the turn's time is up
    drawn: bool = rules.boolean()  # the player to play has drawn this turn
    stock: int = rules.integer(0, DECK_SIZE)  # cards left to draw
    pile: int = rules.integer(0, DECK_SIZE)  # cards on the discard pile
    min_players: int = rules.integer(2, SEATS)
    max_players: int = rules.integer(2, SEATS)
    winner: int = rules.integer(NO_SEAT, SEATS - 1)


@rules.entity
class Seat:
    index: int = rules.integer(0, SEATS - 1)  # position at the table: play goes up, wrapping
    name: str = rules.text(MAX_NAME_CHARS)
    cards: int = rules.integer(0, DECK_SIZE)  # how many cards the player holds
    turn: bool = rules.boolean()
    ready: bool = rules.boolean()
    connected: bool = rules.boolean()
    out: bool = rules.boolean()  # left during the match: forfeited


@rules.entity
class Card:
    suit: Suit = rules.enum(Suit)
    rank: int = rules.integer(1, 13)
    drawn: bool = rules.boolean(default=False)  # drawn this turn: the one card still playable


# -- commands -------------------------------------------------------------------------------


@rules.message
class Ready:
    """In the lobby: ready to start."""


@rules.message
class Play:
    """Play a card from the hand; an eight names the suit to follow (``named``)."""

    suit: Suit = rules.enum(Suit)
    rank: int = rules.integer(1, 13)
    named: Suit = rules.enum(Suit, default=Suit.NONE)


@rules.message
class Draw:
    """Draw one card (once a turn); an unplayable card passes the turn."""


@rules.message
class Pass:
    """After drawing a playable card: keep it and end the turn."""


# -- events ---------------------------------------------------------------------------------


@rules.message
class Started:
    first: int = rules.integer(0, SEATS - 1)  # the seat to play first
    hand_size: int = rules.integer(1, 7)


@rules.message
class Played:
    seat: int = rules.integer(0, SEATS - 1)
    suit: Suit = rules.enum(Suit)
    rank: int = rules.integer(1, 13)


@rules.message
class SuitChosen:
    seat: int = rules.integer(0, SEATS - 1)
    suit: Suit = rules.enum(Suit)


@rules.message
class Drew:
    """A player drew a card (everyone hears it; the face goes to the drawer alone)."""

    seat: int = rules.integer(0, SEATS - 1)
    auto: bool = rules.boolean()  # drawn for the player: time ran out, or it is away


@rules.message
class DrewCard:
    """To the drawer only: the face of the card just drawn."""

    suit: Suit = rules.enum(Suit)
    rank: int = rules.integer(1, 13)


@rules.message
class TurnPassed:
    seat: int = rules.integer(0, SEATS - 1)
    why: PassReason = rules.enum(PassReason)


@rules.message
class Reshuffled:
    """The stock ran out: the pile but its top card was shuffled into a new stock."""

    cards: int = rules.integer(0, DECK_SIZE)


@rules.message
class Forfeited:
    seat: int = rules.integer(0, SEATS - 1)


@rules.message
class Refused:
    """To the sender only: its command was not carried out, and why."""

    reason: Reason = rules.enum(Reason)


@rules.message
class NoSeat:
    """To a player that joined without getting a seat: it watches, as a spectator does."""

    why: NoSeatReason = rules.enum(NoSeatReason)


@rules.message
class MatchOver:
    winner: int = rules.integer(0, SEATS - 1)
    why: EndReason = rules.enum(EndReason)


SCHEMA = rules.GameSchema(
    entities=[Table, Seat, Card],
    input=None,
    commands=[Ready, Play, Draw, Pass],
    events=[
        Started,
        Played,
        SuitChosen,
        Drew,
        DrewCard,
        TurnPassed,
        Reshuffled,
        Forfeited,
        Refused,
        NoSeat,
        MatchOver,
    ],
)
