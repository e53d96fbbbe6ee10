import { appendFile, cp, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openEmbeddedStore, type EmbeddedStoreOptions } from '../../src/adapters/store/open-embedded-store.js';
import { HISTORY_DIR, JOURNAL_FILE, LEGACY_ARCHIVE_FILE, STORE_FILE, StoreOpenError } from '../../src/adapters/store/store-files.js';
import type { ThreadRecord } from '../../src/core/store-data.js';
import { captureLogger } from '../support/capture-logger.js';

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const T0 = Date.parse('2026-12-01T10:00:00Z');
const MIN = 60_000;

function thread(key: string, o: Partial<ThreadRecord> = {}): ThreadRecord {
  return { key, app: 'a', env: 'e', namespace: 'n', rollout: 'r', revision: '1', channel: 'C1', createdAt: T0, startedAt: T0, attempt: 1, announced: ['x'], cardVersion: 1, cardSent: 1, actions: [], ...o };
}

async function fresh(o: EmbeddedStoreOptions = {}) {
  dir ??= await mkdtemp(path.join(tmpdir(), 'store-'));
  return openEmbeddedStore(dir, o);
}

function segmentsOf(): Promise<string[]> {
  return readdir(path.join(dir, HISTORY_DIR)).then((names) => names.filter((n) => n.endsWith('.jsonl')).sort());
}

describe('the embedded store', () => {
  it('keeps what was flushed across a reopen, from the journal alone and after a compaction', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    const s = await fresh();
    await s.stores.threads.save(thread('t1'));
    await s.stores.envs.update('a/e', { threadKey: 't1' });
    await s.stores.flush();
    // Not closed: as after a SIGKILL, only the journal holds the change.
    expect((await stat(path.join(dir, JOURNAL_FILE))).size).toBeGreaterThan(0);
    const again = await fresh();
    expect((await again.stores.threads.current('a/e'))?.key).toBe('t1');
    await again.close();
    expect((await stat(path.join(dir, JOURNAL_FILE))).size).toBe(0);
    expect(JSON.parse(await readFile(path.join(dir, STORE_FILE), 'utf8')).threads.t1.key).toBe('t1');
    expect((await (await fresh()).stores.threads.byKey('t1'))?.key).toBe('t1');
  });

  it('writes only what changed: one journal line per flush, whatever the store holds', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    const s = await fresh();
    for (let i = 0; i < 500; i++) await s.stores.threads.save(thread(`t${i}`, { lastState: undefined, note: 'x'.repeat(500) }));
    await s.stores.flush();
    const before = (await stat(path.join(dir, JOURNAL_FILE))).size;
    await s.stores.threads.bumpCard('t7');
    await s.stores.flush();
    const grown = (await stat(path.join(dir, JOURNAL_FILE))).size - before;
    expect(grown).toBeGreaterThan(0);
    expect(grown).toBeLessThan(2_000);
  });

  it('journals a change as the fields that changed, and replays the same document', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    const s = await fresh();
    const big = { note: 'x'.repeat(5_000) };
    await s.stores.threads.save(thread('t', big));
    await s.stores.envs.update('a/e', { threadKey: 't', missingNoticed: true });
    await s.stores.outbox.enqueue({ id: 't#1', threadKey: 't', channel: 'C1', kind: 'reply', priority: 'normal', text: 'y'.repeat(3_000), createdAt: T0 });
    await s.stores.flush();
    const before = (await stat(path.join(dir, JOURNAL_FILE))).size;
    await s.stores.threads.observed('t', { set: { outcome: 'completed', finishedAt: T0 + 1 }, bumpCard: true });
    await s.stores.threads.recordAction('t', { at: T0 + 2, who: 'U1', what: 'promoted' });
    await s.stores.threads.observed('t', { set: { finishedAt: undefined }, bumpCard: false });
    await s.stores.envs.update('a/e', { missingNoticed: undefined });
    await s.stores.outbox.markAttempted(['t#1'], T0 + 3);
    await s.stores.outbox.clearAttempted(['t#1']);
    await s.stores.threads.markCardSent('t', 3);
    await s.stores.flush();
    // The big fields did not change: they are not written again.
    expect((await stat(path.join(dir, JOURNAL_FILE))).size - before).toBeLessThan(1_000);
    const again = await fresh();
    expect(again.hot.data.threads).toEqual(JSON.parse(JSON.stringify(s.hot.data.threads)));
    expect(again.hot.data.envs).toEqual(JSON.parse(JSON.stringify(s.hot.data.envs)));
    expect(again.hot.data.outbox).toEqual(JSON.parse(JSON.stringify(s.hot.data.outbox)));
    expect(again.hot.data.threads.t).toMatchObject({ outcome: 'completed', cardVersion: 3, cardSent: 3, actions: [{ what: 'promoted' }] });
    expect(again.hot.data.threads.t?.finishedAt).toBeUndefined();
    expect(again.hot.data.envs['a/e']).toEqual({ threadKey: 't' });
  });

  it('moves a settled deploy to this month\'s history segment and still answers for it', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    let now = T0;
    const s = await fresh({ now: () => now, hotForMs: 10 * MIN, everyMs: 0 });
    await s.stores.threads.save(thread('old', { tag: 'abc1234-1', rootTs: '111.1', outcome: 'completed', finishedAt: now }));
    await s.stores.threads.save(thread('live', { startedAt: T0 + 1 }));
    await s.stores.flush();
    expect(Object.keys(s.hot.data.threads).sort()).toEqual(['live', 'old']);
    now += 11 * MIN;
    await s.stores.flush();
    expect(Object.keys(s.hot.data.threads)).toEqual(['live']);
    expect(await segmentsOf()).toEqual(['2026-12.jsonl']);
    for (const store of [s, await fresh({ now: () => now })]) {
      expect((await store.stores.threads.byKey('old'))?.outcome).toBe('completed');
      expect((await store.stores.threads.byRoot('C1', '111.1'))?.key).toBe('old');
      expect((await store.stores.threads.ofEnv('a/e')).map((t) => t.key)).toEqual(['live', 'old']);
      expect((await store.stores.threads.ofEnv('a/e', { limit: 1 })).map((t) => t.key)).toEqual(['live']);
      expect((await store.stores.threads.withTag('a', 'abc1234-1')).map((t) => t.key)).toEqual(['old']);
      expect((await store.stores.threads.open()).map((t) => t.key)).toEqual(['live']);
    }
  });

  it('never moves a deploy still in use: current, with a queued message or a pending confirmation, or a stale card', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    let now = T0;
    const s = await fresh({ now: () => now, hotForMs: 0, everyMs: 0 });
    const done = { outcome: 'completed' as const, finishedAt: T0 - MIN };
    await s.stores.threads.save(thread('current', done));
    await s.stores.envs.update('a/e', { threadKey: 'current' });
    await s.stores.threads.save(thread('queued', done));
    await s.stores.outbox.enqueue({ id: 'queued#x', threadKey: 'queued', channel: 'C1', kind: 'reply', priority: 'normal', text: 'hi', createdAt: now });
    await s.stores.threads.save(thread('stale', { ...done, cardVersion: 3, cardSent: 2 }));
    await s.stores.threads.save(thread('gone', done));
    now += MIN;
    await s.stores.flush();
    await s.stores.flush();
    expect(Object.keys(s.hot.data.threads).sort()).toEqual(['current', 'queued', 'stale']);
  });

  it('brings a finished deploy back when its card changes, and it leaves again once settled', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    let now = T0;
    const s = await fresh({ now: () => now, hotForMs: MIN, everyMs: 0 });
    await s.stores.threads.save(thread('dev', { tag: 't-1', rootTs: '1.1', outcome: 'completed', finishedAt: now }));
    now += 2 * MIN;
    await s.stores.flush();
    expect(s.hot.data.threads.dev).toBeUndefined();
    await s.stores.threads.bumpCardsWithTag({ app: 'a', tag: 't-1', exceptKey: 'qa' });
    expect(s.hot.data.threads.dev?.cardVersion).toBe(2);
    expect((await s.stores.threads.staleCards()).map((t) => t.key)).toEqual(['dev']);
    await s.stores.threads.markCardSent('dev', 2);
    await s.stores.flush();
    await s.stores.flush();
    expect(s.hot.data.threads.dev).toBeUndefined();
    expect((await s.stores.threads.byKey('dev'))?.cardSent).toBe(2);
    expect((await (await fresh({ now: () => now })).stores.threads.byKey('dev'))?.cardSent).toBe(2);
  });

  it('keeps commits and the audit log in the history only, answering by sha prefix within a repo', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    const s = await fresh({ now: () => T0 });
    await s.stores.commits.put({ sha: 'ea11a24000000000000000000000000000000001', repo: 'acme/app', message: 'Fix', authorName: 'Ada', url: 'u', at: T0, source: 'push' });
    await s.stores.commits.put({ sha: 'ea11a24000000000000000000000000000000002', repo: 'acme/other', message: 'Other', authorName: 'Bob', url: 'u', at: T0, source: 'push' });
    expect((await s.stores.commits.bySha('ea11a24', 'acme/app'))?.authorName).toBe('Ada');
    expect(await s.stores.commits.bySha('ea11a24')).toBeUndefined(); // two repos: ambiguous
    await s.stores.audit.append({ at: T0, who: 'U1', source: 'slack', action: 'promote', app: 'a', env: 'e', result: 'ok' });
    await s.stores.audit.append({ at: T0 + 1, who: 'U2', source: 'slack', action: 'lock', app: 'a', env: 'f', result: 'ok' });
    await s.stores.flush();
    expect(s.hot.data.commits).toEqual({});
    expect(s.hot.data.audit).toEqual([]);
    const again = await fresh({ now: () => T0 });
    expect((await again.stores.commits.bySha('ea11a24000000000000000000000000000000002'))?.message).toBe('Other');
    expect((await again.stores.commits.bySha('ea11a240000', 'acme/app'))?.message).toBe('Fix');
    expect((await again.stores.audit.recent()).map((a) => a.who)).toEqual(['U2', 'U1']);
    expect((await again.stores.audit.recent({ env: 'e' })).map((a) => a.who)).toEqual(['U1']);
    expect((await again.stores.audit.recent({ limit: 1 })).map((a) => a.who)).toEqual(['U2']);
  });

  it('compacts the hot file once the journal outgrows it, and reads the same afterwards', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    const s = await fresh({ compactAtBytes: 10_000 });
    for (let i = 0; i < 100; i++) {
      await s.stores.threads.save(thread(`t${i % 5}`, { note: `n${i}`.padEnd(200, '.') }));
      await s.stores.flush();
    }
    expect((await stat(path.join(dir, JOURNAL_FILE))).size).toBeLessThan(10_000);
    const again = await fresh();
    expect((await again.stores.threads.byKey('t4'))?.note?.startsWith('n99')).toBe(true);
  });

  it('drops a torn last journal line with a log line, and keeps every batch before it', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    const s = await fresh();
    await s.stores.threads.save(thread('kept'));
    await s.stores.flush();
    await appendFile(path.join(dir, JOURNAL_FILE), '{"b":99,"o":[["threads","lost",{"key":"lo');
    const log = captureLogger();
    const again = await fresh({ log });
    expect((await again.stores.threads.byKey('kept'))?.key).toBe('kept');
    expect(await again.stores.threads.byKey('lost')).toBeUndefined();
    expect(log.entries.some((e) => e.level === 'warn' && /torn line/.test(e.msg))).toBe(true);
    await again.stores.threads.save(thread('after'));
    await again.stores.flush();
    expect((await (await fresh()).stores.threads.byKey('after'))?.key).toBe('after');
  });

  it('refuses a journal damaged before its last line, and a hot file it cannot read, leaving both untouched', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    const journal = path.join(dir, JOURNAL_FILE);
    await writeFile(journal, 'garbage\n{"b":1,"o":[]}\n');
    await expect(fresh()).rejects.toThrow(/damaged line 1/);
    expect(await readFile(journal, 'utf8')).toBe('garbage\n{"b":1,"o":[]}\n');
    await rm(journal);
    await writeFile(path.join(dir, STORE_FILE), '{"version":1,"thr');
    await expect(fresh()).rejects.toThrow(StoreOpenError);
    expect(await readFile(path.join(dir, STORE_FILE), 'utf8')).toBe('{"version":1,"thr');
  });

  it('drops a torn last line of a history segment with a log line; refuses one damaged in the middle', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    const s = await fresh({ now: () => T0 });
    await s.stores.audit.append({ at: T0, who: 'U1', source: 'slack', action: 'promote', app: 'a', env: 'e', result: 'ok' });
    await s.stores.flush();
    const seg = path.join(dir, HISTORY_DIR, '2026-12.jsonl');
    const intact = await readFile(seg, 'utf8');
    await appendFile(seg, '{"k":"au","t":2,"app":"a","env":"e"}\t{"at":2,"who":"U');
    const log = captureLogger();
    const again = await fresh({ log, now: () => T0 });
    expect((await again.stores.audit.recent()).map((a) => a.who)).toEqual(['U1']);
    expect(log.entries.some((e) => e.level === 'warn' && /torn line/.test(e.msg))).toBe(true);
    expect(await readFile(seg, 'utf8')).toBe(intact);
    await writeFile(seg, `garbage\n${intact}`);
    await expect(fresh()).rejects.toThrow(/history segment .* damaged line 1/);
    expect(await readFile(seg, 'utf8')).toBe(`garbage\n${intact}`);
  });

  it('keeps a change whose write failed and writes it with the next flush', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    const s = await fresh();
    const journal = path.join(dir, JOURNAL_FILE);
    await mkdir(journal); // as a read-only or full volume would: the append fails
    await s.stores.threads.save(thread('t'));
    await expect(s.stores.flush()).rejects.toThrow();
    await rm(journal, { recursive: true });
    await s.stores.flush();
    expect((await (await fresh()).stores.threads.byKey('t'))?.key).toBe('t');
  });

  it('retention deletes whole old segments and never rewrites one', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    let now = Date.parse('2026-08-15T00:00:00Z');
    const s = await fresh({ now: () => now, hotForMs: 0, everyMs: 0 });
    await s.stores.audit.append({ at: now, who: 'U-aug', source: 'slack', action: 'promote', app: 'a', env: 'e', result: 'ok' });
    await s.stores.flush();
    now = Date.parse('2026-12-01T00:00:00Z');
    await s.stores.audit.append({ at: now, who: 'U-dec', source: 'slack', action: 'promote', app: 'a', env: 'e', result: 'ok' });
    await s.stores.flush();
    const december = await readFile(path.join(dir, HISTORY_DIR, '2026-12.jsonl'), 'utf8');
    expect(await segmentsOf()).toEqual(['2026-08.jsonl', '2026-12.jsonl']);
    const counts = await s.stores.prune({ now, days: 90 });
    expect(counts.audit).toBe(1);
    expect(await segmentsOf()).toEqual(['2026-12.jsonl']);
    expect(await readFile(path.join(dir, HISTORY_DIR, '2026-12.jsonl'), 'utf8')).toBe(december);
    expect((await s.stores.audit.recent()).map((a) => a.who)).toEqual(['U-dec']);
  });

  it('forgets what retention dropped across a restart, but keeps an old-dated commit stored after it', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    const now = Date.parse('2026-12-20T00:00:00Z');
    const s = await fresh({ now: () => now });
    // Same segment (December): one entry past the 10-day retention, one within it.
    await s.stores.audit.append({ at: Date.parse('2026-12-01T00:00:00Z'), who: 'U-old', source: 'slack', action: 'promote', app: 'a', env: 'e', result: 'ok' });
    await s.stores.audit.append({ at: Date.parse('2026-12-15T00:00:00Z'), who: 'U-new', source: 'slack', action: 'promote', app: 'a', env: 'e', result: 'ok' });
    await s.stores.flush();
    expect((await s.stores.prune({ now, days: 10 })).audit).toBe(1);
    // A rollback deploys a commit made long ago: its record is dated then, but it was stored after the prune.
    await s.stores.commits.put({ sha: 'ab12cd3'.padEnd(40, '0'), repo: 'acme/app', message: 'Old but wanted', authorName: 'Ada', url: 'u', at: Date.parse('2026-01-05T00:00:00Z'), source: 'api' });
    await s.stores.flush();
    const again = await fresh({ now: () => now });
    expect((await again.stores.audit.recent()).map((a) => a.who)).toEqual(['U-new']);
    expect((await again.stores.commits.bySha('ab12cd3', 'acme/app'))?.message).toBe('Old but wanted');
  });

  it('converts a DATA_DIR written by the first version on first start, and only once', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    await cp(path.resolve('test/fixtures/store-v1/data'), dir, { recursive: true });
    const v1 = JSON.parse(await readFile(path.join(dir, LEGACY_ARCHIVE_FILE), 'utf8')) as { threads: Record<string, ThreadRecord> };
    const now = Date.parse('2026-11-20T10:01:00Z');
    const s = await fresh({ now: () => now });
    const check = async (store: typeof s) => {
      for (const key of Object.keys(v1.threads)) expect((await store.stores.threads.byKey(key))?.key).toBe(key);
      expect((await store.stores.threads.current('voting01/qa'))?.key).toBe('voting01/qa/uid-1/r2');
      expect((await store.stores.threads.ofEnv('voting01/dev')).length).toBe(30);
      expect((await store.stores.commits.bySha('ea11a29', 'acme/voting01'))?.authorLogin).toBe('ada');
      expect((await store.stores.commits.bySha('ffff000000000000000000000000000000000001'))?.source).toBe('api');
      expect((await store.stores.audit.recent()).map((a) => a.action)).toEqual(['lock', 'promote', 'promote', 'promote', 'promote', 'promote']);
      expect((await store.stores.confirmations.get('c-live'))?.status).toBe('pending');
      expect((await store.stores.outbox.all()).map((e) => e.id)).toEqual(['voting01/qa/uid-1/r2#paused:1:1']);
      expect(await store.stores.claims.claim('slack:trigger:123.456', now)).toBe(false);
      expect(await store.stores.installations.get('acme/voting01')).toBe(42);
    };
    await check(s);
    await s.close();
    expect((await readdir(dir)).filter((n) => n !== JOURNAL_FILE).sort()).toEqual([HISTORY_DIR, STORE_FILE, 'rollout-chatops-archive.json.migrated', 'rollout-chatops-commits.json.migrated'].sort());
    const hot = JSON.parse(await readFile(path.join(dir, STORE_FILE), 'utf8'));
    expect(hot.audit).toEqual([]);
    expect(hot.commits).toEqual({});
    const again = await fresh({ now: () => now });
    await check(again);
    expect(await segmentsOf()).toEqual(['0000-legacy-v1.jsonl']);
  });
});
