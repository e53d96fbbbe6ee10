import type { Catalog } from '../catalog.js';
import type { Clock, StateStore } from '../ports.js';
import { buildDigest } from './build-digest.js';
import { enqueue } from '../rollout-threads/rollout-observer.js';

export interface DigestJobDeps {
  catalog: Catalog;
  store: StateStore;
  clock: Clock;
  /** `digest.channel`. */
  channel: string;
  permalink: (channel: string, ts: string) => string;
  onChange: () => void;
}

/**
 * Posts the digest to its channel through the outbox. The schedule (node-cron) only calls `run` with the time the run was
 * scheduled for; each scheduled slot is posted once, durably, so a double fire of the same slot never posts it twice.
 */
export class DigestJob {
  constructor(private readonly deps: DigestJobDeps) {}

  /** Queues the digest of the slot `scheduledAt` (default now); false when that slot's digest was already queued. */
  async run(scheduledAt?: number): Promise<boolean> {
    const { store, clock, catalog, channel } = this.deps;
    const now = clock.now();
    const slot = `digest:${new Date(scheduledAt ?? now).toISOString().slice(0, 19)}`;
    const sent = (store.data.digestsSent ??= {});
    if (sent[slot] !== undefined) return false;
    const content = buildDigest({ catalog, data: store.data, now, permalink: this.deps.permalink });
    sent[slot] = now;
    // Only a double fire of the same slot needs the mark; keep a week of them, whatever the schedule.
    for (const [k, at] of Object.entries(sent)) if (at < now - 7 * 86_400_000) delete sent[k];
    enqueue(store.data, { id: `notice/${slot}`, threadKey: 'notice/digest', channel, kind: 'notice', priority: 'normal', text: content.text, blocks: content.blocks, createdAt: now });
    await store.flush();
    this.deps.onChange();
    return true;
  }
}
