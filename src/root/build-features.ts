import type { Settings } from '../config/settings.js';
import type { Catalog } from '../core/catalog.js';
import { CommandService } from '../core/commands/command-service.js';
import { OutboxDispatcher, type Pacing } from '../core/delivery/outbox-dispatcher.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/ports.js';
import { cardExtras } from '../core/rollout-threads/card-extras.js';
import { errorSimBanner } from '../core/error-simulation/error-sim-banner.js';
import { renderCard } from '../core/rollout-threads/render-card.js';
import type { Priority, ThreadRecord } from '../core/store-data.js';
import { CommitTracker } from '../core/commits/commit-tracker.js';
import { DigestJob } from '../core/digest/digest-job.js';
import { DrillService } from '../core/drills/drill-service.js';
import { ErrorSimulationService } from '../core/error-simulation/error-simulation-service.js';
import { PromotionChain } from '../core/chain/promotion-chain.js';
import { PromotionService } from '../core/promotion/promotion-service.js';
import { ReminderService } from '../core/reminders/reminder-service.js';
import { RolloutObserver } from '../core/rollout-threads/rollout-observer.js';
import type { Metrics } from '../adapters/metrics/create-metrics.js';
import { createScheduleMetrics } from '../adapters/metrics/schedule-metrics.js';
import type { Clients } from './build-clients.js';
import { registerFeatureVerbs } from './register-feature-verbs.js';

/** The core services, wired to each other and to the clients. Nothing here has started. */
export type Features = ReturnType<typeof buildFeatures>;

/**
 * Builds the core: the outbox, the thread observer and the features around it (commit pairing, commands, promotion
 * and its chain, error simulation, drills, reminders, the digest), then hands each feature its verbs and its hook.
 */
export function buildFeatures(o: {
  settings: Settings;
  catalog: Catalog;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  clients: Clients;
  track: (work: Promise<unknown>) => void;
  pacing?: Partial<Pacing>;
  timeoutSweepMs?: number;
}) {
  const { settings, catalog, clock, log, metrics, track } = o;
  const { store, chat, cluster, registry, simulator } = o.clients;
  const repoHost = o.clients.github?.repoHost;
  const permalink = (c: string, ts: string) => chat.permalink(c, ts);
  const cards = (thread: ThreadRecord) =>
    renderCard(thread, catalog.target(thread.app, thread.env), cardExtras(thread, { data: store.data, catalog, permalink, banner: errorSimBanner(thread, store.data) }));

  const dispatcher = new OutboxDispatcher({ chat, store, clock, log: log.child({ component: 'outbox' }), renderCard: cards, pacing: o.pacing, metrics: metrics.delivery });
  const onChange = () => dispatcher.kick();
  const commits = new CommitTracker({ catalog, store, clock, log: log.child({ component: 'commits' }), repoHost, onChange });
  const observer = new RolloutObserver({ catalog, store, clock, log: log.child({ component: 'threads' }), onChange, countEvent: (type) => metrics.rolloutEvents.inc({ type }) });
  const reply = (thread: ThreadRecord, key: string, text: string, priority: Priority) => observer.reply(thread, key, text, priority);
  const commands = new CommandService({
    catalog,
    store,
    clock,
    permalink,
    authorOf: (thread) => {
      const c = commits.commitOf(thread);
      return c ? (c.authorLogin ? `${c.authorName} (@${c.authorLogin})` : c.authorName) : undefined;
    },
  });

  // Promotion, abort and retry: checked against the cluster and ECR, confirmed in the thread.
  const chain = new PromotionChain({
    catalog,
    store,
    clock,
    log: log.child({ component: 'chain' }),
    registry,
    repoHost,
    observer,
    onChange,
    permalink,
    sweepMs: o.timeoutSweepMs,
    onSweep: () => metrics.timeoutChecks.inc(),
  });
  const promotion = new PromotionService({
    chain,
    catalog,
    store,
    clock,
    log: log.child({ component: 'promotion' }),
    cluster,
    registry,
    observer,
    onChange,
    permalink,
    ephemeral: (e) => chat.postEphemeral(e).catch((err: unknown) => log.warn({ err }, 'ephemeral message failed')),
  });

  // Error simulation, drills, reminders, digest (issue 6).
  const scheduleMetrics = createScheduleMetrics(metrics.registry);
  const errorSim = new ErrorSimulationService({ catalog, store, clock, log: log.child({ component: 'errorsim' }), simulator, reply, onChange, permalink, track });
  const drills = new DrillService({ catalog, store, clock, log: log.child({ component: 'drills' }), cluster, errors: errorSim, reply, onChange, permalink, track });
  const reminders = new ReminderService({ catalog, store, clock, afterMs: settings.config.reminders.after, reply, onChange });
  const digestConfig = settings.config.digest;
  const digest = digestConfig ? { config: digestConfig, job: new DigestJob({ catalog, store, clock, channel: digestConfig.channel, permalink, onChange }) } : undefined;

  registerFeatureVerbs(commands, { promotion, errorSim, drills, countDrill: () => scheduleMetrics.drills.inc() });
  observer.setHooks([
    ({ thread, target }) => void commits.pair(thread, target),
    (change) => chain.onThreadChanged(change),
    (change) => drills.onThreadChanged(change),
  ]);
  return { dispatcher, observer, commits, commands, chain, promotion, errorSim, drills, reminders, digest, scheduleMetrics };
}
