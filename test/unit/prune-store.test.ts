import { describe, expect, it } from 'vitest';
import { createDocumentStores } from '../../src/adapters/store/document-stores.js';
import { emptyStoreData, type StoreData } from '../../src/core/store-data.js';
import { canaryState, memoryStore, threadOf } from '../support/state-builders.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 22);

function old(key: string, o: Parameters<typeof threadOf>[1] = {}) {
  return threadOf(canaryState(), { key, startedAt: NOW - 200 * DAY, finishedAt: NOW - 100 * DAY, outcome: 'completed', ...o });
}

function store(): StoreData {
  const d = emptyStoreData();
  for (const t of [old('old'), old('current'), old('outboxed'), old('recent', { finishedAt: NOW - 10 * DAY }), old('drilled'), old('with-commit', { commitSha: 'keepme' })]) d.threads[t.key] = t;
  d.threads['with-commit']!.finishedAt = NOW - DAY;
  d.envs['voting01/qa'] = { threadKey: 'current' };
  d.outbox.push({ id: 'outboxed#x', threadKey: 'outboxed', channel: 'C0QA', kind: 'reply', priority: 'normal', text: 'x', seq: 1, createdAt: NOW, attempts: 0 });
  d.drills = { d1: { id: 'd1', app: 'voting01', env: 'qa', threadKey: 'drilled', startedBy: 'U1', startedAt: NOW - 200 * DAY, deadline: 0, status: 'running' } };
  d.commits = {
    oldsha: { sha: 'oldsha', repo: 'a/b', message: 'm', authorName: 'A', url: 'u', at: NOW - 100 * DAY, source: 'push' },
    keepme: { sha: 'keepme', repo: 'a/b', message: 'm', authorName: 'A', url: 'u', at: NOW - 100 * DAY, source: 'push' },
    newsha: { sha: 'newsha', repo: 'a/b', message: 'm', authorName: 'A', url: 'u', at: NOW - DAY, source: 'push' },
  };
  d.seen = { old: NOW - 91 * DAY, new: NOW - DAY };
  d.audit = [{ at: NOW - 91 * DAY, who: 'U1', source: 'slack', action: 'promote', app: 'voting01', env: 'qa', result: 'ok' }, { at: NOW - DAY, who: 'U1', source: 'slack', action: 'promote', app: 'voting01', env: 'qa', result: 'ok' }];
  d.reminders = { old: { wait: 'w', since: 0, sent: 2 }, current: { wait: 'w', since: 0, sent: 1 } };
  return d;
}

/** Prunes the document `d` through the store port. */
function pruneStore(d: StoreData, o: { now: number; days: number }) {
  return createDocumentStores(memoryStore(d)).prune(o);
}

describe('Stores.prune (document store)', () => {
  it('prunes old threads, but never a current one, one with pending messages or a running drill', async () => {
    const d = store();
    await pruneStore(d, { now: NOW, days: 90 });
    expect(Object.keys(d.threads).sort()).toEqual(['current', 'drilled', 'outboxed', 'recent', 'with-commit']);
  });

  it('prunes old audit entries, commits no kept thread points at, dedupe marks and orphan reminder marks', async () => {
    const d = store();
    const counts = await pruneStore(d, { now: NOW, days: 90 });
    expect(d.audit).toHaveLength(1);
    expect(Object.keys(d.commits).sort()).toEqual(['keepme', 'newsha']);
    expect(Object.keys(d.seen)).toEqual(['new']);
    expect(Object.keys(d.reminders!)).toEqual(['current']);
    expect(counts).toMatchObject({ threads: 1, audit: 1, commits: 1, seen: 1 });
  });

  it('keeps everything younger than the retention', async () => {
    const d = store();
    await pruneStore(d, { now: NOW, days: 365 });
    expect(Object.keys(d.threads)).toHaveLength(6);
    expect(d.audit).toHaveLength(2);
  });
});
