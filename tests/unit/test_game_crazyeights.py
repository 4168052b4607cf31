"""Crazy Eights on the rules API: its rules, its timers, its bot, and hands kept hidden."""

from __future__ import annotations

import copy
import random
from typing import Any

import cbor2
import pytest

from gameserver.games.crazyeights import (
    Bot,
    CrazyEights,
    CrazyEightsSettings,
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
    Started,
    Suit,
    SuitChosen,
    TurnPassed,
)
from gameserver.games.crazyeights._cards import Face, full_deck, penalty
from gameserver.rules import BotView, GameSchema, Player
from gameserver.testing import Headless, SentEvent

# Built once: ``Headless.decoded_view`` rebuilds it on every call (about 15 ms each).
CLIENT = GameSchema.from_description(CrazyEights.schema.describe())
TABLE, SEAT, CARD = 0, 1, 2  # entity kinds, in the schema's order
NAMES = ("ada", "bob", "cy", "di")
SUIT_LETTERS = {"C": Suit.CLUBS, "D": Suit.DIAMONDS, "H": Suit.HEARTS, "S": Suit.SPADES}
RANK_LETTERS = {"A": 1, "J": 11, "Q": 12, "K": 13}


def c(text: str) -> Face:
    """``"8S"`` -> (Suit.SPADES, 8); ``"10H"``, ``"QC"``, ``"AD"``."""
    rank = text[:-1]
    return SUIT_LETTERS[text[-1]], RANK_LETTERS.get(rank) or int(rank)


def play(text: str, named: Suit = Suit.NONE) -> Play:
    suit, rank = c(text)
    return Play(suit=suit, rank=rank, named=named)


def started(
    players: int = 2, seed: int = 0, **settings: Any
) -> tuple[Headless[None], list[Player]]:
    game: Headless[None] = Headless(CrazyEights, CrazyEightsSettings(**settings), seed=seed)
    seated = [game.join(name) for name in NAMES[:players]]
    for player in seated:
        game.command(player, Ready())
    game.step()
    assert game.rules.table.phase is Phase.PLAYING
    return game, seated


def arrange(
    game: Headless[None],
    hands: list[list[str]],
    top: str,
    stock: list[str] = (),  # type: ignore[assignment]
    *,
    turn: int = 0,
    named: Suit = Suit.NONE,
    pile: list[str] = (),  # type: ignore[assignment]
) -> None:
    """Set the table up for a test: hands (new card ids), pile, stock (top last), turn."""
    rules: Any = game.rules
    for place, faces in zip(rules.places, hands, strict=True):
        place.hand.clear()
        for face in faces:
            rules._give(place, c(face))
    rules.pile = [c(f) for f in pile] + [c(top)]
    rules.stock = [c(f) for f in stock]
    rules.table.named = named
    rules._sync_table()
    rules._begin_turn(turn)


def hand(game: Headless[None], player: Player) -> list[Face]:
    return sorted((Suit(w[1]), w[2]) for w in game.view(player).values() if w[0] == CARD)


def public_table(game: Headless[None]) -> Any:
    """The table as a spectator's client decodes it (named fields)."""
    return CLIENT.entity_from_wire(game.view(None)[1])


def events(sent: list[SentEvent]) -> list[Any]:
    return [e.event for e in sent]


def everything_but_the_tick(game: Headless[None]) -> object:
    rules: Any = game.rules
    return (game.wire_state(), rules.stock[:], rules.pile[:], rules.random.getstate())


def refused(game: Headless[None], player: Player, command: object) -> Reason:
    """Send a command that must be refused: nothing changes, only the sender hears why."""
    before = everything_but_the_tick(game)
    game.command(player, command)
    sent = game.step()
    assert len(sent) == 1 and sent[0].to == frozenset({player.id}), sent
    assert isinstance(sent[0].event, Refused)
    assert everything_but_the_tick(game) == before
    return sent[0].event.reason


# -- the lobby and the deal ----------------------------------------------------------------


@pytest.mark.parametrize(("players", "hand_size"), [(2, 7), (3, 5), (4, 5)])
def test_deal(players: int, hand_size: int) -> None:
    game, seated = started(players, seed=players)
    rules: Any = game.rules
    assert events(game.events)[0] == Started(first=rules.table.turn, hand_size=hand_size)
    faces = [face for p in seated for face in hand(game, p)]
    assert all(len(hand(game, p)) == hand_size for p in seated)
    assert sorted(faces + rules.stock + rules.pile) == sorted(full_deck())  # 52, no repeats
    table = public_table(game)
    assert table.top_rank != 8  # an eight never starts the pile
    assert (table.stock, table.pile) == (52 - players * hand_size - 1, 1)
    seats = [w for w in game.view(None).values() if w[0] == SEAT]
    assert [w[3] for w in seats] == [hand_size] * players  # counts, for everyone


def test_the_match_starts_when_all_are_ready_or_all_seats_taken() -> None:
    game: Headless[None] = Headless(CrazyEights, CrazyEightsSettings(max_players=3), seed=1)
    ada, bob = game.join("ada"), game.join("bob")
    game.command(ada, Ready())
    game.step(5)
    assert game.rules.table.phase is Phase.LOBBY  # bob is not ready
    assert refused(game, ada, Draw()) is Reason.NOT_STARTED
    game.command(bob, Ready())
    game.step()
    assert game.rules.table.phase is Phase.PLAYING
    assert refused(game, bob, Ready()) is Reason.ALREADY_STARTED

    full: Headless[None] = Headless(CrazyEights, CrazyEightsSettings(max_players=2), seed=1)
    full.join("ada")
    full.join("bob")  # every seat taken: no Ready needed
    late = full.join("cy")
    assert full.entity_of[late.id] == 0
    full.step()
    assert full.rules.table.phase is Phase.PLAYING
    later = full.join("di")
    assert full.entity_of[later.id] == 0
    full.step()
    assert [e.event for e in full.events_for(late) if e.to] == [NoSeat(why=NoSeatReason.FULL)]
    assert [e.event for e in full.events_for(later) if e.to] == [NoSeat(why=NoSeatReason.STARTED)]
    assert full.view(later) == full.view(None)  # watches as a spectator does
    assert refused(full, later, Draw()) is Reason.NO_SEAT


def test_leaving_the_lobby_frees_the_seat() -> None:
    game: Headless[None] = Headless(CrazyEights, seed=1)
    ada, bob, cy = game.join("ada"), game.join("bob"), game.join("cy")
    game.leave(bob)
    game.step()
    seats = sorted(w[1:3] for w in game.view(None).values() if w[0] == SEAT)
    assert seats == [(0, "ada"), (1, "cy")]
    assert game.entity_of[cy.id] not in (game.entity_of[ada.id], 0)


def test_settings_are_validated() -> None:
    for bad in ({"min_players": 1}, {"max_players": 5}, {"min_players": 3, "max_players": 2}):
        with pytest.raises(ValueError):
            CrazyEightsSettings(**bad)
    with pytest.raises(ValueError):
        CrazyEightsSettings(turn_seconds=0)


# -- plays ---------------------------------------------------------------------------------


def test_a_matching_card_is_played_and_the_turn_passes() -> None:
    game, (ada, _bob) = started()
    arrange(game, [["5C", "9H", "KD"], ["2S", "3S"]], top="9C")
    sent = game.step()
    assert not sent
    game.command(ada, play("5C"))  # same suit
    assert events(game.step()) == [Played(seat=0, suit=Suit.CLUBS, rank=5)]
    table = game.rules.table
    assert (table.top_suit, table.top_rank, table.turn) == (Suit.CLUBS, 5, 1)
    assert hand(game, ada) == sorted([c("9H"), c("KD")])
    arrange(game, [["5C", "9H", "KD"], ["2S", "3S"]], top="9C")
    game.command(ada, play("9H"))  # same rank
    assert events(game.step()) == [Played(seat=0, suit=Suit.HEARTS, rank=9)]


def test_each_illegal_command_is_refused_with_its_reason() -> None:
    game, (ada, bob) = started()
    arrange(game, [["5C", "9H", "KD", "8S"], ["2S", "3S"]], top="9C", stock=["4D", "6H"])
    assert refused(game, bob, play("2S")) is Reason.NOT_YOUR_TURN
    assert refused(game, bob, Draw()) is Reason.NOT_YOUR_TURN
    assert refused(game, ada, play("2S")) is Reason.NOT_IN_HAND
    assert refused(game, ada, play("KD")) is Reason.NO_MATCH
    assert refused(game, ada, play("8S")) is Reason.NAME_A_SUIT
    assert refused(game, ada, play("5C", named=Suit.HEARTS)) is Reason.EIGHTS_ONLY
    assert refused(game, ada, Pass()) is Reason.DRAW_FIRST
    game.command(ada, Draw())  # 6H: playable on 9C? no: the turn passes
    assert TurnPassed(seat=0, why=PassReason.NO_PLAY) in events(game.step())
    game.command(bob, Draw())  # 4D cannot go on 9C either
    game.step()
    arrange(game, [["5C", "9H", "KD"], ["2S"]], top="9C", stock=["7C"])
    game.command(ada, Draw())  # 7C fits: the turn stays
    game.step()
    assert refused(game, ada, Draw()) is Reason.ALREADY_DREW
    assert refused(game, ada, play("5C")) is Reason.PLAY_DRAWN_CARD
    game.command(ada, play("7C"))
    assert Played(seat=0, suit=Suit.CLUBS, rank=7) in events(game.step())


def test_an_eight_names_the_suit_to_follow() -> None:
    game, (ada, bob) = started()
    arrange(game, [["8S", "2D"], ["9C", "4H", "8D"]], top="9D")
    game.command(ada, play("8S", named=Suit.HEARTS))
    assert events(game.step()) == [
        Played(seat=0, suit=Suit.SPADES, rank=8),
        SuitChosen(seat=0, suit=Suit.HEARTS),
    ]
    table = public_table(game)
    assert (table.top_suit, table.top_rank, table.named) == (Suit.SPADES, 8, Suit.HEARTS)
    assert refused(game, bob, play("9C")) is Reason.NO_MATCH  # spades no longer count
    game.command(bob, play("4H"))  # the named suit, any rank
    game.step()
    assert game.rules.table.named is Suit.NONE
    assert refused(game, ada, play("2D")) is Reason.NO_MATCH
    arrange(game, [["2D"], ["8D", "8C"]], top="8H", named=Suit.CLUBS, turn=1)
    game.command(bob, play("8D", named=Suit.DIAMONDS))  # an eight on an eight
    game.step()
    game.command(ada, play("2D"))
    assert Played(seat=0, suit=Suit.DIAMONDS, rank=2) in events(game.step())


def test_a_drawn_playable_card_may_be_kept_with_pass() -> None:
    game, (ada, _bob) = started()
    arrange(game, [["2D"], ["3S"]], top="9C", stock=["KC"])
    game.command(ada, Draw())
    sent = game.step()
    assert events(sent) == [Drew(seat=0, auto=False), DrewCard(suit=Suit.CLUBS, rank=13)]
    assert [e.to for e in sent] == [None, frozenset({ada.id})]
    assert game.rules.table.turn == 0 and game.rules.table.drawn
    drawn = [w for w in game.view(ada).values() if w[0] == CARD and w[3] == 1]
    assert [(Suit(w[1]), w[2]) for w in drawn] == [c("KC")]  # flagged for its holder
    game.command(ada, Pass())
    assert events(game.step()) == [TurnPassed(seat=0, why=PassReason.PASSED)]
    assert game.rules.table.turn == 1 and not game.rules.table.drawn
    assert all(w[3] == 0 for w in game.view(ada).values() if w[0] == CARD)


def test_an_empty_stock_is_the_pile_reshuffled_under_its_top_card() -> None:
    game, (ada, _bob) = started()
    arrange(game, [["2D"], ["3S"]], top="9C", pile=["4H", "5H", "6H"], stock=[])
    game.command(ada, Draw())
    sent = events(game.step())
    assert sent[0] == Reshuffled(cards=3)
    assert game.rules.pile == [c("9C")]
    assert len(game.rules.stock) == 2 and c("2D") in hand(game, ada)
    (drawn,) = set(hand(game, ada)) - {c("2D")}
    assert sorted([*game.rules.stock, drawn]) == sorted(map(c, ["4H", "5H", "6H"]))


def test_nothing_to_draw_passes_and_a_blocked_table_ends_the_match() -> None:
    game, (ada, bob) = started()
    arrange(game, [["2D", "3D"], ["4H", "KS", "QS"]], top="9C")
    game.command(ada, Draw())
    assert events(game.step()) == [TurnPassed(seat=0, why=PassReason.NOTHING_TO_DRAW)]
    game.command(bob, Draw())
    sent = events(game.step())
    assert sent == [
        TurnPassed(seat=1, why=PassReason.NOTHING_TO_DRAW),
        MatchOver(winner=0, why=EndReason.BLOCKED),
    ]
    result = game.rules.result()
    assert result is not None and result.ranking == (ada.id, bob.id)
    assert result.scores == {ada.id: 5, bob.id: 24}


# -- time, absence, leaving ------------------------------------------------------------------


def test_the_turn_timer_draws_and_passes_at_an_absolute_tick() -> None:
    game, (ada, bob) = started(turn_seconds=2, seed=3)  # 20 ticks at 10 a second
    rules: Any = game.rules
    first = rules.table.turn
    assert CrazyEights.tick_rate == 10 and rules.table.deadline == 1 + 20
    player = (ada, bob)[first]
    views = [game.view(p) for p in (ada, bob, None)]
    assert game.step(19) == []  # ticks 2..20: nothing moves, nothing is sent
    assert [game.view(p) for p in (ada, bob, None)] == views
    before = len(hand(game, player))
    sent = game.step()  # tick 21
    assert [e.event for e in sent if e.to is None] == [
        Drew(seat=first, auto=True),
        TurnPassed(seat=first, why=PassReason.TIMEOUT),
    ]
    assert len(hand(game, player)) == before + 1
    assert (rules.table.turn, rules.table.deadline) == (1 - first, 21 + 20)


def test_time_running_out_after_a_draw_only_passes() -> None:
    game, (ada, _bob) = started(turn_seconds=1)
    arrange(game, [["2D"], ["3S"]], top="9C", stock=["KC", "4C"])
    game.command(ada, Draw())
    game.step()
    deadline = game.rules.table.deadline
    game.step(deadline - game.tick - 2)
    assert events(game.step()) == []
    assert events(game.step()) == [TurnPassed(seat=0, why=PassReason.TIMEOUT)]
    assert len(game.rules.stock) == 1


def test_a_disconnected_players_turns_are_played_at_once() -> None:
    game, (ada, bob, _cy) = started(3, seed=4)
    arrange(game, [["2D"], ["3S"], ["4S"]], top="9C", stock=["KH", "QH", "JH"], turn=1)
    game.disconnect(bob)
    sent = game.step()
    assert [e.event for e in sent if e.to is None] == [
        Drew(seat=1, auto=True),
        TurnPassed(seat=1, why=PassReason.AWAY),
    ]
    assert game.view(ada)[game.entity_of[bob.id]][6] == 0  # connected: no
    assert game.rules.table.turn == 2
    game.reconnect(bob)
    game.step()
    assert game.view(ada)[game.entity_of[bob.id]][6] == 1


def test_leaving_forfeits_the_cards_go_under_the_stock() -> None:
    game, (ada, bob, cy) = started(3, seed=5)
    arrange(game, [["2D"], ["3S", "QS"], ["4S"]], top="9C", stock=["KH", "JH"], turn=1)
    bob_seat = game.entity_of[bob.id]
    game.leave(bob)
    assert events(game.step()) == [Forfeited(seat=1)]
    assert sorted(game.rules.stock[:2]) == sorted([c("3S"), c("QS")])
    assert game.rules.stock[2:] == [c("KH"), c("JH")]
    seat = game.view(ada)[bob_seat]
    assert (seat[3], seat[7]) == (0, 1)  # no cards, out
    assert game.rules.table.turn == 2  # bob's turn went on to cy
    game.command(cy, Draw())  # JH does not fit 9C: the turn passes
    game.step()
    assert game.rules.table.turn == 0  # bob's seat is skipped
    game.leave(cy)
    assert events(game.step()) == [
        Forfeited(seat=2),
        MatchOver(winner=0, why=EndReason.LAST_PLAYER),
    ]
    result = game.rules.result()
    assert result is not None and result.ranking == (ada.id, cy.id, bob.id)
    assert result.scores[bob.id] == penalty([c("3S"), c("QS")])


def test_emptying_a_hand_ends_the_match_with_a_result() -> None:
    game, (ada, bob, cy) = started(3, seed=6)
    arrange(game, [["5C"], ["8S", "KH"], ["2D", "3D", "4D"]], top="9C")
    game.command(ada, play("5C"))
    assert events(game.step())[-1] == MatchOver(winner=0, why=EndReason.EMPTIED_HAND)
    result = game.rules.result()
    assert result is not None
    assert result.ranking == (ada.id, bob.id, cy.id)
    assert result.scores == {ada.id: 0, bob.id: 60, cy.id: 9}
    assert (
        result.summary
        == "ada won (played the last card); bob 2 cards (60 points), cy 3 cards (9 points)"
    )
    table = public_table(game)
    assert (table.phase, table.turn, table.winner) == (Phase.OVER, -1, 0)  # no turn; ada won
    assert refused(game, bob, Draw()) is Reason.MATCH_OVER


# -- bots, determinism ---------------------------------------------------------------------


class BotTable:
    """N bots at one table, each acting on what its client would hold, as a room runs them."""

    def __init__(self, players: int, seed: int, **settings: Any) -> None:
        self.game: Headless[None] = Headless(
            CrazyEights, CrazyEightsSettings(**settings), seed=seed
        )
        self.players = [self.game.join(f"bot{i}") for i in range(players)]
        self.bots = {p.id: Bot(seed * 10 + i) for i, p in enumerate(self.players)}
        self.read = {p.id: 0 for p in self.players}  # events each bot has been given
        self.away: set[str] = set()
        self.refusals = 0
        self.turns = 0

    def view(self, player: Player) -> BotView:
        game = self.game
        received = game.events_for(player)
        fresh = received[self.read[player.id] :]
        self.read[player.id] = len(received)
        return BotView(
            tick=game.tick,
            me=game.entity_of[player.id],
            entities={e: CLIENT.entity_from_wire(w) for e, w in game.view(player).items()},
            events=[CLIENT.events.from_wire(e.wire(game.rules)[1:]) for e in fresh],
        )

    def step(self) -> list[SentEvent]:
        for player in self.players:
            if player.id not in self.away:
                for command in self.bots[player.id].act(self.view(player)).commands:
                    self.game.command(player, command)
        sent = self.game.step()
        self.refusals += sum(isinstance(e.event, Refused) for e in sent)
        self.turns += sum(isinstance(e.event, Played | TurnPassed) for e in sent)
        return sent

    def play_out(self, max_ticks: int = 3000) -> None:
        while self.game.rules.result() is None and self.game.tick < max_ticks:
            self.step()


@pytest.mark.parametrize("players", [2, 3, 4])
def test_bots_play_seeded_matches_to_the_end(players: int) -> None:
    turns = []
    for seed in range(6):
        table = BotTable(players, seed)
        table.play_out()
        result = table.game.rules.result()
        assert result is not None, f"seed {seed}: no result after {table.game.tick} ticks"
        assert sorted(result.ranking) == sorted(p.id for p in table.players)
        assert result.scores[result.ranking[0]] == 0 and "won" in result.summary
        assert table.refusals == 0  # bots play legally
        turns.append(table.turns)
    assert 5 <= sum(turns) / len(turns) <= 150, turns


def test_bot_prefers_a_matching_ordinary_card_then_an_eight_naming_its_suit() -> None:
    game, (ada, _bob) = started()
    bot = Bot(1)
    table = BotTable.__new__(BotTable)
    table.game, table.read = game, {ada.id: 0}

    def choice() -> list[object]:
        return list(bot.act(table.view(ada)).commands)

    arrange(game, [["8S", "5H", "3H", "KC"], ["2D"]], top="5C")
    assert choice() == [play("5H")]  # hearts: the suit it holds most of
    game.step()
    arrange(game, [["8S", "2H", "3H", "4D"], ["2D"]], top="KC")
    assert choice() == [play("8S", named=Suit.HEARTS)]
    game.step()
    arrange(game, [["2H"], ["2D"]], top="KC", stock=["4C"])
    assert choice() == [Draw()]
    assert choice() == []  # not twice for the same table state
    game.command(ada, Draw())
    game.step()
    assert choice() == [play("4C")]  # the drawn card fits


def test_same_seed_same_match_and_save_restore_continues_it() -> None:
    def finished(seed: int) -> tuple[str, list[list[Any]]]:
        table = BotTable(3, seed, turn_seconds=1)
        table.play_out()
        return table.game.rules.state_hash(), [e.wire(table.game.rules) for e in table.game.events]

    assert finished(7) == finished(7)
    assert finished(7)[0] != finished(8)[0]

    original, copy_table = BotTable(4, 9), BotTable(4, 9)
    for _ in range(12):
        original.step()
    saved = original.game.rules.save()
    copy_table.game.rules = CrazyEights.restore(saved)
    copy_table.game.events = list(original.game.events)
    copy_table.read = dict(original.read)
    copy_table.bots = copy.deepcopy(original.bots)
    assert copy_table.game.rules.state_hash() == original.game.rules.state_hash()
    original.play_out()
    copy_table.play_out()
    assert copy_table.game.rules.state_hash() == original.game.rules.state_hash()
    assert copy_table.game.rules.result() == original.game.rules.result()
    assert cbor2.loads(saved)  # plain data (no pickle): bytes a room can store


def test_nothing_travels_between_moves() -> None:
    """No counters: while a player thinks, every view and the wire state stay the same."""
    game, seated = started(4, seed=11, turn_seconds=5)
    viewers: list[Player | None] = [*seated, None]
    views = [game.view(v) for v in viewers]
    wire = game.wire_state()
    for _ in range(49):
        assert game.step() == []
        assert game.wire_state() == wire and [game.view(v) for v in viewers] == views


# -- hidden hands --------------------------------------------------------------------------


def _faces_in(wire: tuple[Any, ...] | list[Any], kind_fields: tuple[str, ...]) -> Face | None:
    fields = dict(zip(kind_fields, wire, strict=True))
    if "suit" in fields and "rank" in fields:
        return Suit(fields["suit"]), fields["rank"]
    return None


EVENT_FIELDS = {m.kind: ("kind", *m.field_names) for m in CLIENT.events.messages}


def _hands(rules: Any) -> dict[str, set[Face]]:
    return {p.player.id: set(p.faces()) for p in rules.places}


def _check_secrets(
    table: BotTable,
    viewers: list[Player | None],
    sent: list[SentEvent],
    hands_before: dict[str, set[Face]],
    seen_ids: dict[int, Face],
    gone_ids: set[int],
) -> None:
    rules: Any = table.game.rules
    hands_after = _hands(rules)
    top = rules.pile[-1] if rules.pile else (Suit.NONE, 0)
    held_before = set().union(*hands_before.values())
    held_after = set().union(*hands_after.values())
    played_now = (held_before - held_after) & set(rules.pile)  # public acts of this tick
    card_ids = {p.player.id: set(p.hand) for p in rules.places}
    for viewer in viewers:
        own = set() if viewer is None else hands_after.get(viewer.id, set())
        visible_ids: set[int] = set()
        faces: set[Face] = set()
        for entity_id, wire in table.game.view(viewer).items():
            if wire[0] == CARD:
                face = (Suit(wire[1]), wire[2])
                faces.add(face)
                visible_ids.add(entity_id)
                assert seen_ids.setdefault(entity_id, face) == face  # an id is one card
                assert entity_id not in gone_ids  # and is never used again
            elif wire[0] == TABLE:
                assert (Suit(wire[2]), wire[3]) == top
            else:
                assert wire[0] == SEAT and len(wire) == 8  # a count of cards, no faces
        assert faces == own  # exactly its own hand: the top card rides on the table
        mine = set() if viewer is None else card_ids.get(viewer.id, set())
        assert visible_ids == mine
        own_before = set() if viewer is None else hands_before.get(viewer.id, set())
        for event in sent:
            if event.to is not None and (viewer is None or viewer.id not in event.to):
                continue
            wire = event.wire(rules)[1:]
            face = _faces_in(wire, EVENT_FIELDS[wire[0]])
            if face is None:
                continue
            if event.to is None:
                assert face in played_now, (event, viewer)
            else:
                assert event.to == frozenset({viewer.id}) if viewer else False
                assert face in own | own_before, (event, viewer)


def test_no_viewer_ever_learns_another_players_cards() -> None:
    """Every tick of many seeded bot matches (with absences, forfeits, a latecomer and a
    spectator): each viewer's wire tuples and events show its own cards, the pile's top
    card and cards as they are played, and of everyone else's hand only its size."""
    matches = 0
    for seed in range(60):
        chaos = random.Random(seed)
        table = BotTable(2 + seed % 3, seed, turn_seconds=1)
        viewers: list[Player | None] = [*table.players, None]
        seen_ids: dict[int, Face] = {}
        gone_ids: set[int] = set()
        disconnected: set[str] = set()
        while table.game.rules.result() is None and table.game.tick < 3000:
            if table.game.tick == 3:
                viewers.append(table.game.join("late"))
            seated = [p for p in table.players if p.id in table.game.players]
            if table.game.tick == 0:
                pass  # the lobby: everyone sends Ready
            elif chaos.random() < 0.04:  # someone drops, or comes back
                who = chaos.choice(seated)
                if who.id in disconnected:
                    disconnected.discard(who.id)
                    table.away.discard(who.id)
                    table.game.reconnect(who)
                elif who.id not in table.away:
                    disconnected.add(who.id)
                    table.away.add(who.id)
                    table.game.disconnect(who)
            if chaos.random() < 0.03:  # someone stops acting for a while: its timer runs out
                who = chaos.choice(seated)
                if who.id not in disconnected:
                    table.away ^= {who.id}
            if chaos.random() < 0.01 and len(seated) > 2:
                leaving = chaos.choice(seated)
                table.game.leave(leaving)
                table.players.remove(leaving)
                viewers.remove(leaving)
                table.away.discard(leaving.id)
                disconnected.discard(leaving.id)
            before = _hands(table.game.rules)
            ids_before = set().union(*(set(p.hand) for p in table.game.rules.places))  # type: ignore[attr-defined]
            sent = table.step()
            ids_after = set().union(*(set(p.hand) for p in table.game.rules.places))  # type: ignore[attr-defined]
            gone_ids |= ids_before - ids_after
            _check_secrets(table, viewers, sent, before, seen_ids, gone_ids)
        assert table.game.rules.result() is not None
        matches += 1
    assert matches == 60


def test_public_names_and_a_clean_rules_class() -> None:
    import gameserver.games.crazyeights as package
    from gameserver.rules import rules_class_problems

    assert rules_class_problems(CrazyEights) == []
    assert {"Bot", "CrazyEights", "CrazyEightsSettings", "Table", "Seat", "Card"} <= set(
        package.__all__
    )
    assert all(hasattr(package, name) for name in package.__all__)
    assert CLIENT.describe() == CrazyEights.schema.describe()  # a client decodes it all
    assert CrazyEights.max_players == 4 and CrazyEights.schema.input is None
