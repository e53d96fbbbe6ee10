import type { DeliveryStores, QueueView } from './delivery-context.js';

/** Reads the queue: every entry to post in sequence order, the edits of posted replies, and the threads they belong to. */
export async function readQueue(stores: DeliveryStores): Promise<QueueView> {
  const all = await stores.outbox.all();
  const outbox = all.filter((e) => e.kind !== 'edit');
  const edits = all.filter((e) => e.kind === 'edit');
  const threads = await stores.threads.byKeys([...new Set(outbox.map((e) => e.threadKey))]);
  return { outbox, edits, threads };
}
