import type { Logger } from '../../core/logger.js';
import type { Clock, Timer } from '../../core/ports.js';

/** A periodic job on the injected Clock (so tests move time instead of waiting). */
export interface Ticker {
  /** Stops the ticks and waits for a run in flight. */
  stop(): Promise<void>;
}

/**
 * Runs `run` now and then every `everyMs` of clock time. Runs never overlap: a tick that finds the previous run still
 * going is skipped. The next tick is armed before the run starts, so a slow run does not stretch the period.
 */
export function startTicker(o: { clock: Clock; everyMs: number; run: () => Promise<void>; log: Logger; name: string; track?: (work: Promise<unknown>) => void }): Ticker {
  let timer: Timer | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    timer = o.clock.setTimer(o.everyMs, tick);
    if (running) return;
    running = o.run()
      .catch((err: unknown) => o.log.error({ err, job: o.name }, 'scheduled job failed'))
      .finally(() => {
        running = undefined;
      });
    o.track?.(running);
  };
  tick();
  return {
    async stop() {
      stopped = true;
      timer?.cancel();
      await running;
    },
  };
}
