import type { Logger } from '../logger.js';
import type { Clock, Timer } from '../ports.js';

/** One timer per key that runs `onDue(key)` at a deadline; re-arming a key replaces its timer. */
export class DeadlineTimers {
  private readonly timers = new Map<string, Timer>();
  private stopped = false;

  constructor(
    private readonly deps: {
      clock: Clock;
      log: Logger;
      onDue: (key: string) => Promise<void>;
      /** Background work the app waits for on shutdown. */
      track?: (work: Promise<unknown>) => void;
    },
  ) {}

  /** Runs `onDue(key)` at `at` (ms), and not sooner than `atLeastMs` from now. */
  arm(key: string, at: number, atLeastMs = 0): void {
    if (this.stopped) return;
    this.timers.get(key)?.cancel();
    const ms = Math.max(atLeastMs, at - this.deps.clock.now());
    this.timers.set(key, this.deps.clock.setTimer(ms, () => {
      this.timers.delete(key);
      if (this.stopped) return;
      const work = this.deps.onDue(key).catch((err: unknown) => this.deps.log.error({ err, env: key }, 'error simulation expiry failed'));
      this.deps.track?.(work);
    }));
  }

  cancel(key: string): void {
    this.timers.get(key)?.cancel();
    this.timers.delete(key);
  }

  /** Cancels every timer; later `arm` calls do nothing. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }
}
