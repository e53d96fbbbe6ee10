import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../../core/logger.js';

/** A wall-clock schedule (node-cron). */
export interface CronSchedule {
  /** When it runs next (for logs and tests). */
  nextRun(): Date | null;
  /** Stops the schedule and waits for a run in flight. */
  stop(): Promise<void>;
}

/**
 * Runs `run` on a cron expression (5 or 6 fields) in `timezone` (IANA, default UTC), with the time the run was scheduled
 * for. A thin adapter: the job itself is a plain function the tests call directly. Runs never overlap, and the timer
 * does not keep the process alive.
 */
export function scheduleCron(o: { expression: string; timezone?: string; name: string; run: (scheduledAt: number) => Promise<void>; log: Logger }): CronSchedule {
  let running: Promise<void> | undefined;
  const task: ScheduledTask = cron.schedule(
    o.expression,
    async (ctx) => {
      running = o.run(ctx.date.getTime()).catch((err: unknown) => o.log.error({ err, job: o.name }, 'scheduled job failed'));
      await running;
      running = undefined;
    },
    {
      name: o.name,
      timezone: o.timezone ?? 'UTC',
      noOverlap: true,
      unref: true,
      logger: {
        info: (message) => o.log.debug({ job: o.name, message }, 'node-cron'),
        warn: (message) => o.log.warn({ job: o.name, message }, 'node-cron warning'),
        error: (message, err) => o.log.error({ job: o.name, message: String(message), err }, 'node-cron error'),
        debug: (message) => o.log.trace({ job: o.name, message: String(message) }, 'node-cron'),
      },
    },
  );
  return {
    nextRun: () => task.getNextRun(),
    async stop() {
      await task.destroy();
      await running;
    },
  };
}
