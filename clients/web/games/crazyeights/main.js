// Crazy Eights' page: the table, the seats, the player's own hand, the commands, and the
// result, on the SDK. Everything it shows comes decoded from the game's description: the
// `Table` (id 1), one `Seat` per player (the player's own entity), and the `Card`s of the
// player's own hand, which nobody else's view holds (gameserver/games/crazyeights).
//
// window.game (ui/page.js) has, besides the common view:
//   table()     the Table entity, or null
//   seats()     the Seat entities, by seat index
//   mySeat      the page's own Seat, or null (a spectator or a latecomer)
//   hand()      the own Card entities, as the hand shows them ({id, suit, rank, drawn,
//               playable})
//   result      {winner (seat index), why, ranking: [names]} once the match is over, or null

import { connectPage } from "../../sdk/index.js";
import { ChatPanel } from "../../ui/chat.js";
import { chooseName, gameView, setPageState } from "../../ui/page.js";

const SUIT_SYMBOLS = { CLUBS: "♣", DIAMONDS: "♦", HEARTS: "♥", SPADES: "♠", NONE: "" };
const RANKS = { 1: "A", 11: "J", 12: "Q", 13: "K" };
const RED = new Set(["DIAMONDS", "HEARTS"]);
const EIGHT = 8;
const REFUSALS = {
  NO_SEAT: "you have no seat at this table",
  NOT_STARTED: "the match has not started",
  ALREADY_STARTED: "the match has started",
  MATCH_OVER: "the match is over",
  NOT_YOUR_TURN: "it is not your turn",
  NOT_IN_HAND: "you do not hold that card",
  NO_MATCH: "that card matches neither the suit nor the rank",
  NAME_A_SUIT: "an eight names a suit",
  EIGHTS_ONLY: "only an eight names a suit",
  ALREADY_DREW: "one draw a turn",
  PLAY_DRAWN_CARD: "after drawing, only the card drawn may be played",
  DRAW_FIRST: "draw first",
};
const END_REASONS = { EMPTIED_HAND: "played the last card", LAST_PLAYER: "the last one at the table", BLOCKED: "fewest cards when nobody could play" };

const page = { state: "idle", connection: null, code: null, closeCode: null, closeReason: null, matchOver: null };
const $ = (id) => document.getElementById(id);

// -------------------------------------------------------------- reading the world

function session() {
  return page.connection ? page.connection.session : null;
}

function table() {
  return session()?.entities().find((e) => e.type === "Table") ?? null;
}

function seats() {
  const all = session() ? session().entities().filter((e) => e.type === "Seat") : [];
  return all.sort((a, b) => a.index - b.index);
}

function mySeat() {
  const s = session();
  const me = s && s.entityId ? s.entity(s.entityId) : null;
  return me && me.type === "Seat" ? me : null;
}

/** Whether `card` may be played now, by the rules the server applies. */
export function playable(card, top, seat) {
  if (!top || !seat || top.phase !== "PLAYING" || !seat.turn) return false;
  if (top.drawn && !card.drawn) return false; // after a draw, only the card drawn
  if (card.rank === EIGHT) return true;
  const suit = top.named !== "NONE" ? top.named : top.top_suit;
  return card.suit === suit || card.rank === top.top_rank;
}

function hand() {
  const top = table();
  const seat = mySeat();
  const cards = session() ? session().entities().filter((e) => e.type === "Card") : [];
  cards.sort((a, b) => a.suit.localeCompare(b.suit) || a.rank - b.rank);
  return cards.map((c) => ({ id: c.id, suit: c.suit, rank: c.rank, drawn: c.drawn, playable: playable(c, top, seat) }));
}

function result() {
  const top = table();
  if (!top || top.phase !== "OVER") return null;
  const ranking = [...seats()].sort((a, b) => (a.index === top.winner ? -1 : b.index === top.winner ? 1 : a.cards - b.cards || a.index - b.index));
  return { winner: top.winner, why: page.matchOver?.why ?? null, ranking: ranking.map((s) => s.name) };
}

window.game = gameView(page, {
  table,
  seats,
  get mySeat() {
    return mySeat();
  },
  hand,
  get result() {
    return result();
  },
});

// -------------------------------------------------------------- acting

function command(name, values = {}) {
  if (!page.connection || !page.connection.command(name, values)) status("not connected: nothing was sent");
}

let pendingEight = null; // the eight waiting for a suit to be named

function onCardClick(card) {
  if (card.rank === EIGHT) {
    pendingEight = card;
    $("suit-picker").hidden = false;
    return;
  }
  command("Play", { suit: card.suit, rank: card.rank, named: "NONE" });
}

function status(text) {
  $("status").textContent = text;
}

function onEvent(event) {
  const names = new Map(seats().map((s) => [s.index, s.name]));
  const who = (index) => names.get(index) ?? `seat ${index}`;
  switch (event.type) {
    case "Refused":
      status(`refused: ${REFUSALS[event.reason] ?? event.reason}`);
      break;
    case "NoSeat":
      status(event.why === "STARTED" ? "the match has started without you: watching" : "the table is full: watching");
      break;
    case "Started":
      status(`the match starts: ${who(event.first)} plays first`);
      break;
    case "Played":
      status(`${who(event.seat)} played ${cardText(event.suit, event.rank)}`);
      break;
    case "SuitChosen":
      status(`${who(event.seat)} names ${event.suit.toLowerCase()}`);
      break;
    case "DrewCard":
      status(`you drew ${cardText(event.suit, event.rank)}`);
      break;
    case "TurnPassed":
      status(`${who(event.seat)} passes (${event.why.toLowerCase().replaceAll("_", " ")})`);
      break;
    case "MatchOver":
      page.matchOver = event;
      break;
    default:
      break;
  }
}

// -------------------------------------------------------------- drawing

function cardText(suit, rank) {
  return `${RANKS[rank] ?? rank}${SUIT_SYMBOLS[suit] ?? ""}`;
}

function cardElement(tag, suit, rank) {
  const element = document.createElement(tag);
  element.className = "card";
  if (RED.has(suit)) element.classList.add("red");
  element.textContent = cardText(suit, rank);
  return element;
}

let drawnKey = "";

function render() {
  const s = session();
  const top = table();
  const seat = mySeat();
  $("state").textContent = page.state === "closed" && page.connection?.closeReason ? `closed: ${page.connection.closeReason}` : page.state;
  if (page.code) {
    $("code-line").hidden = false;
    $("room-code").textContent = page.code;
    $("code-link").href = `${location.pathname}?code=${encodeURIComponent(page.code)}`;
  }
  const cards = hand();
  const key = JSON.stringify([top, seats(), cards, s?.tick && top ? Math.ceil((top.deadline - s.tick) / s.welcome.tickRate) : 0]);
  if (key === drawnKey) return;
  drawnKey = key;
  $("stock").textContent = top ? String(top.stock) : "0";
  const topCard = $("top");
  if (top && top.top_rank) {
    topCard.textContent = cardText(top.top_suit, top.top_rank);
    topCard.classList.toggle("red", RED.has(top.top_suit));
    topCard.dataset.suit = top.top_suit;
    topCard.dataset.rank = String(top.top_rank);
  } else {
    topCard.textContent = "";
  }
  $("named").textContent = top && top.named !== "NONE" ? `suit to follow: ${SUIT_SYMBOLS[top.named]} ${top.named.toLowerCase()}` : "";
  const all = seats();
  const turnSeat = top ? all.find((x) => x.index === top.turn) : null;
  let turnText = "";
  if (top?.phase === "LOBBY") turnText = `waiting for players (${all.length} of ${top.max_players} seats)`;
  else if (top?.phase === "PLAYING" && turnSeat) {
    const left = Math.max(0, Math.ceil((top.deadline - s.tick) / s.welcome.tickRate));
    turnText = `${seat && turnSeat.index === seat.index ? "your turn" : `${turnSeat.name}'s turn`} · ${left} s`;
  } else if (top?.phase === "OVER") turnText = "the match is over";
  $("turn-line").textContent = turnText;
  $("turn-line").dataset.mine = String(Boolean(seat && seat.turn));
  $("seats").querySelector("tbody").replaceChildren(
    ...all.map((x) => {
      const row = document.createElement("tr");
      row.dataset.seat = String(x.index);
      row.classList.toggle("turn", x.turn);
      row.classList.toggle("out", x.out);
      const flags = [x.ready && top?.phase === "LOBBY" ? "ready" : "", x.connected ? "" : "away", seat && x.index === seat.index ? "you" : ""];
      for (const text of [x.name, `${x.cards} cards`, flags.filter(Boolean).join(", ")]) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }),
  );
  $("hand").replaceChildren(
    ...cards.map((card) => {
      const button = cardElement("button", card.suit, card.rank);
      button.type = "button";
      button.dataset.suit = card.suit;
      button.dataset.rank = String(card.rank);
      button.dataset.playable = String(card.playable);
      button.classList.toggle("playable", card.playable);
      button.classList.toggle("drawn", card.drawn);
      button.disabled = !card.playable;
      button.addEventListener("click", () => onCardClick(card));
      return button;
    }),
  );
  const playing = top?.phase === "PLAYING" && seat && seat.turn;
  $("ready-button").hidden = !(top?.phase === "LOBBY" && seat);
  $("ready-button").disabled = Boolean(seat?.ready);
  $("draw-button").hidden = !playing || top.drawn;
  $("pass-button").hidden = !playing || !top.drawn;
  if (!playing) $("suit-picker").hidden = true;
  const over = result();
  $("result").hidden = !over;
  if (over) {
    const winner = all.find((x) => x.index === over.winner);
    const mine = seat && seat.index === over.winner;
    const why = over.why ? ` (${END_REASONS[over.why] ?? over.why})` : "";
    $("result-title").textContent = mine ? `You won${why}!` : `${winner ? winner.name : "nobody"} won${why}`;
    $("result-ranking").replaceChildren(
      ...over.ranking.map((name) => {
        const item = document.createElement("li");
        item.textContent = name;
        return item;
      }),
    );
  }
}

function frame() {
  render();
  chat.update(session() ?? { chatRateLimited: 0, chatReceived: 0, chat: [] });
  requestAnimationFrame(frame);
}

// -------------------------------------------------------------- start

const chat = new ChatPanel(document, { say: (text) => window.game.say(text) });

const setState = (state) => setPageState(state, page);

async function start() {
  setState("idle");
  const name = await chooseName();
  setState("connecting");
  try {
    ({ connection: page.connection, code: page.code } = await connectPage({ location, name, onChange: setState, onEvent }));
  } catch (error) {
    page.closeReason = error.message;
    setState("closed");
    status(error.message);
  }
  $("ready-button").addEventListener("click", () => command("Ready"));
  $("draw-button").addEventListener("click", () => command("Draw"));
  $("pass-button").addEventListener("click", () => command("Pass"));
  for (const button of $("suit-picker").querySelectorAll("button")) {
    button.addEventListener("click", () => {
      if (pendingEight) command("Play", { suit: pendingEight.suit, rank: EIGHT, named: button.dataset.suit });
      pendingEight = null;
      $("suit-picker").hidden = true;
    });
  }
  chat.attach(window);
  requestAnimationFrame(frame);
}

start();
