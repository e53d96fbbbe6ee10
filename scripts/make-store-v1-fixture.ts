/**
 * Writes test/fixtures/store-v1/data: a DATA_DIR as the store of the first versions writes it (a hot file, an archive
 * of finished deploys and a commits file), made with that store's own code (`openJsonStore`, `createDocumentStores`)
 * at commit "Store fixture: a DATA_DIR written by the v1 store". The migration test opens a copy with today's store.
 * This script only runs at that commit (the v1 store is gone after it); it is kept as the record of how the copy was made.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { openJsonStore } from '../src/adapters/store/open-json-store.js';
import { createDocumentStores } from '../src/adapters/store/document-stores.js';
import { abortedState, canaryState, threadOf } from '../test/support/state-builders.js';

const dir = path.resolve('test/fixtures/store-v1/data');
await rm(dir, { recursive: true, force: true });
await mkdir(dir, { recursive: true });
const DAY = 86_400_000;
let now = Date.parse('2026-11-20T10:00:00Z');
const store = await openJsonStore(dir, { now: () => now, archiveEveryMs: 0, hotForMs: 10 * 60_000, commitsEveryMs: 0, minWriteIntervalMs: 0 });
const s = createDocumentStores(store);
const done = { ...canaryState({ phase: 'Healthy', message: undefined, pauseReasons: [], controllerPause: false, fullyPromoted: true }) };
// Finished deploys of dev (two days ago) and qa (an abort, yesterday): they go to the archive.
for (let i = 0; i < 30; i++) {
  const t = threadOf(done, { key: `voting01/dev/uid-d/r${i + 1}`, env: 'dev', namespace: 'voting01-dev', channel: 'C0DEV', revision: String(i + 1), uid: 'uid-d', tag: `ea11a${String(i).padStart(2, '0')}-1`, rootTs: `1700000${i}.000100`, startedAt: now - 2 * DAY + i * 60_000, createdAt: now - 2 * DAY + i * 60_000, outcome: 'completed', finishedAt: now - 2 * DAY + i * 60_000 + 30_000, commitSha: i === 29 ? 'ea11a2900000000000000000000000000000beef' : undefined, actions: [{ at: now - 2 * DAY, who: 'U0ALICE', what: 'promoted' }] });
  await s.threads.save(t);
}
await s.threads.save(threadOf(abortedState(), { key: 'voting01/qa/uid-1/r1', revision: '1', startedAt: now - DAY, createdAt: now - DAY, outcome: 'aborted', finishedAt: now - DAY + 60_000 }));
// qa's current deploy, waiting for promotion, with a pending confirmation and a queued reply.
const live = threadOf(canaryState(), { key: 'voting01/qa/uid-1/r2', startedAt: now - 60_000, createdAt: now - 60_000, tag: 'ea11a29-1', commitSha: 'ea11a2900000000000000000000000000000beef' });
await s.threads.save(live);
await s.envs.update('voting01/qa', { threadKey: live.key });
await s.envs.update('voting01/dev', { threadKey: 'voting01/dev/uid-d/r30' });
await s.confirmations.open({ id: 'c-live', kind: 'promote', threadKey: live.key, app: 'voting01', env: 'qa', requestedBy: 'U0ALICE', requestedAt: now - 30_000, expiresAt: now + 10 * 60_000, status: 'pending', tag: 'ea11a29-1', full: false, force: false, channel: 'C0QA', threadTs: live.rootTs! } as never, () => false);
await s.outbox.enqueue({ id: `${live.key}#paused:1:1`, threadKey: live.key, channel: 'C0QA', kind: 'reply', priority: 'high', text: 'Paused at step 2/4: waiting for promotion', createdAt: now - 20_000 });
await s.commits.put({ sha: 'ea11a2900000000000000000000000000000beef', repo: 'acme/voting01', message: 'Fix the vote button', authorName: 'Ada Lovelace', authorLogin: 'ada', url: 'https://github.com/acme/voting01/commit/ea11a29', at: now - 3 * DAY, source: 'push' });
await s.commits.put({ sha: 'ffff000000000000000000000000000000000001', repo: 'acme/voting01', message: 'Older', authorName: 'Bob', url: 'https://github.com/acme/voting01/commit/ffff000', at: now - 4 * DAY, source: 'api' });
for (let i = 0; i < 5; i++) await s.audit.append({ at: now - 2 * DAY + i, who: 'U0ALICE', source: 'slack', action: 'promote', app: 'voting01', env: 'dev', tag: `ea11a${String(i).padStart(2, '0')}-1`, result: 'promoted' });
await s.audit.append({ at: now - 60_000, who: 'U0BOB', source: 'github', action: 'lock', app: 'voting01', env: 'qa', result: 'locked' });
await s.claims.claim('slack:trigger:123.456', now - 5_000);
await s.claims.claim('github:delivery:abc-1', now - 4_000);
await s.dispatches.set('voting01/qa/ea11a29-1', { app: 'voting01', env: 'qa', tag: 'ea11a29-1', workflow: 'deploy.yml', at: now - 70_000, by: 'chain', fromThreadKey: 'voting01/dev/uid-d/r30', announced: true });
await s.installations.set('acme/voting01', 42);
await s.flush();
await store.close();
console.log(`wrote ${dir}`);
