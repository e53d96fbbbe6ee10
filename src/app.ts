import type { ProbotOctokit } from 'probot';
import type { Settings } from './config/settings.js';
import { Catalog } from './core/catalog.js';
import type { Pacing } from './core/delivery/outbox-dispatcher.js';
import type { Logger } from './core/logger.js';
import type { Clock } from './core/ports.js';
import { createLogger } from './adapters/logging/create-logger.js';
import { createMetrics } from './adapters/metrics/create-metrics.js';
import { systemClock } from './adapters/scheduler/system-clock.js';
import { createBackgroundWork } from './root/background-work.js';
import { buildClients } from './root/build-clients.js';
import { buildFeatures } from './root/build-features.js';
import { buildServer } from './root/build-server.js';
import { buildWatcher } from './root/build-watcher.js';
import { startPeriodicJobs } from './root/periodic-jobs.js';

export { StartupError } from './root/startup-error.js';

/** What tests and main may override: time, pacing, the logger, watch backoff. */
export interface AppOverrides {
  clock?: Clock;
  pacing?: Partial<Pacing>;
  log?: Logger;
  watchBackoff?: { initialMs: number; maxMs: number };
  /** The leader lease's duration and renewal period (PostgreSQL mode). */
  lease?: { ttlMs?: number; everyMs?: number };
  /** One cluster-wide watch instead of one per namespace (default: when more than 20 namespaces are configured). */
  clusterWideWatch?: boolean;
  /** How often deploy timeouts are checked (default 15 s). */
  timeoutSweepMs?: number;
  /** Probot's Octokit class (tests turn its throttling off: they talk to a loopback GitHub). */
  githubOctokit?: typeof ProbotOctokit;
}

/** A running bot. */
export interface RunningApp {
  /** `http://host:port` of the one HTTP server. */
  url: string;
  port: number;
  /** Stops taking new work, finishes what is in flight, flushes the store. */
  close(): Promise<void>;
  /** True when nothing is waiting to be posted or updated and no background work (webhook follow-ups, GitHub syncs) runs. */
  isIdle(): Promise<boolean>;
}

/**
 * The composition root: builds the clients from settings, the core features over them, their timers and the one
 * HTTP server, then starts delivering and watching. Only this file, src/root/ and main.ts create SDK clients.
 */
export async function startApp(settings: Settings, overrides: AppOverrides = {}): Promise<RunningApp> {
  const clock = overrides.clock ?? systemClock;
  const log = overrides.log ?? createLogger(settings.logLevel);
  const catalog = new Catalog(settings.config);
  const metrics = createMetrics();
  const background = createBackgroundWork();
  const track = (work: Promise<unknown>) => background.track(work);

  const clients = await buildClients({
    settings,
    catalog,
    clock,
    log,
    githubOctokit: overrides.githubOctokit,
    lease: overrides.lease,
    onLeaderChange: ({ leader, epoch }) => {
      metrics.leader.set(leader ? 1 : 0);
      if (leader) metrics.leaderEpoch.set(epoch);
    },
  });
  const features = buildFeatures({ settings, catalog, clock, log, metrics, clients, track, pacing: overrides.pacing, timeoutSweepMs: overrides.timeoutSweepMs });
  const watcher = buildWatcher({ clients, catalog, clock, log, metrics, observer: features.observer, clusterNotices: features.clusterNotices, backoff: overrides.watchBackoff, clusterWide: overrides.clusterWideWatch });

  let draining = false;
  let storeOpen = true;
  const leadership = clients.store.leadership;
  const server = await buildServer({ settings, catalog, clock, log, metrics, clients, features, watcher, track, draining: () => draining, storeOpen: () => storeOpen, leading: () => leadership.isLeader() });
  log.info({ port: server.port, host: settings.host, namespaces: catalog.namespaces() }, 'rollout-chatops listening');

  // The leader (with the embedded store, this one replica, from the start) watches, delivers and runs the timers and
  // cron; with PostgreSQL another replica takes over when it stops renewing its lease.
  /** Things to stop on stepping down or shutdown (schedules, timers), run before the store's last flush. */
  let stops: Array<() => Promise<void> | void> = [];
  leadership.start({
    lead: () => {
      if (draining) return;
      if (clients.store.kind === 'embedded') metrics.leader.set(1);
      // Messages left in the outbox by a previous run go out first (attempted ones are looked up in Slack before posting).
      features.dispatcher.resume();
      void watcher.start();
      stops = startPeriodicJobs({ settings, clock, log, stores: clients.leaderStores, features, track });
    },
    stepDown: async () => {
      await watcher.stop();
      for (const stop of stops) await stop();
      stops = [];
      await features.dispatcher.stop();
    },
  });

  return {
    url: `http://${settings.host === '0.0.0.0' ? '127.0.0.1' : settings.host}:${server.port}`,
    port: server.port,
    isIdle: async () => background.idle() && (await features.dispatcher.isIdle()),
    async close() {
      if (draining) return;
      draining = true;
      await watcher.stop();
      // GitHub mirrors waiting for GitHub's pace are dropped, not awaited (the next start syncs every deploy again).
      features.deployments?.stop();
      await background.settled();
      // Stops the leader-only work (its timers and schedules) and hands the lease over.
      await leadership.stop();
      await features.observer.stop();
      await features.dispatcher.stop();
      // No new requests; those in flight finish against the open store.
      await server.close();
      await clients.store.close();
      storeOpen = false;
      log.info({}, 'rollout-chatops stopped');
    },
  };
}
