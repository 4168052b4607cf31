// Round trip and server clock offset from ping/pong; clients/_clock.py is the reference.
//
// Theory of operation: a ping leaves at local `sent`, the pong carries the server clock
// and arrives at local `received`. With equal legs the server read its clock at
// `sent + rtt / 2`, so offset = serverTime - (sent + rtt / 2) and
// serverNow(local) = local + offset. Samples are noisy, so the estimate is the median of
// the last `window` samples, separately for rtt and offset. Before the first pong,
// snapshots give a bound: serverTime - arrival is the offset minus a one-way delay
// (too small); the largest over the window is used until a pong arrives. Erring low only
// renders a little further in the past. Pure: every time is passed in, in seconds.

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const i = Math.floor(n / 2);
  return n % 2 ? sorted[i] : (sorted[i - 1] + sorted[i]) / 2;
}

export class ClockEstimator {
  constructor(window = 16) {
    if (!(window > 0)) throw new RangeError("window must be positive");
    this.window = window;
    this.rtts = [];
    this.offsets = [];
    this.snapshotLags = [];
    // Medians are recomputed per sample, not per read: reads happen every frame.
    this.rttMedian = null;
    this.offsetMedian = null;
  }

  remember(list, value) {
    list.push(value);
    if (list.length > this.window) list.shift();
  }

  /** One ping/pong exchange: local send and receive times, the server's clock reading. */
  onPong(sentS, receivedS, serverTimeS) {
    const rtt = receivedS - sentS;
    if (rtt < 0) return; // clocks or nonces mixed up: not a measurement
    this.remember(this.rtts, rtt);
    this.remember(this.offsets, serverTimeS - (sentS + rtt * 0.5));
    this.rttMedian = median(this.rtts);
    this.offsetMedian = median(this.offsets);
  }

  /** A snapshot stamped `serverTimeS` arrived at local `localS`. */
  onSnapshot(localS, serverTimeS) {
    this.remember(this.snapshotLags, serverTimeS - localS);
  }

  /** Pong samples in the window. */
  get samples() {
    return this.rtts.length;
  }

  /** Median round trip in seconds, or null before the first pong. */
  get rttS() {
    return this.rttMedian;
  }

  /** Server clock minus local clock: the pong median, else the snapshot bound, else null. */
  get offsetS() {
    if (this.offsetMedian !== null) return this.offsetMedian;
    if (this.snapshotLags.length) return Math.max(...this.snapshotLags);
    return null;
  }

  /** Estimated server clock at local time `localS` (`localS` itself if unknown). */
  serverNow(localS) {
    const offset = this.offsetS;
    return offset === null ? localS : localS + offset;
  }
}
