import { describe, expect, it } from 'vitest';
import { createDocumentStores } from '../../src/adapters/store/document-stores.js';
import type { StateStore } from '../../src/adapters/store/state-store.js';
import { ReminderService } from '../../src/core/reminders/reminder-service.js';
import { ThreadKernel } from '../../src/core/threads/thread-kernel.js';
import { ManualClock } from '../support/manual-clock.js';
import { canaryState, catalogFrom, makeCurrent, memoryStore, threadOf } from '../support/state-builders.js';

const CONFIG = `
apps:
  - name: voting01
    repo: acme/voting01
    image: { ecrRepository: voting01-vote }
    environments:
      - { name: qa, namespace: voting01-qa, rollout: vote, slackChannel: C0QA, approvers: { slackUsers: [U0LEAD] } }
`;
const MIN = 60_000;

/** A reminder service over the store's ports, as the composition root builds it. */
function serviceOver(store: StateStore, clock: ManualClock): ReminderService {
  const stores = createDocumentStores(store);
  return new ReminderService({ catalog: catalogFrom(CONFIG), stores, kernel: new ThreadKernel({ stores, clock, onChange: () => {} }), clock, afterMs: 30 * MIN });
}

function setup() {
  const clock = new ManualClock();
  const store = memoryStore();
  /** The replies queued in the outbox, by key. */
  const replies = () => store.data.outbox.filter((e) => e.kind === 'reply').map((e) => ({ key: e.id.slice(e.threadKey.length + 1), text: e.text }));
  const thread = makeCurrent(store.data, threadOf(canaryState({ pausedSince: new Date(clock.now()).toISOString() })));
  const service = serviceOver(store, clock);
  return { clock, store, replies, service, thread };
}

describe('ReminderService', () => {
  it('queues the reminder in the current thread, naming the command and the approvers', async () => {
    const { clock, replies, service } = setup();
    await clock.advance(31 * MIN);
    expect(await service.sweep()).toBe(1);
    expect(replies()).toHaveLength(1);
    expect(replies()[0]!.text).toBe('⏰ Reminder: voting01 qa has been waiting for promotion for 31m. To continue: `/promote qa` · to stop: `/rollout abort qa` · approvers: <@U0LEAD>.');
  });

  it('keeps its marks in the store, so a new service (a restart) does not repeat a reminder', async () => {
    const { clock, store, replies, service } = setup();
    await clock.advance(31 * MIN);
    await service.sweep();
    const again = serviceOver(store, clock);
    expect(await again.sweep()).toBe(0);
    await clock.advance(90 * MIN);
    expect(await again.sweep()).toBe(1);
    await clock.advance(24 * 60 * MIN);
    expect(await again.sweep()).toBe(0);
    expect(replies().map((r) => r.text.split(':')[0])).toEqual(['⏰ Reminder', '⏰ Last reminder']);
    expect(store.data.reminders?.[Object.keys(store.data.threads)[0]!]?.sent).toBe(2);
  });
});
