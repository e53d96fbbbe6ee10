import type { DeliveryStores, QueueView } from './delivery-context.js';

/** Reads the queue: every entry in sequence order, and the threads they belong to. */
export async function readQueue(stores: DeliveryStores): Promise<QueueView> {
  const outbox = await stores.outbox.all();
  const threads = await stores.threads.byKeys([...new Set(outbox.map((e) => e.threadKey))]);
  return { outbox, threads };
}
