import type { Settings } from '../config/settings.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/ports.js';
import type { Stores } from '../core/store-ports.js';
import { startTicker } from '../adapters/scheduler/clock-ticker.js';
import { scheduleCron, type CronSchedule } from '../adapters/scheduler/cron-schedule.js';
import type { Features } from './build-features.js';
import { StartupError } from './startup-error.js';

/** How often the sweep runs, and how often it prunes the store within it. */
const SWEEP_MS = 30_000;
const PRUNE_MS = 6 * 3_600_000;

/**
 * Starts what runs on time rather than on a request: the chain's timeout timers, the error simulations', drills' and
 * reminders' timers, one 30 s sweep (a backstop for all those timers, and now and then retention) and the digest's cron. Returns the stops, in the order shutdown runs them.
 */
export function startPeriodicJobs(o: { settings: Settings; clock: Clock; log: Logger; stores: Pick<Stores, 'prune' | 'flush'>; features: Features; track: (work: Promise<unknown>) => void }): Array<() => Promise<void> | void> {
  const { settings, clock, log, stores, track } = o;
  const { chain, errorSim, drills, reminders, digest, scheduleMetrics } = o.features;
  const stops: Array<() => Promise<void> | void> = [];
  chain.start();
  stops.push(() => chain.stop());

  let prunedAt = -Infinity;
  const sweep = async () => {
    await errorSim.expireDue();
    await drills.checkAll();
    scheduleMetrics.reminders.inc(await reminders.sweep());
    if (clock.now() - prunedAt >= PRUNE_MS) {
      prunedAt = clock.now();
      const pruned = await stores.prune({ now: clock.now(), days: settings.config.retention.days });
      if (Object.values(pruned).some((n) => n > 0)) {
        log.info({ ...pruned, days: settings.config.retention.days }, 'store pruned');
        await stores.flush();
      }
    }
    scheduleMetrics.jobRuns.inc({ job: 'sweep' });
  };
  track(errorSim.resume().catch((err: unknown) => log.error({ err }, 'arming the error simulation deadlines failed')));
  track(drills.resume().catch((err: unknown) => log.error({ err }, 'resuming the drills failed')));
  // Confirmation cards expire on timers (their buttons give way to "Expired"), armed again here after a restart.
  track(o.features.promotion.resume().catch((err: unknown) => log.error({ err }, 'arming the confirmation expiries failed')));
  stops.push(() => o.features.promotion.stop());
  // Reminders and timeouts run from timers armed at their moment; the sweep below only backs them up.
  track(reminders.start().then((n) => scheduleMetrics.reminders.inc(n)).catch((err: unknown) => log.error({ err }, 'arming the reminders failed')));
  const ticker = startTicker({ clock, everyMs: SWEEP_MS, run: sweep, log, name: 'sweep', track });
  stops.push(() => ticker.stop(), () => drills.stop(), () => errorSim.stop(), () => reminders.stop());
  // GitHub deployments are mirrored by the leader; one that stops leading drops what waits (the next leader's first
  // look at the cluster syncs every deploy) and its retries.
  o.features.deployments?.start();
  stops.push(() => o.features.deployments?.stop());

  if (digest) {
    let schedule: CronSchedule;
    try {
      schedule = scheduleCron({
        expression: digest.config.cron,
        timezone: digest.config.timezone,
        name: 'digest',
        log,
        run: async (scheduledAt) => {
          await digest.job.run(scheduledAt);
          scheduleMetrics.jobRuns.inc({ job: 'digest' });
        },
      });
    } catch (err) {
      throw new StartupError(`digest.timezone: ${(err as Error).message} ("${digest.config.timezone ?? ''}"); use an IANA zone like Europe/Berlin`);
    }
    stops.push(() => schedule.stop());
  }
  return stops;
}
