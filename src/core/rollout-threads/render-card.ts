import type { EnvTarget } from '../catalog.js';
import type { ChatContent } from '../ports.js';
import type { ThreadRecord } from '../store-data.js';
import { context, esc, link, section, who } from '../text/mrkdwn.js';
import { describePhase, describeProgress, phaseEmoji, primaryTag, waitsForPromotion } from '../rollout/describe-state.js';

/** Extra lines other features add to a card (commit, promotion chain, error-simulation banner). */
export interface CardExtras {
  /** e.g. "`ea11a24` Fix the vote button — Ada Lovelace" (already mrkdwn). */
  commit?: string;
  /** Lines shown under the facts, already mrkdwn. */
  lines?: string[];
  /** A banner shown on top (e.g. errors on). */
  banner?: string;
}

/**
 * The thread's root message: one status card kept current in place. Everything on it comes from the thread record,
 * so re-rendering after a restart gives the same card.
 */
export function renderCard(thread: ThreadRecord, target: EnvTarget | undefined, extras: CardExtras = {}): ChatContent {
  const state = thread.lastState;
  const title = `${thread.app} · ${thread.env} · revision ${thread.revision}`;
  const tag = thread.tag ?? (state ? primaryTag(state) : undefined);
  const blocks: unknown[] = [];
  if (extras.banner) blocks.push(section(extras.banner));
  const emoji = state ? phaseEmoji(state) : '🔄';
  const headline = state ? headlineFor(state) : 'Deploy started';
  blocks.push(section(`${emoji} *${esc(title)}*\n${headline}`));

  const fields: string[] = [];
  if (tag) fields.push(`*Image tag*\n\`${esc(tag)}\``);
  if (state) fields.push(`*Phase*\n${esc(describePhase(state))}`);
  const progress = state ? describeProgress(state) : undefined;
  if (progress) fields.push(`*Canary*\n${esc(progress)}`);
  if (state?.strategy === 'blueGreen') {
    const bg = state.blueGreen;
    const preview = target?.env.previewUrl ? link(target.env.previewUrl, 'preview') : 'preview';
    const active = target?.env.activeUrl ? link(target.env.activeUrl, 'active') : 'active';
    fields.push(`*Blue-green*\n${preview}: \`${bg?.previewSelector ?? '–'}\` · ${active}: \`${bg?.activeSelector ?? '–'}\``);
  }
  fields.push(`*Rollout*\n\`${esc(thread.namespace)}/${esc(thread.rollout)}\``);
  if (extras.commit) fields.push(`*Commit*\n${extras.commit}`);
  blocks.push({ type: 'section', fields: fields.slice(0, 10).map((text) => ({ type: 'mrkdwn', text })) });

  const notes: string[] = [];
  if (state?.aborted && state.abortReason) notes.push(`🛑 Aborted: ${esc(state.abortReason)}`);
  if (thread.note) notes.push(`⚠️ ${esc(thread.note)}`);
  notes.push(...(extras.lines ?? []));
  for (const a of thread.actions.slice(-5)) notes.push(`${esc(a.what)} by ${who(a.who)} <!date^${Math.floor(a.at / 1000)}^{date_short_pretty} {time}|${new Date(a.at).toISOString()}>`);
  if (notes.length) blocks.push(context(notes));

  const text = [`${emoji} ${title}`, headline, tag ? `tag ${tag}` : '', progress ?? ''].filter(Boolean).join(' · ');
  return { text, blocks };
}

function headlineFor(state: NonNullable<ThreadRecord['lastState']>): string {
  if (state.aborted) return '*Aborted*, back on the stable version';
  if (state.fullyPromoted && state.phase === 'Healthy') return '*Completed*, this revision is stable';
  if (waitsForPromotion(state)) {
    if (state.pauseReasons[0] === 'BlueGreenPause') return '*Preview ready, waiting for promotion*';
    if (state.pauseReasons[0]?.startsWith('Inconclusive')) return '*Analysis inconclusive, waiting for a decision* (promote or abort)';
    return '*Paused, waiting for promotion*';
  }
  if (state.phase === 'Degraded') return `*Degraded*: ${esc(state.message)}`;
  if (state.phase === 'Paused') return `*Paused* (${esc(state.message)})`;
  return `*${state.phase}*${state.message ? `: ${esc(state.message)}` : ''}`;
}
