import type { Catalog } from '../core/catalog.js';
import type { ClusterNotices } from '../core/clusters/cluster-notices.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/ports.js';
import type { RolloutObserver } from '../core/rollout-threads/rollout-observer.js';
import { RolloutWatcher } from '../adapters/kubernetes/rollout-watcher.js';
import type { Metrics } from '../adapters/metrics/create-metrics.js';
import type { Clients } from './build-clients.js';

/** The watch sets of every cluster, started and stopped together. */
export interface ClusterWatchers {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True once every configured namespace of every cluster has been listed at least once (and stays true). */
  isReady(): boolean;
  /** Each cluster (kubeconfig context) and whether its API server answers. */
  reachability(): Record<string, boolean>;
}

/**
 * Each cluster's Rollouts into the observer, one watch set per cluster over the namespaces of its environments: each
 * change of a rollout configured on that cluster observed (the same namespace/rollout elsewhere is not ours), each
 * configured rollout that is not listed noted, and the cluster going unreachable and back told to its channels.
 */
export function buildWatcher(o: {
  clients: Clients;
  catalog: Catalog;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  observer: RolloutObserver;
  clusterNotices: ClusterNotices;
  backoff?: { initialMs: number; maxMs: number };
  clusterWide?: boolean;
}): ClusterWatchers {
  const { catalog, metrics, observer } = o;
  const { kube } = o.clients;
  const watchers = new Map<string, RolloutWatcher>();
  for (const [name, { kubeConfig }] of kube.byName) {
    const targets = catalog.targets.filter((t) => kube.nameOf(t.env) === name);
    if (!targets.length) continue;
    // This cluster's environment of a rollout (the same namespace/name may be configured in other clusters too).
    const ours = (namespace: string, rollout: string) => targets.find((t) => t.env.namespace === namespace && catalog.rollouts(t).some((r) => r.rollout === rollout));
    const watcher = new RolloutWatcher({
      kubeConfig,
      namespaces: [...new Set(targets.map((t) => t.env.namespace))],
      clock: o.clock,
      log: o.log.child({ component: 'watch', cluster: name }),
      backoff: o.backoff,
      clusterWide: o.clusterWide,
      onRollout: (state) => {
        const target = ours(state.namespace, state.name);
        if (!target) return;
        metrics.rolloutUpdates.inc();
        void observer.observe(state, target);
      },
      onDeleted: (rollout) => {
        const target = ours(rollout.namespace, rollout.name);
        if (target) void observer.deleted(rollout, target);
      },
      onListed: (namespace, names) => {
        const present = new Set(names);
        for (const t of targets) {
          if (t.env.namespace !== namespace) continue;
          for (const r of catalog.rollouts(t)) if (!present.has(r.rollout)) void observer.missing(t, r.rollout);
        }
      },
      onRestart: (namespace) => metrics.watchRestarts.inc({ namespace }),
      onReachability: (reachable, reason) => {
        o.log[reachable ? 'info' : 'warn']({ cluster: name, reason }, reachable ? 'cluster reachable again' : 'cluster unreachable');
        void o.clusterNotices.changed({ cluster: name, reachable, reason, targets });
      },
    });
    watchers.set(name, watcher);
  }
  const all = [...watchers.values()];
  return {
    start: async () => void (await Promise.all(all.map((w) => w.start()))),
    stop: async () => void (await Promise.all(all.map((w) => w.stop()))),
    isReady: () => all.every((w) => w.isReady()),
    reachability: () => Object.fromEntries([...watchers].map(([name, w]) => [name, w.isReachable()])),
  };
}
