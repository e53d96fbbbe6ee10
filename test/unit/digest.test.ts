import { describe, expect, it } from 'vitest';
import { buildDigest } from '../../src/core/digest/build-digest.js';
import { DigestJob } from '../../src/core/digest/digest-job.js';
import { readDigestFacts } from '../../src/core/digest/read-digest-facts.js';
import { emptyStoreData, type StoreData } from '../../src/core/store-data.js';
import { createDocumentStores } from '../../src/adapters/store/document-stores.js';
import { ManualClock } from '../support/manual-clock.js';
import { abortedState, canaryState, catalogFrom, makeCurrent, memoryStore, threadOf } from '../support/state-builders.js';

const CONFIG = `
apps:
  - name: voting01
    repo: acme/voting01
    image: { ecrRepository: voting01-vote }
    environments:
      - { name: dev, namespace: voting01-dev, rollout: vote, slackChannel: C0DEV }
      - { name: qa, namespace: voting01-qa, rollout: vote, slackChannel: C0QA }
      - { name: staging, namespace: voting01-staging, rollout: vote, slackChannel: C0STAGING }
  - name: result
    repo: acme/result
    image: { ecrRepository: result }
    environments:
      - { name: dev, namespace: result-dev, rollout: result, slackChannel: C0DEV }
digest: { cron: "0 9 * * 1-5", channel: C0DEPLOYS }
`;
const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);
const HOUR = 3_600_000;
const permalink = (c: string, ts: string) => `https://slack.example/${c}/${ts}`;

/** The digest of the store document `d`, read through the store ports. */
async function digestOf(d: StoreData) {
  const catalog = catalogFrom(CONFIG);
  return buildDigest({ catalog, facts: await readDigestFacts({ stores: createDocumentStores(memoryStore(d)), catalog }), now: NOW, permalink });
}

function data() {
  const d = emptyStoreData();
  const completed = canaryState({ namespace: 'voting01-dev', phase: 'Healthy', message: '', pauseReasons: [], fullyPromoted: true });
  makeCurrent(d, threadOf(completed, { key: 'voting01/dev/x/r2', env: 'dev', channel: 'C0DEV', outcome: 'completed', startedAt: NOW - 3 * HOUR, commitSha: 'ea11a24ffff' }));
  d.commits.ea11a24ffff = { sha: 'ea11a24ffff', repo: 'acme/voting01', message: 'Fix', authorName: 'Ada Lovelace', authorLogin: 'ada', url: 'https://github.com/x', at: NOW - 4 * HOUR, source: 'push' };
  makeCurrent(d, threadOf(canaryState(), { startedAt: NOW - 2 * HOUR }));
  d.errorSims = { 'voting01/qa': { app: 'voting01', env: 'qa', since: NOW - 60_000, by: 'U0LEAD', offAt: NOW + 14 * 60_000 } };
  d.envs['voting01/staging'] = { missingNoticed: true };
  d.envs['result/dev'] = { baseline: { ...canaryState({ namespace: 'result-dev', name: 'result' }), images: [{ container: 'r', image: 'r:1.2.3', tag: '1.2.3' }] } };
  return d;
}

describe('buildDigest', () => {
  it('lists every app and environment with tag, author, age and state', async () => {
    const { text } = await digestOf(data());
    expect(text.split('\n')).toEqual([
      '📋 *Deploy digest* · 2026-11-23',
      '*voting01*',
      '• *dev* · `ea11a24-1` · Ada Lovelace (@ada) · 3 h ago · ✅ completed · <https://slack.example/C0DEV/1700000000.000100|thread>',
      '• *qa* · `ea11a24-1` · author unknown · 2 h ago · ⏸ waiting for promotion · 🧪 errors on · <https://slack.example/C0QA/1700000000.000100|thread>',
      '• *staging* · ⚠️ rollout not found',
      '*result*',
      '• *dev* · `1.2.3` · author unknown · deployed before I watched · ✅ stable',
    ]);
  });

  it('says why a deploy aborted, and shows canary progress', async () => {
    const d = emptyStoreData();
    makeCurrent(d, threadOf(abortedState(), { outcome: 'aborted' }));
    makeCurrent(d, threadOf(canaryState({ namespace: 'voting01-dev', pauseReasons: [], phase: 'Progressing', canary: { ...canaryState().canary!, stepIndex: 0 } }), { key: 'k-dev', env: 'dev' }));
    const { text } = await digestOf(d);
    expect(text).toContain('🛑 aborted: Rollout aborted update to revision 2: Step-based analysis phase failed: boom');
    expect(text).toContain('🔄 in progress (step 1/4 (setWeight: 20) · set weight 20%)');
  });
});

describe('DigestJob', () => {
  it('queues the digest as a channel message, once per scheduled slot', async () => {
    const clock = new ManualClock(NOW);
    const store = memoryStore(data());
    let kicks = 0;
    const job = new DigestJob({ catalog: catalogFrom(CONFIG), stores: createDocumentStores(store), clock, channel: 'C0DEPLOYS', permalink, onChange: () => kicks++ });
    expect(await job.run(NOW)).toBe(true);
    expect(await job.run(NOW)).toBe(false);
    const [entry] = store.data.outbox;
    expect(entry).toMatchObject({ channel: 'C0DEPLOYS', kind: 'notice', id: 'notice/digest:2026-11-23T09:00:00' });
    expect(entry!.text).toContain('Deploy digest');
    expect(store.data.outbox).toHaveLength(1);
    expect(kicks).toBe(1);
    await clock.advance(24 * HOUR);
    expect(await job.run(clock.now())).toBe(true);
    expect(store.data.outbox).toHaveLength(2);
  });
});
