import type { Catalog } from '../core/catalog.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/ports.js';
import type { RolloutObserver } from '../core/rollout-threads/rollout-observer.js';
import { RolloutWatcher } from '../adapters/kubernetes/rollout-watcher.js';
import type { Metrics } from '../adapters/metrics/create-metrics.js';
import type { Clients } from './build-clients.js';

/** The cluster's Rollouts into the observer: each change observed, each configured rollout that is not listed noted. */
export function buildWatcher(o: {
  clients: Clients;
  catalog: Catalog;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  observer: RolloutObserver;
  backoff?: { initialMs: number; maxMs: number };
  clusterWide?: boolean;
}): RolloutWatcher {
  const { catalog, metrics, observer } = o;
  return new RolloutWatcher({
    kubeConfig: o.clients.kubeConfig,
    namespaces: catalog.namespaces(),
    clock: o.clock,
    log: o.log.child({ component: 'watch' }),
    backoff: o.backoff,
    clusterWide: o.clusterWide,
    onRollout: (state) => {
      metrics.rolloutUpdates.inc();
      void observer.observe(state);
    },
    onDeleted: (rollout) => void observer.deleted(rollout),
    onListed: (namespace, names) => {
      const present = new Set(names);
      for (const t of catalog.targets) if (t.env.namespace === namespace && !present.has(t.env.rollout)) void observer.missing(t);
    },
    onRestart: (namespace) => metrics.watchRestarts.inc({ namespace }),
  });
}
