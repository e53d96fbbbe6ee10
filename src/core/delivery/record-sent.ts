import type { OutboxEntry } from '../store-data.js';
import type { OutboxStore } from '../store-ports.js';

/**
 * Takes entries Slack has (posted now, or found by a read-back) out of the outbox; a root gives its thread the ts.
 * `cardVersion` is the card version posted; undefined when found after a restart, so the card is refreshed.
 */
export function recordSent(o: { outbox: OutboxStore; batch: OutboxEntry[]; ts: string; cardVersion: number | undefined }): Promise<void> {
  const head = o.batch[0]!;
  return o.outbox.delivered({
    ids: o.batch.map((e) => e.id),
    ts: o.ts,
    // Found after a restart: we do not know which version Slack shows, so refresh it.
    root: head.kind === 'root' ? { threadKey: head.threadKey, ts: o.ts, cardSent: o.cardVersion ?? 0 } : undefined,
  });
}
