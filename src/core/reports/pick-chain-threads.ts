import type { EnvTarget } from '../catalog.js';
import type { ThreadRecord } from '../store-data.js';

/**
 * The deploys a chain report is made of: for the last environment of an app's chain, each environment's latest
 * completed deploy of `tag`, in chain order. Empty when `target` is not the chain's last environment or fewer than two
 * environments completed the tag (one environment's deploy has its own report).
 */
export function pickChainThreads(o: { target: EnvTarget; isLast: boolean; tag: string; threads: ThreadRecord[] }): ThreadRecord[] {
  if (!o.isLast) return [];
  const picked = o.target.app.environments
    .map((env) => o.threads.filter((t) => t.env === env.name && t.tag === o.tag && t.outcome === 'completed').sort((a, b) => b.startedAt - a.startedAt)[0])
    .filter((t): t is ThreadRecord => t !== undefined);
  return picked.length < 2 ? [] : picked;
}
