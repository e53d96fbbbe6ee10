import { context, esc, who } from '../text/mrkdwn.js';

/** How a confirmation request ended, as its card shows it in place of its buttons. */
export type CardOutcome =
  | { kind: 'done'; action: string; by: string; at: number }
  | { kind: 'failed'; action: string; why: string }
  | { kind: 'refused'; why: string }
  | { kind: 'cancelled'; by: string; at: number }
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

function time(at: number): string {
  return `<!date^${Math.floor(at / 1000)}^{time}|${new Date(at).toISOString().slice(11, 16)} UTC>`;
}
