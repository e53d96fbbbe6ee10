import type { Clock, Timer } from '../../src/core/ports.js';

/** A clock that moves only when the test says so. Timers due at or before the new time run in order. */
export class ManualClock implements Clock {
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 1;
  constructor(private current = Date.UTC(2026, 10, 22, 9, 0, 0)) {}

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const t = { at: this.current + Math.max(0, ms), fn, id: this.nextId++ };
    this.timers.push(t);
    return { cancel: () => { this.timers = this.timers.filter((x) => x !== t); } };
  }

  /** Moves time forward by `ms`, running due timers, and lets promises settle between them. */
  async advance(ms: number): Promise<void> {
    const end = this.current + ms;
    for (;;) {
      await flushPromises();
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.current = Math.max(this.current, next.at);
      next.fn();
    }
    this.current = end;
    await flushPromises();
  }

  pending(): number {
    return this.timers.length;
  }
}

/** Lets queued promise callbacks and immediates run. */
export async function flushPromises(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
