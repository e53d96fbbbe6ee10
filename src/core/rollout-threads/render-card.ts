import type { EnvTarget } from '../catalog.js';
import type { ChatContent } from '../ports.js';
import type { ThreadRecord } from '../store-data.js';
import { context, esc, link, section, who } from '../text/mrkdwn.js';
import { plainText } from '../text/plain-text.js';
import { promoteButtonBlock } from '../promotion/promote-button.js';
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
  blocks.push({ type: 'header', text: { type: 'plain_text', text: `${emoji} ${title}`.slice(0, 150), emoji: true } });
  blocks.push(section(headline));

  const fields: string[] = [];
  if (tag) fields.push(`*Image tag*\n\`${esc(tag)}\``);
  // No Phase field: the headline under the title already says the phase, in words.
  const progress = state ? describeProgress(state) : undefined;
  if (progress) fields.push(`*Canary*\n${esc(progress)}`);
  if (state?.strategy === 'blueGreen') {
    const bg = state.blueGreen;
    const preview = target?.env.previewUrl ? link(target.env.previewUrl, 'preview') : 'preview';
    const active = target?.env.activeUrl ? link(target.env.activeUrl, 'active') : 'active';
    fields.push(`*Blue-green*\n${preview}: ${versionOf(bg?.previewSelector, state)} · ${active}: ${versionOf(bg?.activeSelector, state)}`);
  }
  fields.push(`*Rollout*\n\`${esc(thread.namespace)}/${esc(thread.rollout)}\``);
  if (extras.commit) fields.push(`*Commit*\n${extras.commit}`);
  blocks.push({ type: 'section', fields: fields.slice(0, 10).map((text) => ({ type: 'mrkdwn', text })) });

  const notes: string[] = [];
  if (state?.aborted && state.abortReason) notes.push(`🛑 Aborted: ${esc(state.abortReason)}`);
  if (thread.note) notes.push(`⚠️ ${esc(thread.note)}`);
  notes.push(...(extras.lines ?? []));
  notes.push(...actionLines(thread.actions));
  if (notes.length) blocks.push(context(notes));
  // Promote where people look: the card of a deploy waiting for promotion carries the button (approvers only).
  if (state && target && !thread.outcome && waitsForPromotion(state)) {
    blocks.push(promoteButtonBlock({
      threadKey: thread.key,
      state,
      env: thread.env,
      title: `Promote ${thread.env}?`,
      text: `Promote ${esc(thread.app)} ${esc(thread.env)}${tag ? ` (\`${esc(tag)}\`)` : ''}. The checks of \`/promote\` run first; nothing is sent if one fails.`,
    }));
  }

  const text = plainText([`${emoji} ${title}`, headline, tag ? `tag ${tag}` : '', progress ?? ''].filter(Boolean).join(' · '));
  return { text, blocks };
}

function headlineFor(state: NonNullable<ThreadRecord['lastState']>): string {
  if (state.deleted) return '*Deleted*: the rollout is no longer in the cluster';
  if (state.aborted) return '*Aborted*, back on the stable version';
  if (state.fullyPromoted && state.phase === 'Healthy') return '*Completed*, this revision is stable';
  if (waitsForPromotion(state)) {
    if (state.pauseReasons[0] === 'BlueGreenPause') return '*Preview ready, waiting for promotion*';
    if (state.pauseReasons[0]?.startsWith('Inconclusive')) return '*Analysis inconclusive, waiting for a decision* (promote or abort)';
    return `*${esc(describePhase(state))}, waiting for promotion*`;
  }
  const [phase, ...rest] = describePhase(state).split(': ');
  const detail = rest.join(': ');
  if (phase?.startsWith('Paused at')) return `*${esc(phase)}*`;
  return `*${esc(phase ?? state.phase)}*${detail ? `: ${esc(detail)}` : ''}`;
}

/** Which version a blue-green service points at, in words rather than by pod-template hash. */
function versionOf(selector: string | undefined, state: NonNullable<ThreadRecord['lastState']>): string {
  if (!selector) return '–';
  if (selector === state.currentPodHash) return `revision ${esc(state.revision)}`;
  if (selector === state.stableRS) return 'the stable version';
  return 'another version';
}

/** The card's lines for what people did: the last five, each with who and when (Slack renders the date locally). */
export function actionLines(actions: ThreadRecord['actions']): string[] {
  return actions.slice(-5).map((a) => `${esc(a.what)} by ${who(a.who)} <!date^${Math.floor(a.at / 1000)}^{date_short_pretty} {time}|${new Date(a.at).toISOString()}>`);
}
