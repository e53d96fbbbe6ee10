import type { OutboxEntry, StoreData, ThreadRecord } from '../store-data.js';

/**
 * Takes entries Slack has (posted now, or found by a read-back) out of the outbox; a root gives its thread the ts.
 * `cardVersion` is the card version posted; undefined when found after a restart, so the card is refreshed.
 */
export function recordSent(o: { data: StoreData; batch: OutboxEntry[]; ts: string; thread: ThreadRecord | undefined; cardVersion: number | undefined }): void {
  const ids = new Set(o.batch.map((e) => e.id));
  o.data.outbox = o.data.outbox.filter((e) => !ids.has(e.id));
  const head = o.batch[0]!;
  if (head.kind === 'root' && o.thread) {
    o.thread.rootTs = o.ts;
    // Found after a restart: we do not know which version Slack shows, so refresh it.
    o.thread.cardSent = o.cardVersion ?? 0;
  }
}
