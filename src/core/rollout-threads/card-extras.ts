import type { Catalog } from '../catalog.js';
import { formatDuration } from '../text/duration.js';
import type { CommitRecord, ThreadRecord } from '../store-data.js';
import type { CardExtras } from './render-card.js';
import { waitsForPromotion } from '../rollout/describe-state.js';
import { esc, link } from '../text/mrkdwn.js';

/** What the card of a thread shows besides the thread itself, read from the store by the card renderer. */
export interface CardInputs {
  /** The thread's commit (`commitSha`), when stored. */
  commit?: CommitRecord;
  /** The app's threads carrying the thread's tag, in any environment (the journey line). */
  tagThreads: ThreadRecord[];
  catalog: Catalog;
  permalink: (channel: string, ts: string) => string;
  banner?: string;
  /** The environment's lock, as the card shows it (`🔒 Locked by … since …: reason`). */
  lock?: string;
}

/**
 * What a card shows beyond the rollout itself: the commit (short sha linked, message, author) and the tag's journey
 * through the app's environments (`dev ✓ 1m54s → qa 🔄 → staging ⏸ waiting for promotion`), each linked to its thread.
 */
export function cardExtras(thread: ThreadRecord, o: CardInputs): CardExtras {
  const extras: CardExtras = { lines: [] };
  if (o.banner) extras.banner = o.banner;
  if (o.lock) extras.lines!.push(o.lock);
  const commit = thread.commitSha ? o.commit : undefined;
  if (commit) {
    const who = commit.authorLogin ? `${esc(commit.authorName)} (@${esc(commit.authorLogin)})` : esc(commit.authorName);
    extras.commit = `${link(commit.url, commit.sha.slice(0, 7))} ${esc(truncate(commit.message, 80))}\nby ${who}`;
  }
  const chain = chainLine(thread, o);
  if (chain) extras.lines!.push(chain);
  return extras;
}

/** The same tag's threads across the app's environments, in promotion order (`tagThreads`: the app's threads of the tag). */
export function tagJourney(thread: ThreadRecord, tagThreads: ThreadRecord[], catalog: Catalog): Array<{ env: string; thread?: ThreadRecord }> {
  const app = catalog.app(thread.app);
  if (!app || !thread.tag) return [];
  return app.environments.map((env) => {
    const candidates = tagThreads.filter((t) => t.app === thread.app && t.env === env.name && t.tag === thread.tag);
    candidates.sort((a, b) => b.startedAt - a.startedAt);
    return { env: env.name, thread: candidates[0] };
  });
}

function chainLine(thread: ThreadRecord, o: CardInputs): string | undefined {
  const journey = tagJourney(thread, o.tagThreads, o.catalog);
  if (journey.filter((j) => j.thread).length < 2 && journey.length < 2) return undefined;
  if (!journey.some((j) => j.thread && j.thread.key !== thread.key)) return undefined;
  const parts = journey.map(({ env, thread: t }) => {
    if (!t) return `${esc(env)} ·`;
    const label = `${env} ${status(t)}`;
    return t.rootTs && t.key !== thread.key ? link(o.permalink(t.channel, t.rootTs), label) : `*${esc(label)}*`;
  });
  return `Journey of this tag: ${parts.join(' → ')}`;
}

function status(t: ThreadRecord): string {
  if (t.outcome === 'completed') return `✓ ${formatDuration((t.finishedAt ?? t.startedAt) - t.startedAt)}`;
  if (t.outcome === 'aborted') return '🛑 aborted';
  if (t.outcome === 'superseded') return '⏭ superseded';
  if (t.lastState && waitsForPromotion(t.lastState)) return '⏸ waiting for promotion';
  return '🔄 in progress';
}

function truncate(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}
