import type { Catalog, EnvTarget } from '../catalog.js';
import { formatDuration } from '../text/duration.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { ThreadRecord } from '../store-data.js';
import { relativeTime } from '../text/relative-time.js';
import { describePhase } from '../rollout/describe-state.js';

/** Whether a tag completed in the environment before this one, and in words where it stands there. */
export interface Proof {
  ok: boolean;
  text: string;
  /** Thread key of the previous environment's deploy of the tag, if any. */
  threadKey?: string;
}

/**
 * Promote what is proven: the same tag must have completed in the previous environment of the app's order.
 * The first environment needs no proof. `threads` are the app's threads of the tag (others are ignored), `baseline` the
 * previous environment's state seen at start-up (pure).
 */
export function describeProof(o: { target: EnvTarget; tag: string; threads: ThreadRecord[]; baseline?: RolloutState; catalog: Catalog; now: number }): Proof {
  const prev = o.catalog.previous(o.target);
  if (!prev) return { ok: true, text: `${o.target.env.name} is the first environment of ${o.target.app.name}: no earlier proof needed` };
  const threads = o.threads
    .filter((t) => t.app === prev.app.name && t.env === prev.env.name && t.tag === o.tag)
    .sort((a, b) => b.startedAt - a.startedAt);
  const done = threads.find((t) => t.outcome === 'completed');
  if (done) {
    const took = done.finishedAt !== undefined ? ` in ${formatDuration(done.finishedAt - done.startedAt)}` : '';
    return { ok: true, text: `completed in ${prev.env.name}${took}, ${relativeTime(done.finishedAt ?? done.startedAt, o.now)}`, threadKey: done.key };
  }
  // A settled rollout seen at start-up running this tag counts as proven too.
  const baseline = o.baseline;
  if (baseline && baseline.fullyPromoted && baseline.images.some((i) => i.tag === o.tag)) return { ok: true, text: `stable in ${prev.env.name}` };
  const latest = threads[0];
  if (!latest) return { ok: false, text: `tag \`${o.tag}\` has not been deployed to ${prev.env.name}` };
  if (latest.outcome === 'aborted') return { ok: false, text: `tag \`${o.tag}\` was aborted in ${prev.env.name}`, threadKey: latest.key };
  return { ok: false, text: `tag \`${o.tag}\` has not completed in ${prev.env.name} yet (${latest.lastState ? describePhase(latest.lastState) : 'in progress'})`, threadKey: latest.key };
}
