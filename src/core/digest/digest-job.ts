import type { Catalog } from '../catalog.js';
import type { Clock } from '../ports.js';
import type { Stores } from '../store-ports.js';
import { buildDigest } from './build-digest.js';
import { readDigestFacts } from './read-digest-facts.js';

export interface DigestJobDeps {
  catalog: Catalog;
  stores: Pick<Stores, 'envs' | 'threads' | 'commits' | 'errorSims' | 'digests' | 'outbox' | 'flush'>;
  clock: Clock;
  /** `digest.channel`. */
  channel: string;
  permalink: (channel: string, ts: string) => string;
  onChange: () => void;
}

const WEEK_MS = 7 * 86_400_000;

/**
 * Posts the digest to its channel through the outbox. The schedule (node-cron) only calls `run` with the time the run was
 * scheduled for; each scheduled slot is posted once, durably, so a double fire of the same slot never posts it twice.
 */
export class DigestJob {
  constructor(private readonly deps: DigestJobDeps) {}

  /** Queues the digest of the slot `scheduledAt` (default now); false when that slot's digest was already queued. */
  async run(scheduledAt?: number): Promise<boolean> {
    const { stores, clock, catalog, channel } = this.deps;
    const now = clock.now();
    const slot = `digest:${new Date(scheduledAt ?? now).toISOString().slice(0, 19)}`;
    if ((await stores.digests.get(slot)) !== undefined) return false;
    const content = buildDigest({ catalog, facts: await readDigestFacts({ stores, catalog }), now, permalink: this.deps.permalink });
    // Claiming the slot is the one decision: of two runs of the same slot, one queues it.
    if (!(await stores.digests.setIfAbsent(slot, now))) return false;
    // Only a double fire of the same slot needs the mark; keep a week of them, whatever the schedule.
    for (const [k, at] of await stores.digests.all()) if (at < now - WEEK_MS) await stores.digests.delete(k);
    await stores.outbox.enqueue({ id: `notice/${slot}`, threadKey: 'notice/digest', channel, kind: 'notice', priority: 'normal', text: content.text, blocks: content.blocks, createdAt: now });
    await stores.flush();
    this.deps.onChange();
    return true;
  }
}
