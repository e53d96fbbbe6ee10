import { describe, expect, it } from 'vitest';
import { OutboxDispatcher } from '../../src/core/delivery/outbox-dispatcher.js';
import { RateLimitedError, ServiceError } from '../../src/core/ports.js';
import type { StateStore } from '../../src/adapters/store/state-store.js';
import { emptyStoreData, type OutboxEntry, type StoreData, type ThreadRecord } from '../../src/core/store-data.js';
import { createDocumentStores } from '../../src/adapters/store/document-stores.js';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryChat } from '../support/memory-chat.js';

function memoryStore(data: StoreData = emptyStoreData()): StateStore & { flushes: number } {
  return { data, flushes: 0, async flush() { this.flushes++; } };
}

/** Queues an entry in the store document, as the outbox port does. */
function enqueue(data: StoreData, entry: Omit<OutboxEntry, 'seq' | 'attempts'>): void {
  data.outbox.push({ ...entry, seq: data.seq++, attempts: 0 });
}

function thread(data: StoreData, key: string, channel = 'C1', now = 0): ThreadRecord {
  const t: ThreadRecord = { key, app: 'a', env: 'e', namespace: 'n', rollout: 'r', revision: '1', channel, createdAt: now, startedAt: now, attempt: 1, announced: [], cardVersion: 1, cardSent: 0, actions: [] };
  data.threads[key] = t;
  enqueue(data, { id: `${key}#root`, threadKey: key, channel, kind: 'root', priority: 'normal', text: '', createdAt: now });
  return t;
}

function reply(data: StoreData, t: ThreadRecord, n: string, o: { priority?: 'high' | 'normal'; batchable?: boolean; now?: number } = {}) {
  enqueue(data, { id: `${t.key}#${n}`, threadKey: t.key, channel: t.channel, kind: 'reply', priority: o.priority ?? 'normal', text: n, batchable: o.batchable ?? true, createdAt: o.now ?? 0 });
}

function setup(pacing = {}) {
  const clock = new ManualClock(0);
  const store = memoryStore();
  const chat = new MemoryChat(() => clock.now());
  const d = new OutboxDispatcher({ chat, stores: createDocumentStores(store), clock, log: silent, renderCard: (t) => ({ text: `card ${t.key} v${t.cardVersion}` }), pacing });
  return { clock, store, chat, d, data: store.data };
}

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

describe('OutboxDispatcher', () => {
  it('posts the root card first, then the replies in order inside its thread', async () => {
    const { clock, chat, d, data } = setup({ postBurst: 10 });
    const t = thread(data, 't1');
    reply(data, t, 'one', { batchable: false });
    reply(data, t, 'two', { batchable: false });
    d.kick();
    await clock.advance(10);
    expect(chat.messages.map((m) => [m.text, m.threadTs])).toEqual([
      ['card t1 v1', undefined],
      ['one', chat.messages[0]!.ts],
      ['two', chat.messages[0]!.ts],
    ]);
    expect(data.outbox).toEqual([]);
    expect(t.rootTs).toBe(chat.messages[0]!.ts);
  });

  it("posts a new deploy's root card ahead of older progress in the channel's other threads", async () => {
    const { clock, chat, d, data } = setup({ postsPerSecond: 1, postBurst: 1 });
    const a = thread(data, 'a');
    d.kick();
    await clock.advance(10);
    for (const n of ['a1', 'a2', 'a3']) reply(data, a, n, { batchable: false });
    thread(data, 'b');
    d.kick();
    await clock.advance(1_000);
    expect(chat.messages.map((m) => m.text)).toEqual(['card a v1', 'card b v1']);
    await clock.advance(10_000);
    // The progress that waited behind it goes out as one message (the channel had a backlog).
    expect(chat.messages.map((m) => m.text)).toEqual(['card a v1', 'card b v1', 'a1\na2\na3']);
  });

  it('keeps a channel at its burst, then one post per second', async () => {
    const { clock, chat, d, data } = setup({ postsPerSecond: 1, postBurst: 3 });
    for (let i = 0; i < 8; i++) thread(data, `t${i}`);
    d.kick();
    await clock.advance(10);
    expect(chat.messages).toHaveLength(3);
    await clock.advance(1000);
    expect(chat.messages).toHaveLength(4);
    await clock.advance(4000);
    expect(chat.messages).toHaveLength(8);
    const times = chat.messages.map((m) => m.at);
    for (let i = 3; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(999);
  });

  it('never averages more than one post per second per channel over any 10 s, bursts included', async () => {
    const { clock, chat, d, data } = setup({ postsPerSecond: 1, postBurst: 4 });
    for (let i = 0; i < 40; i++) thread(data, `t${i}`);
    d.kick();
    await clock.advance(40_000);
    expect(chat.messages).toHaveLength(40);
    const times = chat.messages.map((m) => m.at);
    for (const start of times) expect(times.filter((t) => t >= start && t < start + 10_000).length).toBeLessThanOrEqual(10);
    expect(times.filter((t) => t < 1000).length).toBe(4); // the burst is still allowed
  });

  it('paces channels independently', async () => {
    const { clock, chat, d, data } = setup({ postsPerSecond: 1, postBurst: 1 });
    thread(data, 'a', 'C1');
    thread(data, 'b', 'C2');
    d.kick();
    await clock.advance(10);
    expect(chat.messages.map((m) => m.channel).sort()).toEqual(['C1', 'C2']);
  });

  it('sends a thread with an abort ahead of older step progress in another thread', async () => {
    const { clock, chat, d, data } = setup({ postsPerSecond: 1, postBurst: 2 });
    const a = thread(data, 'a');
    const b = thread(data, 'b');
    d.kick();
    await clock.advance(10);
    reply(data, a, 'a-step', { now: 10 });
    reply(data, b, 'b-aborted', { priority: 'high', batchable: false, now: 11 });
    d.kick();
    await clock.advance(1000);
    expect(chat.messages[2]!.text).toBe('b-aborted');
    await clock.advance(1000);
    expect(chat.messages[3]!.text).toBe('a-step');
  });

  it('merges queued progress replies of a busy channel into one message, in order', async () => {
    const { clock, chat, d, data } = setup({ postsPerSecond: 1, postBurst: 1 });
    const t = thread(data, 't');
    d.kick();
    await clock.advance(10);
    for (const n of ['s1', 's2', 's3']) reply(data, t, n);
    d.kick();
    await clock.advance(1000);
    expect(chat.messages).toHaveLength(2);
    expect(chat.messages[1]!.text).toBe('s1\ns2\ns3');
    expect(chat.messages[1]!.keys).toEqual(['t#s1', 't#s2', 't#s3']);
  });

  it('under a backlog, sends a thread\'s queued replies as one message, broadcast when any part is', async () => {
    const { clock, chat, d, data } = setup({ postsPerSecond: 1, postBurst: 1 });
    const threads = Array.from({ length: 6 }, (_, i) => thread(data, `t${i}`));
    d.kick();
    await clock.advance(10_000);
    for (const t of threads) {
      reply(data, t, `${t.key}-step`);
      enqueue(data, { id: `${t.key}#waiting`, threadKey: t.key, channel: 'C1', kind: 'reply', priority: 'high', text: `${t.key}-waiting`, broadcast: true, createdAt: 0 });
      reply(data, t, `${t.key}-completed`, { priority: 'high', batchable: false });
    }
    d.kick();
    await clock.advance(30_000);
    const merged = chat.messages.find((m) => m.text.startsWith('t0-'))!;
    expect(merged.text).toBe('t0-step\nt0-waiting\nt0-completed');
    expect(merged.broadcast).toBe(true);
    expect(data.outbox).toEqual([]);
  });

  it('without a backlog, keeps a broadcast apart from progress', async () => {
    const { clock, chat, d, data } = setup({ postsPerSecond: 1, postBurst: 1 });
    const t = thread(data, 't');
    d.kick();
    await clock.advance(10_000);
    reply(data, t, 's1');
    enqueue(data, { id: 't#waiting', threadKey: 't', channel: 'C1', kind: 'reply', priority: 'high', text: 'waiting', broadcast: true, createdAt: 0 });
    d.kick();
    await clock.advance(5_000);
    expect(chat.messages.slice(1).map((m) => [m.text, Boolean(m.broadcast)])).toEqual([['s1', false], ['waiting', true]]);
  });

  it('waits as long as a 429 says and then posts exactly once', async () => {
    const { clock, chat, d, data } = setup({ postBurst: 5 });
    thread(data, 't');
    chat.failures.push(() => new RateLimitedError('slack', 3000));
    d.kick();
    await clock.advance(10);
    expect(chat.messages).toHaveLength(0);
    await clock.advance(2500);
    expect(chat.messages).toHaveLength(0);
    await clock.advance(600);
    expect(chat.messages).toHaveLength(1);
    await clock.advance(5000);
    expect(chat.messages).toHaveLength(1);
    expect(data.outbox).toHaveLength(0);
  });

  it('after a crash, does not post again what Slack already has, and posts what it does not', async () => {
    const { clock, chat, d, data } = setup({ postBurst: 5 });
    const t = thread(data, 't');
    d.kick();
    await clock.advance(10);
    // Simulate: both replies were attempted before a crash; only the first reached Slack.
    await chat.postMessage({ channel: 'C1', threadTs: t.rootTs, text: 'one', keys: ['t#one'] });
    reply(data, t, 'one', { batchable: false });
    reply(data, t, 'two', { batchable: false });
    for (const e of data.outbox) e.attemptedAt = 5;
    d.kick();
    await clock.advance(10);
    expect(chat.messages.filter((m) => m.text === 'one')).toHaveLength(1);
    expect(chat.messages.filter((m) => m.text === 'two')).toHaveLength(1);
    expect(data.outbox).toHaveLength(0);
  });

  it('posts an entry in doubt when Slack will never let it read history back', async () => {
    const { clock, chat, d, data } = setup({ postBurst: 5 });
    thread(data, 't');
    data.outbox[0]!.attemptedAt = 1;
    chat.failures.push(() => 'missing_scope');
    d.kick();
    await clock.advance(10);
    expect(chat.messages).toHaveLength(1);
    expect(data.outbox).toEqual([]);
  });

  it('posts again without a read-back when Slack refused the post', async () => {
    const { clock, chat, d, data } = setup({ postBurst: 5 });
    thread(data, 't');
    chat.failures.push(() => 'not_in_channel');
    d.kick();
    await clock.advance(10);
    expect(chat.messages).toHaveLength(0);
    expect(data.outbox[0]!.attemptedAt).toBeUndefined();
    await clock.advance(1000);
    expect(chat.reads).toHaveLength(0);
    expect(chat.messages).toHaveLength(1);
    expect(data.outbox).toEqual([]);
  });

  it('keeps a post whose answer was lost in doubt and reads back before posting it again', async () => {
    const { clock, chat, d, data } = setup({ postBurst: 5 });
    thread(data, 't');
    chat.failures.push(() => new ServiceError('slack', 'chat.postMessage failed: HTTP 503', { code: 'http_503', kind: 'transient' }));
    d.kick();
    await clock.advance(10);
    // Read back at once (it has its own budget), proved absent; the post itself waits out its backoff.
    expect(chat.reads).toHaveLength(1);
    expect(chat.messages).toHaveLength(0);
    await clock.advance(1000);
    expect(chat.reads).toHaveLength(1);
    expect(chat.messages).toHaveLength(1);
    expect(data.outbox).toEqual([]);
  });

  it('retries a read-back the token may not make, instead of posting unseen', async () => {
    const { clock, chat, d, data } = setup({ postBurst: 5, readBurst: 5 });
    thread(data, 't');
    data.outbox[0]!.attemptedAt = 1;
    chat.failures.push(() => 'invalid_auth');
    d.kick();
    await clock.advance(10);
    expect(chat.reads).toHaveLength(1);
    expect(chat.messages).toHaveLength(0);
    expect(data.outbox[0]!.attemptedAt).toBe(1);
    await clock.advance(1000);
    expect(chat.reads).toHaveLength(2);
    expect(chat.messages).toHaveLength(1);
  });

  it('keeps an entry in doubt through a 429 on its read-back, looks again after Retry-After, and posts nothing twice', async () => {
    const { clock, chat, d, data } = setup({ postBurst: 5 });
    const t = thread(data, 't');
    await chat.postMessage({ channel: 'C1', text: 'card', keys: ['t#root'] });
    data.outbox[0]!.attemptedAt = 1;
    chat.failures.push(() => new RateLimitedError('slack', 30_000));
    d.kick();
    await clock.advance(29_000);
    expect(chat.reads).toHaveLength(1);
    expect(chat.messages).toHaveLength(1);
    expect(data.outbox[0]!.attemptedAt).toBe(1);
    await clock.advance(1_100);
    expect(chat.reads).toHaveLength(2);
    expect(chat.messages).toHaveLength(1);
    expect(t.rootTs).toBe(chat.messages[0]!.ts);
    expect(data.outbox).toEqual([]);
  });

  it('retries an ok:false read-back with backoff and never takes it for "not posted"', async () => {
    const { clock, chat, d, data } = setup({ postBurst: 5, readBurst: 5 });
    thread(data, 't');
    data.outbox[0]!.attemptedAt = 1;
    for (let i = 0; i < 3; i++) chat.failures.push(() => 'internal_error');
    d.kick();
    await clock.advance(10);
    expect(chat.reads).toHaveLength(1);
    await clock.advance(1000);
    expect(chat.reads).toHaveLength(2);
    await clock.advance(2000);
    expect(chat.reads).toHaveLength(3);
    expect(chat.messages).toHaveLength(0);
    expect(data.outbox[0]!.attemptedAt).toBe(1);
    // The fourth look answers, proves the card absent, and only then is it posted.
    await clock.advance(4000);
    expect(chat.reads).toHaveLength(4);
    expect(chat.messages).toHaveLength(1);
    expect(data.outbox).toEqual([]);
  });

  it('settles every entry in doubt of a thread with one conversations.replies call', async () => {
    const { clock, chat, d, data } = setup({ postBurst: 5 });
    const t = thread(data, 't');
    d.kick();
    await clock.advance(10);
    await chat.postMessage({ channel: 'C1', threadTs: t.rootTs, text: 'one\ntwo', keys: ['t#one', 't#two'] });
    for (const n of ['one', 'two', 'three']) reply(data, t, n);
    for (const e of data.outbox) e.attemptedAt = 5;
    d.kick();
    await clock.advance(10);
    expect(chat.reads.map((r) => r.threadTs)).toEqual([t.rootTs]);
    expect(chat.messages.slice(1).map((m) => m.text)).toEqual(['one\ntwo', 'three']);
    expect(data.outbox).toEqual([]);
  });

  it('settles the roots in doubt of a channel with one conversations.history call', async () => {
    const { clock, chat, d, data } = setup({ postBurst: 5 });
    thread(data, 'a');
    thread(data, 'b');
    await chat.postMessage({ channel: 'C1', text: 'card a', keys: ['a#root'] });
    for (const e of data.outbox) e.attemptedAt = 1;
    d.kick();
    await clock.advance(10);
    expect(chat.reads).toHaveLength(1);
    // a's card was found (and is refreshed: which version Slack shows is unknown); only b's is posted.
    expect(chat.messages.map((m) => m.keys)).toEqual([['a#root'], ['b#root']]);
    expect(data.threads.a!.rootTs).toBe(chat.messages[0]!.ts);
    expect(chat.updates.map((u) => u.ts)).toEqual([chat.messages[0]!.ts]);
  });

  it('paces read-backs on their own budget, apart from posts', async () => {
    const { clock, chat, d, data } = setup({ postBurst: 5, readsPerMinute: 1, readBurst: 1 });
    thread(data, 'a', 'C1');
    thread(data, 'b', 'C2');
    thread(data, 'c', 'C3');
    data.outbox[0]!.attemptedAt = 1;
    data.outbox[1]!.attemptedAt = 1;
    d.kick();
    await clock.advance(10);
    // C3 posts at once; one of C1/C2 is read back, the other waits a minute for the next read.
    expect(chat.reads).toHaveLength(1);
    expect(chat.messages.map((m) => m.channel).sort()).toEqual(['C3', chat.reads[0]!.channel].sort());
    await clock.advance(55_000);
    expect(chat.reads).toHaveLength(1);
    await clock.advance(6_000);
    expect(chat.reads).toHaveLength(2);
    expect(data.outbox).toEqual([]);
  });

  it('proves an entry absent only after the last page, following the cursor at the read pace', async () => {
    const { clock, chat, d, data } = setup({ postBurst: 5, readsPerMinute: 1, readBurst: 1 });
    chat.pageSize = 2;
    for (let i = 0; i < 5; i++) await chat.postMessage({ channel: 'C1', text: `other ${i}`, keys: [`x${i}#root`] });
    thread(data, 't');
    data.outbox[0]!.attemptedAt = 1;
    d.kick();
    await clock.advance(10);
    expect(chat.reads).toHaveLength(1);
    await clock.advance(60_000);
    expect(chat.reads).toHaveLength(2);
    expect(chat.messages).toHaveLength(5);
    await clock.advance(60_000);
    expect(chat.reads.map((r) => r.cursor)).toEqual([undefined, '2', '4']);
    expect(chat.messages).toHaveLength(6);
    expect(data.outbox).toEqual([]);
  });

  it('coalesces many card changes into few updates that end on the latest version', async () => {
    const { clock, chat, d, data } = setup({ updatesPerSecond: 1, updateBurst: 1 });
    thread(data, 't');
    // The store replaces a record it changes: look it up each time.
    const t = () => data.threads.t!;
    d.kick();
    await clock.advance(10);
    for (let i = 0; i < 20; i++) {
      t().cardVersion++;
      d.kick();
      await clock.advance(50);
    }
    await clock.advance(3000);
    expect(chat.updates.length).toBeLessThanOrEqual(3);
    expect(chat.updates.at(-1)!.text).toBe(`card t v${t().cardVersion}`);
    expect(t().cardSent).toBe(t().cardVersion);
  });

  it('records the intent before posting', async () => {
    const { clock, store, d, data } = setup();
    thread(data, 't');
    let flushedBeforePost = false;
    const chat = (d as unknown as { deps: { chat: MemoryChat } }).deps.chat;
    const original = chat.postMessage.bind(chat);
    chat.postMessage = async (o) => {
      flushedBeforePost = store.flushes > 0 && data.outbox[0]?.attemptedAt !== undefined;
      return original(o);
    };
    d.kick();
    await clock.advance(10);
    expect(flushedBeforePost).toBe(true);
  });
});
