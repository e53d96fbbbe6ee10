import { context, esc, who } from '../text/mrkdwn.js';

/** How a confirmation request ended, as its card shows it in place of its buttons. */
export type CardOutcome =
  | { kind: 'done'; action: string; by: string; at: number }
  | { kind: 'failed'; action: string; why: string }
  | { kind: 'refused'; why: string }
  | { kind: 'cancelled'; by: string; at: number }
  | { kind: 'rejected'; by: string; reason?: string }
  | { kind: 'expired'; afterMin: number }
  | { kind: 'superseded' }
  | { kind: 'outside'; done: string };

// Lower case after "Done:": the thread's own "Promoted by …" reply stays the one line that starts so.
const PAST: Record<string, string> = { promote: 'promoted', abort: 'aborted', retry: 'retried', deploy: 'dispatched' };

/** The one line a decided confirmation card ends with (the words for every outcome, in one place). */
export function renderCardOutcome(o: CardOutcome): string {
  switch (o.kind) {
    case 'done':
      return `✅ Done: ${PAST[o.action] ?? 'done'} by ${who(o.by)} at ${time(o.at)}`;
    case 'failed':
      return `⚠️ Failed: ${esc(o.why)}`;
    case 'refused':
      return `🛑 Refused: ${o.why}`;
    case 'cancelled':
      return `✖️ Cancelled by ${who(o.by)} at ${time(o.at)}`;
    case 'rejected':
      return `⛔ Rejected by ${who(o.by)}${o.reason ? `: ${esc(o.reason)}` : ''}. Nothing was sent`;
    case 'expired':
      return `⌛ Expired after ${o.afterMin} min: nothing was sent`;
    case 'superseded':
      return '⏭️ Replaced by a newer request: nothing was sent from this card';
    case 'outside':
      return `↪️ Done outside chat: ${o.done}`;
  }
}

/**
 * The card as posted, with its buttons (and the "how to confirm" footer) replaced by the outcome line: the facts it
 * showed stay, so the thread still reads what was asked.
 */
export function settledCard(card: { text: string; blocks: unknown[] }, line: string): { text: string; blocks: unknown[] } {
  const blocks = card.blocks.filter((b) => (b as { type?: string }).type !== 'actions');
  const last = blocks[blocks.length - 1] as { type?: string } | undefined;
  if (last?.type === 'context') blocks.pop();
  const lines = card.text.split('\n');
  if (lines.length > 1) lines.pop();
  return { text: [...lines, line].join('\n'), blocks: [...blocks, context([line])] };
}

/** The approvals line of a request that needs several (`1 of 2 approvals: @Lead`). */
export function renderApprovals(o: { approvals: ReadonlyArray<{ by: string }>; required: number }): string {
  return `👥 ${o.approvals.length} of ${o.required} approvals: ${o.approvals.map((a) => who(a.by)).join(', ')}`;
}

/** The card as posted, still with its buttons, with `line` shown just above them (approvals as they arrive). */
export function progressCard(card: { text: string; blocks: unknown[] }, line: string): { text: string; blocks: unknown[] } {
  const at = card.blocks.findIndex((b) => (b as { type?: string }).type === 'actions');
  const blocks = at < 0 ? [...card.blocks, context([line])] : [...card.blocks.slice(0, at), context([line]), ...card.blocks.slice(at)];
  const lines = card.text.split('\n');
  const footer = lines.length > 1 ? lines.pop()! : undefined;
  return { text: [...lines, line, ...(footer === undefined ? [] : [footer])].join('\n'), blocks };
}

function time(at: number): string {
  return `<!date^${Math.floor(at / 1000)}^{time}|${new Date(at).toISOString().slice(11, 16)} UTC>`;
}
