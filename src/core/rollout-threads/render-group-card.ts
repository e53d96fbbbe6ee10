import type { EnvTarget } from '../catalog.js';
import type { ChatContent } from '../ports.js';
import type { ThreadRecord } from '../store-data.js';
import { context, esc, section } from '../text/mrkdwn.js';
import { plainText } from '../text/plain-text.js';
import { groupWaitMark, promoteButtonBlock } from '../promotion/promote-button.js';
import { describePhase, describeProgress, phaseEmoji, primaryTag, waitsForPromotion } from '../rollout/describe-state.js';
import { actionLines, type CardExtras } from './render-card.js';

type State = NonNullable<ThreadRecord['lastState']>;

/**
 * The status card of a several-rollout deploy (the lead's thread): one line per rollout (its tag, phase and canary
 * step), a headline over all of them, and the Promote button while any of them waits for promotion.
 */
export function renderGroupCard(lead: ThreadRecord, members: ThreadRecord[], target: EnvTarget | undefined, extras: CardExtras = {}): ChatContent {
  const sha = lead.group?.sha;
  const title = `${lead.app} · ${lead.env} · ${sha ? `deploy ${sha.slice(0, 7)}` : `revision ${lead.revision}`}`;
  const states = members.map((m) => ({ m, s: m.lastState }));
  const aborted = states.filter(({ s }) => s?.aborted).map(({ m }) => m.rollout);
  const waiting = states.filter(({ m, s }) => s && !m.outcome && waitsForPromotion(s));
  const done = members.every((m) => m.outcome === 'completed');
  const emoji = aborted.length ? '🛑' : done ? '✅' : waiting.length ? '⏸️' : '🔄';
  const headline =
    aborted.length ? `*Aborted*: ${names(aborted)}, back on the stable version`
    : done ? `*Completed*: all ${members.length} rollouts are stable`
    : waiting.length ? `*${names(waiting.map(({ m }) => m.rollout))} waiting for promotion*`
    : `*Progressing*: ${members.filter((m) => !m.outcome).length} of ${members.length} rollouts still rolling out`;
  const blocks: unknown[] = [];
  if (extras.banner) blocks.push(section(extras.banner));
  blocks.push({ type: 'header', text: { type: 'plain_text', text: `${emoji} ${title}`.slice(0, 150), emoji: true } });
  blocks.push(section(headline));
  const lines = states.map(({ m, s }) => `${s ? phaseEmoji(s) : '🔄'} *${esc(m.rollout)}* ${rolloutLine(m, s)}`);
  blocks.push(section(lines.join('\n')));
  if (extras.commit) blocks.push({ type: 'section', fields: [{ type: 'mrkdwn', text: `*Commit*\n${extras.commit}` }] });
  const notes: string[] = [];
  for (const { m, s } of states) if (s?.aborted && s.abortReason) notes.push(`🛑 ${esc(m.rollout)} aborted: ${esc(s.abortReason)}`);
  notes.push(...(extras.lines ?? []));
  notes.push(...actionLines(lead.actions));
  if (notes.length) blocks.push(context(notes));
  const first = waiting[0];
  if (first?.s && target && !aborted.length) {
    const tags = waiting.map(({ m, s }) => `${esc(m.rollout)} \`${esc(primaryTag(s!) ?? m.tag ?? '?')}\``).join(', ');
    blocks.push(promoteButtonBlock({
      threadKey: lead.key,
      state: first.s,
      waitMark: groupWaitMark(waiting.map(({ s }) => s!)),
      env: lead.env,
      title: `Promote ${lead.env}?`,
      text: `Promote ${esc(lead.app)} ${esc(lead.env)}: ${tags}. The checks of \`/promote\` run for each rollout first; nothing is sent if one fails.`,
    }));
  }
  const text = plainText([`${emoji} ${title}`, headline, ...lines].join(' · '));
  return { text, blocks };
}

function rolloutLine(m: ThreadRecord, s: State | undefined): string {
  const tag = m.tag ?? (s ? primaryTag(s) : undefined);
  const parts = [tag ? `\`${esc(tag)}\`` : '', s ? esc(describePhase(s)) : 'deploy started'];
  const progress = s ? describeProgress(s) : undefined;
  if (progress && !describePhase(s!).includes(' at step ')) parts.push(esc(progress));
  return parts.filter(Boolean).join(' · ');
}

function names(list: string[]): string {
  return list.length <= 1 ? (list[0] ?? '') : `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
}
