/** A token bucket: `burst` tokens at most, refilled at `perSecond`. Time comes from the caller. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(private readonly perSecond: number, private readonly burst: number, now: number) {
    this.tokens = burst;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
    }
  }

  /** Takes a token if there is one. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Milliseconds until `need` tokens are available (0 when they are; Infinity when `need` exceeds the burst). */
  waitMs(now: number, need = 1): number {
    this.refill(now);
    if (this.tokens >= need) return 0;
    return need > this.burst ? Infinity : Math.ceil(((need - this.tokens) / this.perSecond) * 1000);
  }

  /** Tokens available now, for deciding whether a channel is busy. */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }
}

/**
 * A token bucket plus a sliding window: bursts as the bucket allows, yet never more than `perSecond × windowMs` in any
 * window (Slack's "about one per second per channel" is an average; a burst must be paid back within the window).
 * A call counts in the window from when it was sent until its answer came back (see `restamp`): Slack saw it somewhere
 * in between, so the window holds whatever Slack's own clock says.
 */
export class PacedLimiter {
  private readonly bucket: TokenBucket;
  private readonly sent: number[] = [];
  private readonly maxInWindow: number;
  constructor(perSecond: number, burst: number, now: number, private readonly windowMs = 10_000) {
    this.bucket = new TokenBucket(perSecond, burst, now);
    this.maxInWindow = Math.max(1, Math.floor((perSecond * windowMs) / 1000));
  }

  private trim(now: number): void {
    while (this.sent.length && this.sent[0]! <= now - this.windowMs) this.sent.shift();
  }

  /** Milliseconds until `need` posts may go one after the other (0 when they may go now). */
  waitMs(now: number, need = 1): number {
    this.trim(now);
    if (need > this.maxInWindow) return Infinity;
    // The window has room for `need` once all but `maxInWindow - need` of the stamps in it have left.
    const over = this.sent.length - (this.maxInWindow - need);
    const windowWait = over > 0 ? this.sent[over - 1]! + this.windowMs - now : 0;
    return Math.max(this.bucket.waitMs(now, need), windowWait);
  }

  /** Takes the right to post now; false when it must wait. */
  take(now: number): boolean {
    if (this.waitMs(now) > 0) return false;
    this.bucket.take(now);
    this.sent.push(now);
    return true;
  }

  /**
   * Moves a call's stamp from `from` to `to` (later): from when its slot was taken to when it went out (the store flush
   * in between can take a while), then to when its answer came back. Slack records the call somewhere in between, so a
   * call sent a window after the answer of the one before it can never share a window with it in Slack's eyes (a
   * post's own trip otherwise let 11 posts land within 9,997 ms). Returns the stamp now held.
   */
  restamp(from: number, to: number): number {
    const i = this.sent.lastIndexOf(from);
    if (i < 0 || to <= from) return from;
    this.sent.splice(i, 1);
    let j = this.sent.length;
    while (j > 0 && this.sent[j - 1]! > to) j--;
    this.sent.splice(j, 0, to);
    return to;
  }

  /** Posts that could go right now without waiting. */
  available(now: number): number {
    this.trim(now);
    return Math.min(this.bucket.available(now), this.maxInWindow - this.sent.length);
  }
}
