// The monitor page's arithmetic: rates from counters, and the tick-duration history.
//
// The server's counters only grow while it runs, so a rate is the difference between two
// successive samples divided by the time between them. A counter that goes down or a
// clock that does not advance means the server restarted (or the stream replayed a
// sample): the rate is unknown until the next pair.

export const HISTORY_SAMPLES = 120;

export class RateMeter {
  constructor() {
    this.previous = null; // {timeS, value}
  }

  /** Per-second rate since the previous sample, or null when there is none yet. */
  update(timeS, value) {
    const previous = this.previous;
    this.previous = { timeS, value };
    if (!previous || timeS <= previous.timeS || value < previous.value) return null;
    return (value - previous.value) / (timeS - previous.timeS);
  }
}

/** "12.3 kB/s" (1 kB = 1000 bytes), "–" when unknown. */
export function formatKBps(bytesPerS) {
  if (bytesPerS === null || !Number.isFinite(bytesPerS)) return "–";
  return `${(bytesPerS / 1000).toFixed(1)} kB/s`;
}

/** A bounded history of (p50, p99) tick durations in ms, oldest first. */
export class TickHistory {
  constructor(capacity = HISTORY_SAMPLES) {
    this.capacity = capacity;
    this.samples = [];
  }

  push(p50, p99) {
    this.samples.push({ p50: Number(p50) || 0, p99: Number(p99) || 0 });
    if (this.samples.length > this.capacity) this.samples.shift();
  }

  /** The top of the graph: the largest sample rounded up to 1, 2 or 5 x 10^n ms. */
  scaleMs() {
    const largest = Math.max(0, ...this.samples.map((s) => Math.max(s.p50, s.p99)));
    if (largest <= 0) return 1;
    const power = 10 ** Math.floor(Math.log10(largest));
    for (const step of [1, 2, 5, 10]) {
      if (largest <= step * power) return step * power;
    }
    return 10 * power;
  }
}

/** "1h 02m 03s", "4m 05s", "6s" for an uptime in seconds. */
export function formatUptime(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  if (h) return `${h}h ${pad(m)}m ${pad(rest)}s`;
  if (m) return `${m}m ${pad(rest)}s`;
  return `${rest}s`;
}
