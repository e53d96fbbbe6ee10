import { describe, expect, it } from 'vitest';
import { errorSimBanner } from '../../src/core/error-simulation/error-sim-banner.js';
import { cardExtras } from '../../src/core/rollout-threads/card-extras.js';
import { renderCard } from '../../src/core/rollout-threads/render-card.js';
import { emptyStoreData } from '../../src/core/store-data.js';
import { canaryState, catalogFrom, makeCurrent, threadOf } from '../support/state-builders.js';

const SINCE = Date.UTC(2026, 10, 22, 9, 0, 0);

function setup() {
  const data = emptyStoreData();
  const thread = makeCurrent(data, threadOf(canaryState()));
  data.errorSims = { 'voting01/qa': { app: 'voting01', env: 'qa', since: SINCE, by: 'U0LEAD', offAt: SINCE + 15 * 60_000, threadKey: thread.key } };
  return { data, thread };
}

describe('errorSimBanner', () => {
  it('says since when, by whom and when errors switch off', () => {
    const { data, thread } = setup();
    expect(errorSimBanner(thread, data)).toBe(
      '🧪 *Errors ON*: the app fails on purpose since <!date^1795338000^{time}|09:00 UTC> (by <@U0LEAD>) · switching off at <!date^1795338900^{time}|09:15 UTC>, or `/errors off qa`',
    );
  });

  it('is absent when errors are off, and on threads that are not the current one', () => {
    const { data, thread } = setup();
    expect(errorSimBanner(threadOf(canaryState(), { key: 'older' }), data)).toBeUndefined();
    data.errorSims = {};
    expect(errorSimBanner(thread, data)).toBeUndefined();
  });

  it('tops the card when passed to cardExtras', () => {
    const { data, thread } = setup();
    const catalog = catalogFrom(`
apps:
  - name: voting01
    repo: acme/voting01
    image: { ecrRepository: voting01-vote }
    environments:
      - { name: qa, namespace: voting01-qa, rollout: vote, slackChannel: C0QA }
`);
    const card = renderCard(thread, catalog.target('voting01', 'qa'), cardExtras(thread, { data, catalog, permalink: () => '', banner: errorSimBanner(thread, data) }));
    expect(JSON.stringify(card.blocks![0])).toContain('Errors ON');
  });
});
