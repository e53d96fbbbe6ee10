import type { Catalog } from '../../core/catalog.js';
import type { RolloutCluster, RolloutPatch } from '../../core/ports.js';
import type { AnalysisRun } from '../../core/rollout/analysis-run.js';
import type { RolloutState } from '../../core/rollout/rollout-state.js';

/**
 * The core's one `RolloutCluster`, over one per kubeconfig context: a rollout's reads and patches go to the cluster its
 * environment names (the config allows each namespace/rollout once, so the pair says which environment it is). A
 * rollout no environment names goes to the default cluster.
 */
export class ClusterRouter implements RolloutCluster {
  constructor(
    private readonly o: {
      clusters: ReadonlyMap<string, RolloutCluster>;
      defaultName: string;
      catalog: Catalog;
      /** The cluster name of an environment. */
      clusterOf: (env: { cluster?: string }) => string;
    },
  ) {}

  get(namespace: string, name: string): Promise<RolloutState | undefined> {
    return this.forRollout(namespace, name).get(namespace, name);
  }

  patch(namespace: string, name: string, patch: RolloutPatch): Promise<void> {
    return this.forRollout(namespace, name).patch(namespace, name, patch);
  }

  /**
   * An AnalysisRun is named after its rollout, not configured: asked of each cluster whose environments use the
   * namespace, in config order, the first that has it answers.
   */
  async analysisRun(namespace: string, name: string): Promise<AnalysisRun | undefined> {
    const names = [...new Set(this.o.catalog.targets.filter((t) => t.env.namespace === namespace).map((t) => this.o.clusterOf(t.env)))];
    for (const cluster of names.length ? names : [this.o.defaultName]) {
      const run = await this.byName(cluster).analysisRun(namespace, name);
      if (run) return run;
    }
    return undefined;
  }

  private forRollout(namespace: string, name: string): RolloutCluster {
    const target = this.o.catalog.forRollout(namespace, name);
    return this.byName(target ? this.o.clusterOf(target.env) : this.o.defaultName);
  }

  private byName(name: string): RolloutCluster {
    const cluster = this.o.clusters.get(name);
    if (!cluster) throw new Error(`no client for cluster ${name}`);
    return cluster;
  }
}
