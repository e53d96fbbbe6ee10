/**
 * The pacing floor: what an ideal scheduler achieves under Slack's limits on the same schedule of changes.
 *
 * The ideal scheduler knows of every change the moment it is written, spends no time of its own, and uses every
 * token the moment it is there. Each message shows its thread's current state, so it shows every pending change of
 * that thread at once (perfect coalescing). A thread's first message is its root card; after that a post is a reply
 * and a `chat.update` refreshes the card. Posts are paced per channel, updates per workspace. When a token is free it
 * goes to a thread with a pending priority change, then to one with no root yet, then to progress; within each, to the
 * thread whose oldest pending change is oldest. Greedy, so a floor in the sense of "the same limits with no overhead", not a proven optimum.
 */

/** Slack's limits as the floor applies them. */
export interface SlackLimits {
  /** chat.postMessage per channel: about one a second, short bursts, and never more than `postsPerWindow` in any window. */
  postsPerSecond: number;
  postBurst: number;
  postsPerWindow: number;
  postWindowMs: number;
  /** chat.update, Tier 3, per workspace (not per channel). */
  updatesPerMinute: number;
  updateBurst: number;
}

export const SLACK_LIMITS: SlackLimits = Object.freeze({ postsPerSecond: 1, postBurst: 4, postsPerWindow: 10, postWindowMs: 10_000, updatesPerMinute: 50, updateBurst: 10 });

/** One change as the floor needs it. */
export interface FloorChange {
  at: number;
  channel: string;
  threadKey: string;
  /** Goes ahead of step progress (abort, waiting for promotion, completion). */
  priority: boolean;
}

export interface FloorResult {
  /** When each change (same order as the input) was first shown; undefined if the simulation ran out of bounds. */
  shownAt: Array<number | undefined>;
  posts: number;
  updates: number;
  /** Time of the last message sent. */
  endAt: number;
}

const EPS = 1e-9;

/** A token bucket plus a sliding window, refilled continuously; time in ms. */
class Limiter {
  private tokens: number;
  private last: number;
  private readonly sent: number[] = [];
  constructor(private readonly perMs: number, private readonly burst: number, private readonly perWindow: number, private readonly windowMs: number, now: number) {
    this.tokens = burst;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
      this.last = now;
    }
    while (this.sent.length && this.sent[0]! <= now - this.windowMs) this.sent.shift();
  }

  /** Milliseconds until one may go (0 when it may go now; infinite when the budget is below one message). */
  waitMs(now: number): number {
    if (this.burst < 1 || this.perWindow < 1) return Number.POSITIVE_INFINITY;
    this.refill(now);
    const bucket = this.tokens >= 1 - EPS ? 0 : (1 - this.tokens) / this.perMs;
    const window = this.sent.length >= this.perWindow ? this.sent[0]! + this.windowMs - now : 0;
    return Math.max(bucket, window);
  }

  take(now: number): boolean {
    if (this.waitMs(now) > 0) return false;
    this.tokens -= 1;
    this.sent.push(now);
    return true;
  }
}

interface SimThread {
  key: string;
  channel: string;
  rooted: boolean;
  /** Indices of arrived, unshown changes, oldest first. */
  pending: number[];
  priority: boolean;
}

/**
 * Simulates the ideal scheduler over `changes` (any order) and returns when each was shown. Bounded: it stops after
 * `maxSteps` decisions, leaving what was not shown by then undefined.
 */
export function simulatePacingFloor(changes: readonly FloorChange[], limits: SlackLimits = SLACK_LIMITS, maxSteps = 10_000_000): FloorResult {
  const order = changes.map((_, i) => i).sort((a, b) => changes[a]!.at - changes[b]!.at || a - b);
  const shownAt: Array<number | undefined> = changes.map(() => undefined);
  const threads = new Map<string, SimThread>();
  const byChannel = new Map<string, SimThread[]>();
  // Simulated time runs from 0 at the first change, so small waits do not vanish in the rounding of epoch milliseconds.
  const start = order.length ? changes[order[0]!]!.at : 0;
  const atOf = (i: number) => changes[i]!.at - start;
  const postLimiters = new Map<string, Limiter>();
  const updates = new Limiter(limits.updatesPerMinute / 60_000, limits.updateBurst, limits.updatesPerMinute, 60_000, 0);
  const result: FloorResult = { shownAt, posts: 0, updates: 0, endAt: start };

  const better = (a: SimThread, b: SimThread | undefined) => {
    if (!b) return true;
    // Priority news first (its goal is the tightest, 2 s), then threads still without a root card (5 s), then progress.
    const ca = a.priority ? 0 : a.rooted ? 2 : 1;
    const cb = b.priority ? 0 : b.rooted ? 2 : 1;
    if (ca !== cb) return ca < cb;
    const oa = atOf(a.pending[0]!);
    const ob = atOf(b.pending[0]!);
    return oa !== ob ? oa < ob : a.key < b.key;
  };
  const show = (t: SimThread, now: number) => {
    for (const i of t.pending) shownAt[i] = start + now;
    t.pending = [];
    t.priority = false;
    result.endAt = start + now;
  };

  let next = 0;
  let now = 0;
  for (let step = 0; step < maxSteps; step++) {
    for (; next < order.length && atOf(order[next]!) <= now; next++) {
      const i = order[next]!;
      const c = changes[i]!;
      let t = threads.get(c.threadKey);
      if (!t) {
        t = { key: c.threadKey, channel: c.channel, rooted: false, pending: [], priority: false };
        threads.set(c.threadKey, t);
        let list = byChannel.get(c.channel);
        if (!list) byChannel.set(c.channel, (list = []));
        list.push(t);
        if (!postLimiters.has(c.channel)) postLimiters.set(c.channel, new Limiter(limits.postsPerSecond / 1000, limits.postBurst, limits.postsPerWindow, limits.postWindowMs, 0));
      }
      t.pending.push(i);
      if (c.priority) t.priority = true;
    }
    // Posts first (each channel has its own pace), then card updates from the workspace budget.
    let wake = next < order.length ? atOf(order[next]!) : Number.POSITIVE_INFINITY;
    for (const [channel, list] of byChannel) {
      const limiter = postLimiters.get(channel)!;
      for (;;) {
        let best: SimThread | undefined;
        for (const t of list) if (t.pending.length && better(t, best)) best = t;
        if (!best) break;
        if (!limiter.take(now)) {
          wake = Math.min(wake, now + limiter.waitMs(now));
          break;
        }
        result.posts++;
        best.rooted = true;
        show(best, now);
      }
    }
    for (;;) {
      let best: SimThread | undefined;
      for (const t of threads.values()) if (t.rooted && t.pending.length && better(t, best)) best = t;
      if (!best) break;
      if (!updates.take(now)) {
        wake = Math.min(wake, now + updates.waitMs(now));
        break;
      }
      result.updates++;
      show(best, now);
    }
    if (!Number.isFinite(wake)) break;
    now = Math.max(now, wake);
  }
  return result;
}
