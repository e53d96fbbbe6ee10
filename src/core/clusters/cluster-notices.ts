import type { EnvTarget } from '../catalog.js';
import type { Clock } from '../ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import { renderClusterNotice } from './render-cluster-notice.js';

/**
 * Tells the channels of a cluster's environments when that cluster stops answering, and once more when it is back:
 * one notice per channel per change (environments sharing a channel are named in one message). A cluster counts as
 * reachable until it is reported otherwise, so a healthy start says nothing.
 */
export class ClusterNotices {
  private readonly down = new Set<string>();

  constructor(private readonly deps: { kernel: ThreadKernel; clock: Clock }) {}

  /** The cluster's watches failed without an answer (`reachable: false`) or listed again (`true`). */
  async changed(o: { cluster: string; reachable: boolean; reason?: string; targets: readonly EnvTarget[] }): Promise<void> {
    // Decided before any await, so two quick reports of the same change send one notice.
    if (o.reachable !== this.down.has(o.cluster)) return;
    if (o.reachable) this.down.delete(o.cluster);
    else this.down.add(o.cluster);
    const byChannel = new Map<string, EnvTarget[]>();
    for (const t of o.targets) byChannel.set(t.env.slackChannel, [...(byChannel.get(t.env.slackChannel) ?? []), t]);
    const key = `cluster/${o.cluster}/${o.reachable ? 'back' : 'down'}/${this.deps.clock.now()}`;
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
