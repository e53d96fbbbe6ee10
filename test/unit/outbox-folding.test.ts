import { describe, expect, it } from 'vitest';
import { OutboxDispatcher } from '../../src/core/delivery/outbox-dispatcher.js';
import type { DeliveryMetrics } from '../../src/core/delivery/delivery-metrics.js';
import type { StateStore } from '../../src/adapters/store/state-store.js';
import { emptyStoreData, type OutboxEntry, type StoreData, type ThreadRecord } from '../../src/core/store-data.js';
import { createDocumentStores } from '../../src/adapters/store/document-stores.js';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryChat } from '../support/memory-chat.js';

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

function memoryStore(data: StoreData = emptyStoreData()): StateStore & { flushes: number } {
  return { data, flushes: 0, async flush() { this.flushes++; } };
}

function enqueue(data: StoreData, entry: Omit<OutboxEntry, 'seq' | 'attempts'>): void {
  data.outbox.push({ ...entry, seq: data.seq++, attempts: 0 });
}

/** A thread whose root card is in Slack, showing card version `sent` of `version`, with these events announced. */
function thread(data: StoreData, key: string, o: { version?: number; sent?: number; announced?: string[]; createdAt?: number } = {}): ThreadRecord {
  const t: ThreadRecord = {
    key, app: 'a', env: key, namespace: 'n', rollout: 'r', revision: '2', channel: 'C1', rootTs: `1.${key}`, createdAt: o.createdAt ?? 0, startedAt: 0, attempt: 1,
    announced: ['deploy-started', ...(o.announced ?? [])], cardVersion: o.version ?? 1, cardSent: o.sent ?? o.version ?? 1, actions: [],
  };
  data.threads[key] = t;
  return t;
}

function step(data: StoreData, t: ThreadRecord, n: number): string {
  const id = `${t.key}#a1:step-completed:${n}`;
  enqueue(data, { id, threadKey: t.key, channel: t.channel, kind: 'reply', priority: 'normal', text: `✅ Step ${n}/5 completed`, batchable: true, createdAt: 0 });
  return id;
}

function high(data: StoreData, t: ThreadRecord, name: string): string {
  const id = `${t.key}#${name}`;
  enqueue(data, { id, threadKey: t.key, channel: t.channel, kind: 'reply', priority: 'high', text: name, createdAt: 0 });
  return id;
}

function setup(pacing = {}, data = emptyStoreData()) {
  const clock = new ManualClock(0);
  const store = memoryStore(data);
  const chat = new MemoryChat(() => clock.now());
  const folded: Array<[number, string]> = [];
  const metrics: DeliveryMetrics = { slackCall() {}, queueDepth() {}, repliesFolded: (n, reason) => void folded.push([n, reason]) };
  const d = new OutboxDispatcher({ chat, stores: createDocumentStores(store), clock, log: silent, renderCard: (t) => ({ text: `card ${t.key} v${t.cardVersion}` }), pacing, metrics });
  return { clock, store, chat, d, data: store.data, folded };
}

const postedKeys = (chat: MemoryChat) => chat.messages.flatMap((m) => m.keys);
const steps = ['a1:step-completed:1', 'a1:step-completed:2', 'a1:step-completed:3'];

describe('folding step progress into the status card', () => {
  it('under a backlog, takes the progress a current card shows out of the outbox, durably and counted, and posts none of it', async () => {
    const { clock, chat, d, data, store, folded } = setup({ postsPerSecond: 1, postBurst: 1 });
    const t = thread(data, 't', { version: 4, announced: steps });
    const ids = [1, 2, 3].map((n) => step(data, t, n));
    d.kick();
    await clock.advance(10);
    expect(data.outbox.map((e) => e.id)).toEqual([]);
    expect(store.flushes).toBeGreaterThan(0);
    expect(folded).toEqual([[3, 'card-shows-it']]);
    await clock.advance(10_000);
    expect(postedKeys(chat).filter((k) => ids.includes(k))).toEqual([]);
  });

  it('posts the same progress as usual when the channel keeps up', async () => {
    const { clock, chat, d, data, folded } = setup({ postsPerSecond: 1, postBurst: 5 });
    const t = thread(data, 't', { version: 4, announced: steps });
    const ids = [1, 2].map((n) => step(data, t, n));
    d.kick();
    await clock.advance(10);
    expect(postedKeys(chat)).toEqual(ids);
    expect(folded).toEqual([]);
  });

  it("spends chat.update first on a card whose thread has progress queued, then folds what the card now shows", async () => {
    const { clock, chat, d, data, folded } = setup({ postsPerSecond: 0.001, postBurst: 1, updatesPerSecond: 0.001, updateBurst: 1 });
    // A newer deploy whose thread already shows its latest state: its card is stale too.
    thread(data, 'shown', { version: 3, sent: 2, createdAt: 5 });
    const busy = thread(data, 'busy', { version: 5, sent: 2, announced: steps });
    const other = thread(data, 'other');
    const aborted = high(data, other, 'a1:aborted');
    const ids = [1, 2, 3].map((n) => step(data, busy, n));
    d.kick();
    await clock.advance(10);
    // The abort took the channel's one post; the one update went to the card that shows the queued progress.
    expect(postedKeys(chat)).toEqual([aborted]);
    expect(chat.updates.map((u) => u.ts)).toEqual([busy.rootTs]);
    expect(data.outbox.filter((e) => ids.includes(e.id))).toEqual([]);
    expect(folded).toEqual([[3, 'card-shows-it']]);
  });

  it('brings nothing folded back after a restart', async () => {
    const first = setup({ postsPerSecond: 1, postBurst: 1 });
    const t = thread(first.data, 't', { version: 4, announced: steps });
    const ids = [1, 2, 3].map((n) => step(first.data, t, n));
    first.d.kick();
    await first.clock.advance(10);
    await first.d.stop();
    const second = setup({ postsPerSecond: 1, postBurst: 1 }, first.data);
    second.d.kick();
    await second.clock.advance(30_000);
    expect(postedKeys(second.chat).filter((k) => ids.includes(k))).toEqual([]);
    expect(second.data.outbox).toEqual([]);
  });

  it('keeps the progress a stale card does not show yet, and posts it merged with the rest of its thread', async () => {
    const { clock, chat, d, data, folded } = setup({ postsPerSecond: 1, postBurst: 1, updatesPerSecond: 0.001, updateBurst: 0 });
    const t = thread(data, 't', { version: 4, sent: 3, announced: steps });
    const ids = [1, 2, 3].map((n) => step(data, t, n));
    d.kick();
    await clock.advance(10);
    expect(folded).toEqual([]);
    expect(chat.messages.map((m) => m.keys)).toEqual([ids]);
  });
});

describe('Slack limits', () => {
  it('never lets 11 posts of a channel land in Slack within 10 s, however long each answer takes', async () => {
    const { clock, chat, d, data } = setup({ postsPerSecond: 1, postBurst: 4 });
    let n = 0;
    const post = chat.postMessage.bind(chat);
    // Slack records a post when it answers; some answers take most of a second, the rest none.
    chat.postMessage = async (o) => {
      const slow = n++ % 3 === 0;
      if (slow) await new Promise<void>((resolve) => clock.setTimer(900, resolve));
      return post(o);
    };
    for (let i = 0; i < 40; i++) {
      thread(data, `t${i}`, {});
      enqueue(data, { id: `t${i}#note`, threadKey: `t${i}`, channel: 'C1', kind: 'reply', priority: 'high', text: `note ${i}`, createdAt: 0 });
    }
    d.kick();
    await clock.advance(60_000);
    expect(chat.messages).toHaveLength(40);
    const times = chat.messages.map((m) => m.at).sort((a, b) => a - b);
    for (const start of times) expect(times.filter((t) => t >= start && t < start + 10_000).length).toBeLessThanOrEqual(10);
  });

  it('keeps chat.update at 50 a minute by default, bursts included', async () => {
    const { clock, chat, d, data } = setup({ postsPerSecond: 1, postBurst: 4 });
    for (let i = 0; i < 200; i++) thread(data, `t${i}`, { version: 2, sent: 1, createdAt: i });
    d.kick();
    await clock.advance(180_000);
    const times = chat.updates.map((u) => u.at);
    expect(times.length).toBeGreaterThan(100);
    for (const start of times) expect(times.filter((t) => t >= start && t < start + 60_000).length).toBeLessThanOrEqual(50);
  });
});
