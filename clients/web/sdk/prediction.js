// The prediction hook: how a game page predicts its own entity between snapshots.
//
// A Session calls `prediction({welcome, schema})` at each Welcome of a player; what it
// returns (or null: no prediction) is a predictor with two methods:
//   applyInput(seq, wire, input)   an Input was just sent (its seq, its wire values
//                                  and the values the page gave)
//   reconcile({session, me, ackSeq, full})   a snapshot arrived: `me` is the own entity's
//                                  wire tuple (or null), `ackSeq` the newest input the
//                                  server consumed, `full` whether it was a full snapshot
// A game with a pure prediction function (the same step the server runs, as the arena's
// movement) wraps it with `replayPrediction`; a game that needs more (the arena smooths
// corrections and knows its obstacles) writes its own predictor.
//
// Theory of operation of replayPrediction: every input sent is kept as pending and
// applied to the predicted state at once. A snapshot gives the authoritative state and
// ack_seq: pending inputs up to it are dropped, and the rest are replayed on top of the
// server's state. A correct prediction lands where it was.

/**
 * A prediction hook from a pure function `predict(state, input, context) -> state`, where
 * `state` is the own entity decoded by the schema ({id, type, ...fields}), `input` the
 * decoded input ({field: value}) and `context` {params, tickRate, dtS, schema}.
 * `maxPending` bounds the inputs kept while the server has not consumed them.
 */
export function replayPrediction(predict, { maxPending = 256 } = {}) {
  return ({ welcome, schema }) => {
    if (!schema) return null;
    const context = Object.freeze({
      params: welcome.params,
      tickRate: welcome.tickRate,
      dtS: 1 / welcome.tickRate,
      schema,
    });
    return new ReplayPredictor(predict, context, maxPending);
  };
}

export class ReplayPredictor {
  constructor(predict, context, maxPending) {
    this.predict = predict;
    this.context = context;
    this.maxPending = maxPending;
    this.pending = []; // [seq, input], oldest first
    this.state = null; // the predicted own entity, or null before the server names it
    this.corrections = 0; // reconciliations where the prediction was not where it landed
  }

  applyInput(seq, _wire, input) {
    this.pending.push([seq, input]);
    if (this.pending.length > this.maxPending) this.pending.shift();
    if (this.state) this.state = this.predict(this.state, input, this.context);
  }

  reconcile({ session, me, ackSeq }) {
    const pending = this.pending;
    let acked = 0;
    while (acked < pending.length && pending[acked][0] <= ackSeq) acked++;
    if (acked) pending.splice(0, acked);
    if (!me) {
      this.state = null;
      return;
    }
    let state = session.entity(session.entityId);
    for (const [, input] of pending) state = this.predict(state, input, this.context);
    if (this.state && !sameFields(this.state, state)) this.corrections += 1;
    this.state = state;
  }
}

function sameFields(a, b) {
  for (const key of Object.keys(b)) {
    if (typeof b[key] !== "object" && a[key] !== b[key]) return false;
  }
  return true;
}
