import { describe, expect, it } from 'vitest';
import { createDocumentStores } from '../../src/adapters/store/document-stores.js';
import { readErrorSimBanner } from '../../src/core/error-simulation/read-error-sim-banner.js';
import { createCardRenderer } from '../../src/core/rollout-threads/create-card-renderer.js';
import { emptyStoreData, type StoreData, type ThreadRecord } from '../../src/core/store-data.js';
import { canaryState, catalogFrom, makeCurrent, memoryStore, threadOf } from '../support/state-builders.js';

const SINCE = Date.UTC(2026, 10, 22, 9, 0, 0);

function setup() {
  const data = emptyStoreData();
  const thread = makeCurrent(data, threadOf(canaryState()));
  data.errorSims = { 'voting01/qa': { app: 'voting01', env: 'qa', since: SINCE, by: 'U0LEAD', offAt: SINCE + 15 * 60_000, threadKey: thread.key } };
  return { data, thread };
}

/** The banner of `thread`'s card, read from the document `data` through the store ports. */
function errorSimBanner(thread: ThreadRecord, data: StoreData) {
  return readErrorSimBanner(createDocumentStores(memoryStore(data)), thread);
}

describe('errorSimBanner', () => {
  it('says since when, by whom and when errors switch off', async () => {
    const { data, thread } = setup();
    expect(await errorSimBanner(thread, data)).toBe(
      '🧪 *Errors ON*: the app fails on purpose since <!date^1795338000^{time}|09:00 UTC> (by <@U0LEAD>) · switching off at <!date^1795338900^{time}|09:15 UTC>, or `/errors off qa`',
    );
  });

  it('is absent when errors are off, and on threads that are not the current one', async () => {
    const { data, thread } = setup();
    expect(await errorSimBanner(threadOf(canaryState(), { key: 'older' }), data)).toBeUndefined();
    data.errorSims = {};
    expect(await errorSimBanner(thread, data)).toBeUndefined();
  });

  it('tops the card when given to the card renderer', async () => {
    const { data, thread } = setup();
    const catalog = catalogFrom(`
apps:
  - name: voting01
    repo: acme/voting01
    image: { ecrRepository: voting01-vote }
    environments:
      - { name: qa, namespace: voting01-qa, rollout: vote, slackChannel: C0QA }
`);
    const stores = createDocumentStores(memoryStore(data));
    const card = await createCardRenderer({ stores, catalog, permalink: () => '', banner: (t) => readErrorSimBanner(stores, t) })(thread);
    expect(JSON.stringify(card.blocks![0])).toContain('Errors ON');
  });
});
