import type { EnvTarget } from '../catalog.js';
import type { Clock } from '../ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import type { Stores } from '../store-ports.js';
import { renderClusterNotice } from './render-cluster-notice.js';

/**
 * Tells the channels of a cluster's environments when that cluster stops answering, and once more when it is back:
 * one notice per channel per change (environments sharing a channel are named in one message). A cluster counts as
 * reachable until it is reported otherwise, so a healthy start says nothing; one told down stays so in the store, so a
 * restart (or a new leader) that finds it still down says nothing again, and tells when it is back.
 */
export class ClusterNotices {
  private readonly down = new Set<string>();
  /** The clusters told down before (a restart, or a new leader): loaded once, before the first decision. */
  private loaded: Promise<void> | undefined;

  constructor(private readonly deps: { kernel: ThreadKernel; clock: Clock; stores: Pick<Stores, 'clustersDown'> }) {}

  /** The cluster's watches failed without an answer (`reachable: false`) or listed again (`true`). */
  async changed(o: { cluster: string; reachable: boolean; reason?: string; targets: readonly EnvTarget[] }): Promise<void> {
    this.loaded ??= this.deps.stores.clustersDown.all().then(
      (all) => {
        for (const [name] of all) this.down.add(name);
      },
      (err: unknown) => {
        this.loaded = undefined;
        throw err;
      },
    );
    await this.loaded;
    // Decided before any further await, so two quick reports of the same change send one notice.
    if (o.reachable !== this.down.has(o.cluster)) return;
    if (o.reachable) this.down.delete(o.cluster);
    else this.down.add(o.cluster);
    const now = this.deps.clock.now();
    if (o.reachable) await this.deps.stores.clustersDown.delete(o.cluster);
    else await this.deps.stores.clustersDown.set(o.cluster, { since: now, ...(o.reason ? { reason: o.reason } : {}) });
    const byChannel = new Map<string, EnvTarget[]>();
    for (const t of o.targets) byChannel.set(t.env.slackChannel, [...(byChannel.get(t.env.slackChannel) ?? []), t]);
    const key = `cluster/${o.cluster}/${o.reachable ? 'back' : 'down'}/${now}`;
    for (const targets of byChannel.values()) {
      await this.deps.kernel.notice(targets[0]!, key, renderClusterNotice({ ...o, targets }), 'high');
    }
    await this.deps.kernel.commit();
  }

  /** True while the cluster is reported unreachable. */
  isDown(cluster: string): boolean {
    return this.down.has(cluster);
  }
}
