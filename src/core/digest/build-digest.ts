import type { Catalog } from '../catalog.js';
import type { ChatContent } from '../ports.js';
import type { CommitRecord, EnvRecord, ThreadRecord } from '../store-data.js';
import { describeProgress, primaryTag, waitsForPromotion } from '../rollout/describe-state.js';
import { esc, link, section } from '../text/mrkdwn.js';
import { relativeTime } from '../text/relative-time.js';

/** What the digest shows of one environment, as read from the store (readDigestFacts). */
export interface DigestEnvFacts {
  env: EnvRecord;
  /** The environment's current thread. */
  thread?: ThreadRecord;
  /** That thread's commit, when stored. */
  commit?: CommitRecord;
  /** Errors are switched on through the bot. */
  errorsOn: boolean;
}

/**
 * The daily digest: for each app, each environment in promotion order with its current tag, the commit's author, how
 * long ago it was deployed, and its state. Pure: everything comes from `facts` (by `<app>/<env>`) and the config.
 */
export function buildDigest(o: { catalog: Catalog; facts: Record<string, DigestEnvFacts>; now: number; permalink: (channel: string, ts: string) => string }): ChatContent {
  const { catalog, facts, now } = o;
  const day = new Date(now).toISOString().slice(0, 10);
  const header = `📋 *Deploy digest* · ${day}`;
  const sections: string[] = [];
  for (const app of catalog.config.apps) {
    const lines = [`*${esc(app.name)}*`];
    for (const env of app.environments) {
      const key = `${app.name}/${env.name}`;
      const f = facts[key];
      const rec = f?.env;
      lines.push(`• ${envLine({ env: env.name, thread: f?.thread, commit: f?.commit, now, permalink: o.permalink, baselineTag: rec?.baseline ? primaryTag(rec.baseline) : undefined, missing: rec?.missingNoticed ?? false, errorsOn: f?.errorsOn ?? false })}`);
    }
    sections.push(lines.join('\n'));
  }
  return { text: [header, ...sections].join('\n'), blocks: [section(header), ...sections.map((s) => section(s))] };
}

function envLine(o: { env: string; thread?: ThreadRecord; commit?: CommitRecord; now: number; permalink: (c: string, ts: string) => string; baselineTag?: string; missing: boolean; errorsOn: boolean }): string {
  const name = `*${esc(o.env)}*`;
  const errors = o.errorsOn ? ' · 🧪 errors on' : '';
  const t = o.thread;
  if (!t) {
    if (o.missing) return `${name} · ⚠️ rollout not found${errors}`;
    if (o.baselineTag) return `${name} · \`${esc(o.baselineTag)}\` · author unknown · deployed before I watched · ✅ stable${errors}`;
    return `${name} · not seen yet${errors}`;
  }
  const tag = t.tag ?? (t.lastState ? primaryTag(t.lastState) : undefined);
  const commit = t.commitSha ? o.commit : undefined;
  const author = commit ? (commit.authorLogin ? `${esc(commit.authorName)} (@${esc(commit.authorLogin)})` : esc(commit.authorName)) : 'author unknown';
  const age = relativeTime(t.startedAt, o.now);
  const label = tag ? `\`${esc(tag)}\`` : `revision ${esc(t.revision)}`;
  const state = stateOf(t);
  const thread = t.rootTs ? ` · ${link(o.permalink(t.channel, t.rootTs), 'thread')}` : '';
  return `${name} · ${label} · ${author} · ${age} · ${state}${errors}${thread}`;
}

function stateOf(t: ThreadRecord): string {
  if (t.outcome === 'completed') return '✅ completed';
  if (t.outcome === 'aborted') return `🛑 aborted${t.lastState?.abortReason ? `: ${esc(t.lastState.abortReason)}` : ''}`;
  if (t.outcome === 'superseded') return '⏭ superseded';
  const s = t.lastState;
  if (!s) return '🔄 starting';
  if (waitsForPromotion(s)) return '⏸ waiting for promotion';
  const progress = describeProgress(s);
  return `🔄 in progress${progress ? ` (${esc(progress)})` : ''}`;
}
