import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ARCHIVE_FILE, COMMITS_FILE, STORE_FILE, StoreOpenError, openJsonStore } from '../../src/adapters/store/open-json-store.js';
import type { ThreadRecord } from '../../src/core/store-data.js';

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function thread(key: string, o: Partial<ThreadRecord> = {}): ThreadRecord {
  return { key, app: 'a', env: 'e', namespace: 'n', rollout: 'r', revision: '1', channel: 'C1', createdAt: 0, startedAt: 0, attempt: 1, announced: ['x'], cardVersion: 1, cardSent: 1, actions: [], ...o };
}

describe('the JSON store', () => {
  it('keeps what was flushed across a reopen', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    const s = await openJsonStore(dir);
    s.data.threads.t1 = thread('t1');
    await s.flush();
    const again = await openJsonStore(dir);
    expect(again.data.threads.t1?.key).toBe('t1');
  });

  it('moves finished deploys to the archive file and reads them back', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    let now = 1_000_000_000;
    const s = await openJsonStore(dir, { now: () => now, archiveEveryMs: 0, hotForMs: 60_000 });
    s.data.threads.old = thread('old', { outcome: 'completed', finishedAt: now - 120_000 });
    s.data.threads.live = thread('live');
    await s.flush();
    const hot = JSON.parse(await readFile(path.join(dir, STORE_FILE), 'utf8'));
    const archive = JSON.parse(await readFile(path.join(dir, ARCHIVE_FILE), 'utf8'));
    expect(Object.keys(hot.threads)).toEqual(['live']);
    expect(Object.keys(archive.threads)).toEqual(['old']);
    now += 1000;
    const again = await openJsonStore(dir, { now: () => now });
    expect(Object.keys(again.data.threads).sort()).toEqual(['live', 'old']);
  });

  it('keeps commits in their own file, out of the hot file, and reads them back', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    const s = await openJsonStore(dir, { commitsEveryMs: 0 });
    s.data.commits.ea11a24 = { sha: 'ea11a24', repo: 'acme/voting01', message: 'Fix', authorName: 'Ada', url: 'https://x', at: 1, source: 'push' };
    await s.flush();
    expect(JSON.parse(await readFile(path.join(dir, STORE_FILE), 'utf8')).commits).toEqual({});
    expect(Object.keys(JSON.parse(await readFile(path.join(dir, COMMITS_FILE), 'utf8')))).toEqual(['ea11a24']);
    const again = await openJsonStore(dir);
    expect(again.data.commits.ea11a24?.authorName).toBe('Ada');
  });

  it('never loses a deploy between the two files: one in both reads once', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    const t = thread('t', { outcome: 'completed', finishedAt: 1 });
    await writeFile(path.join(dir, ARCHIVE_FILE), JSON.stringify({ version: 1, auditCutoff: 0, threads: { t }, audit: [], commits: {} }));
    await writeFile(path.join(dir, STORE_FILE), JSON.stringify({ version: 1, seq: 1, threads: { t: { ...t, note: 'hot copy wins' } }, envs: {}, outbox: [] }));
    const s = await openJsonStore(dir);
    expect(Object.keys(s.data.threads)).toEqual(['t']);
    expect(s.data.threads.t?.note).toBe('hot copy wins');
  });

  it('refuses an archive it cannot read and leaves it untouched', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-'));
    await writeFile(path.join(dir, ARCHIVE_FILE), '{"version":1,"thr');
    await expect(openJsonStore(dir)).rejects.toThrow(StoreOpenError);
    expect(await readFile(path.join(dir, ARCHIVE_FILE), 'utf8')).toBe('{"version":1,"thr');
  });
});
