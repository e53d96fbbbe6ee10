import type { ChatContent } from '../ports.js';
import type { OutboxEntry } from '../store-data.js';

/** Several progress replies of one thread as one message, in order. */
export function mergeReplies(batch: OutboxEntry[]): ChatContent {
  const text = batch.map((e) => e.text).join('\n');
  const blocks = batch.flatMap((e) => e.blocks ?? [{ type: 'section', text: { type: 'mrkdwn', text: e.text } }]);
  return { text, blocks: blocks.length <= 50 ? blocks : undefined };
}
