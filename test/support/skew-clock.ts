import type { Clock, Timer } from '../../src/core/ports.js';

/**
 * Real time plus an offset the test moves forward: `skip(ms)` jumps the clock and runs at once every timer that is due
 * by the new time. Everything else (the outbox's 0 ms kicks, watch backoffs) keeps running on real timers, which is
 * what lets the whole bot run in an integration test while TTLs, reminders and drill deadlines are driven by the test.
 */
export class SkewClock implements Clock {
  private offset = 0;
  private readonly timers = new Set<{ at: number; fn: () => void; handle: NodeJS.Timeout }>();

  now(): number {
    return Date.now() + this.offset;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const t = {
      at: this.now() + Math.max(0, ms),
      fn,
      handle: setTimeout(() => this.fire(t), Math.max(0, ms)),
    };
    t.handle.unref?.();
    this.timers.add(t);
    return { cancel: () => {
      clearTimeout(t.handle);
      this.timers.delete(t);
    } };
  }

  /** Moves time forward by `ms` and runs the timers now due, earliest first. */
  skip(ms: number): void {
    this.offset += ms;
    const due = [...this.timers].filter((t) => t.at <= this.now()).sort((a, b) => a.at - b.at);
    for (const t of due) this.fire(t);
  }

  /** Timers not yet run. */
  pending(): number {
    return this.timers.size;
  }

  private fire(t: { at: number; fn: () => void; handle: NodeJS.Timeout }): void {
    if (!this.timers.delete(t)) return;
    clearTimeout(t.handle);
    t.fn();
  }
}
