import type { RolloutCluster, RolloutPatch } from '../../core/ports.js';
import type { AnalysisRun } from '../../core/rollout/analysis-run.js';
import type { RolloutState } from '../../core/rollout/rollout-state.js';

/**
 * The core's one `RolloutCluster`, over one per kubeconfig context: a rollout's reads, patches and AnalysisRuns go to
 * the cluster its environment names (the caller passes the environment's `cluster`; absent: the default context).
 */
export class ClusterRouter implements RolloutCluster {
  constructor(
    private readonly o: {
      clusters: ReadonlyMap<string, RolloutCluster>;
      defaultName: string;
      /** The cluster name of an environment. */
      clusterOf: (env: { cluster?: string }) => string;
    },
  ) {}

  get(namespace: string, name: string, cluster?: string): Promise<RolloutState | undefined> {
    return this.in(cluster).get(namespace, name);
  }

  patch(namespace: string, name: string, patch: RolloutPatch, cluster?: string): Promise<void> {
    return this.in(cluster).patch(namespace, name, patch);
  }

  analysisRun(namespace: string, name: string, cluster?: string): Promise<AnalysisRun | undefined> {
    return this.in(cluster).analysisRun(namespace, name);
  }

  /** The client of an environment's `cluster` (absent: the default context). */
  private in(cluster: string | undefined): RolloutCluster {
    return this.byName(this.o.clusterOf({ cluster }));
  }

  private byName(name: string): RolloutCluster {
    const cluster = this.o.clusters.get(name);
    if (!cluster) throw new Error(`no client for cluster ${name}`);
    return cluster;
  }
}
