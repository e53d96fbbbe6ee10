import type { EnvTarget } from '../catalog.js';

/** What a channel reads when the cluster its environments run in stops answering, or answers again. */
export function renderClusterNotice(o: { cluster: string; reachable: boolean; reason?: string; targets: readonly EnvTarget[] }): string {
  const envs = o.targets.map((t) => `${t.app.name} · ${t.env.name}`).join(', ');
  if (o.reachable) return `✅ Cluster \`${o.cluster}\` answers again: I am watching ${envs} again and will catch up on what changed.`;
  const why = o.reason ? ` (${o.reason})` : '';
  return (
    `⚠️ Cluster \`${o.cluster}\` is unreachable${why}: I cannot see ${envs} or promote there until it answers again. ` +
    'Other clusters keep working. Check the network to its API server and its context in KUBECONFIG.'
  );
}
