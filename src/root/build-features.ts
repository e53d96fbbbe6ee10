import type { Settings } from '../config/settings.js';
import type { Catalog } from '../core/catalog.js';
import { CommandService } from '../core/commands/command-service.js';
import { OutboxDispatcher, type Pacing } from '../core/delivery/outbox-dispatcher.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/ports.js';
import { createCardRenderer } from '../core/rollout-threads/create-card-renderer.js';
import { readErrorSimBanner } from '../core/error-simulation/read-error-sim-banner.js';
import { ThreadKernel } from '../core/threads/thread-kernel.js';
import { leaderChat } from './leader-chat.js';
import { CommitTracker } from '../core/commits/commit-tracker.js';
import { DigestJob } from '../core/digest/digest-job.js';
import { DrillService } from '../core/drills/drill-service.js';
import { ErrorSimulationService } from '../core/error-simulation/error-simulation-service.js';
import { PromotionChain } from '../core/chain/promotion-chain.js';
import { PromotionService } from '../core/promotion/promotion-service.js';
import { OutsideActions } from '../core/promotion/outside-actions.js';
import { ConfirmationCards } from '../core/promotion/confirmation-cards.js';
import { ReminderService } from '../core/reminders/reminder-service.js';
import { RolloutObserver } from '../core/rollout-threads/rollout-observer.js';
import { ClusterNotices } from '../core/clusters/cluster-notices.js';
import { DeploymentService } from '../core/deployments/deployment-service.js';
import type { Metrics } from '../adapters/metrics/create-metrics.js';
import { createScheduleMetrics } from '../adapters/metrics/schedule-metrics.js';
import type { Clients } from './build-clients.js';
import { ReportService } from '../core/reports/report-service.js';
import { registerFeatureVerbs } from './register-feature-verbs.js';
import { LockService } from '../core/locks/lock-service.js';
import { createCronFreezeCalendar } from '../adapters/scheduler/cron-freeze-calendar.js';

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
  const { stores, leaderStores, chat, cluster, registry, simulator } = o.clients;
  const repoHost = o.clients.github?.repoHost;
  const permalink = (c: string, ts: string) => chat.permalink(c, ts);
  const cards = createCardRenderer({ stores, catalog, permalink, banner: (thread) => readErrorSimBanner(stores, thread), lock: (thread) => locks.cardLine(thread) });

  // Delivery and the watches' observer are leader-only: their changes go through the lease (fenced with PostgreSQL).
  const dispatcher = new OutboxDispatcher({ chat: leaderChat(chat, () => o.clients.store.leadership.surelyLeading()), stores: leaderStores, clock, log: log.child({ component: 'outbox' }), renderCard: cards, pacing: o.pacing, metrics: metrics.delivery });
  const onChange = () => dispatcher.kick();
  const kernel = new ThreadKernel({ stores, clock, onChange });
  // Locks and freezes (issue 17): promotions and chain dispatches ask them; the card and /rollout status show them.
  const locks = new LockService({ stores, kernel, clock, calendar: createCronFreezeCalendar() });
  const commits = new CommitTracker({ catalog, stores, clock, log: log.child({ component: 'commits' }), repoHost, onChange });
  const leaderKernel = leaderStores === stores ? kernel : new ThreadKernel({ stores: leaderStores, clock, onChange });
  const observer = new RolloutObserver({ catalog, stores: leaderStores, kernel: leaderKernel, clock, log: log.child({ component: 'threads' }), countEvent: (type) => metrics.rolloutEvents.inc({ type }), cluster });
  const commands = new CommandService({
    catalog,
    stores,
    holdLine: (t) => locks.statusLine(t),
    clock,
    permalink,
    authorOf: async (thread) => {
      const c = await commits.commitOf(thread);
      return c ? (c.authorLogin ? `${c.authorName} (@${c.authorLogin})` : c.authorName) : undefined;
    },
  });

  // Promotion, abort and retry: checked against the cluster and ECR, confirmed in the thread. One set of live
  // confirmation cards (one expiry timer per request) for promotions and the chain's deploy offers.
  const confirmationCards = new ConfirmationCards({ stores, kernel, clock, log: log.child({ component: 'promotion' }) });
  const chain = new PromotionChain({
    cards: confirmationCards,
    catalog,
    stores,
    kernel,
    clock,
    log: log.child({ component: 'chain' }),
    registry,
    locks,
    repoHost,
    permalink,
    sweepMs: o.timeoutSweepMs,
    onSweep: () => metrics.timeoutChecks.inc(),
    // The report of a tag's whole way through the chain, in its last environment's thread.
    onChainEnd: (x) => reports.chainEnded(x),
  });
  const promotion = new PromotionService({
    deployOffers: chain,
    cards: confirmationCards,
    catalog,
    stores,
    kernel,
    clock,
    log: log.child({ component: 'promotion' }),
    cluster,
    registry,
    locks,
    permalink,
    ephemeral: (e) => chat.postEphemeral(e).catch((err: unknown) => log.warn({ err }, 'ephemeral message failed')),
  });

  // Error simulation, drills, reminders, digest (issue 6).
  const scheduleMetrics = createScheduleMetrics(metrics.registry);
  const errorSim = new ErrorSimulationService({ catalog, stores, kernel, clock, log: log.child({ component: 'errorsim' }), simulator, onChange, permalink, track });
  const drills = new DrillService({ catalog, stores, kernel, clock, log: log.child({ component: 'drills' }), cluster, errors: errorSim, permalink, track });
  // Reminders run only on the leader (from the watch's hook and the leader's sweep): fenced like the observer.
  const reminders = new ReminderService({ catalog, stores: leaderStores, kernel: leaderKernel, clock, afterMs: settings.config.reminders.after, log: log.child({ component: 'reminders' }) });
  const digestConfig = settings.config.digest;
  const digest = digestConfig ? { config: digestConfig, job: new DigestJob({ catalog, stores, clock, channel: digestConfig.channel, permalink, onChange }) } : undefined;

  // GitHub deployments and commit statuses (issue 18): only with the GitHub App configured.
  const deployments = repoHost ? new DeploymentService({ catalog, stores, repoHost, clock, log: log.child({ component: 'deployments' }), permalink, track }) : undefined;

  // Changes made with kubectl, the Argo dashboard or Argo CD show in the thread (issue 13).
  const outside = new OutsideActions({ stores, kernel, clock, cards: promotion.cards });
  const reports = new ReportService({ kernel, clock, permalink, stores, catalog });
  registerFeatureVerbs(commands, { promotion, errorSim, drills, locks, reports, countDrill: () => scheduleMetrics.drills.inc() });
  observer.setHooks([
    ({ thread, target }) => commits.pair(thread, target).then(() => undefined),
    (change) => chain.onThreadChanged(change),
    (change) => drills.onThreadChanged(change),
    (change) => outside.onThreadChanged(change),
    (change) => reminders.onThreadChanged(change),
    (change) => deployments?.onThreadChanged(change),
  ]);
  const clusterNotices = new ClusterNotices({ kernel, clock, stores });
  return { dispatcher, kernel, observer, clusterNotices, commits, commands, chain, promotion, errorSim, drills, reminders, digest, scheduleMetrics, deployments, locks };
}
