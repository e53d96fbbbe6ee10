import type { RolloutState } from '../rollout/rollout-state.js';
import type { RolloutEvent } from './rollout-event.js';

/**
 * How an open thread's revision ended, now that `next` shows a newer revision of the rollout. States only what was seen
 * or what `next` proves: Argo keeps `status.stableRS` on the last revision that became stable until the new one does,
 * so `stableRS` equal to the old revision's pod hash proves it completed, whether or not anyone saw it. Otherwise a
 * revision watched up to now was replaced before it finished; one not watched (`watched` false: the bot was offline
 * since it last saw it) ended in a way nobody here saw, and is said to have.
 */
export function detectRevisionEnd(o: { revision: string; podHash: string | undefined; next: RolloutState; watched: boolean }): Extract<RolloutEvent, { type: 'replaced' }> {
  const ended = o.podHash !== undefined && o.next.stableRS === o.podHash ? 'completed' : o.watched ? 'superseded' : 'unknown';
  return { type: 'replaced', key: `replaced:r${o.next.revision}`, revision: o.revision, by: o.next.revision, ended, offline: !o.watched };
}
