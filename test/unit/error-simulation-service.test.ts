import { describe, expect, it } from 'vitest';
import { ServiceError, type ErrorSimulator } from '../../src/core/ports.js';
import { silentLogger } from '../../src/core/logger.js';
import { ErrorSimulationService } from '../../src/core/error-simulation/error-simulation-service.js';
import { createDocumentStores } from '../../src/adapters/store/document-stores.js';
import { ThreadKernel } from '../../src/core/threads/thread-kernel.js';
import { ManualClock } from '../support/manual-clock.js';
import { canaryState, catalogFrom, makeCurrent, memoryStore, threadOf } from '../support/state-builders.js';

const URL_ = 'http://errorsim.test/api/error-sim';
const CONFIG = `
apps:
  - name: voting01
    repo: acme/voting01
    image: { ecrRepository: voting01-vote }
    environments:
      - name: qa
        namespace: voting01-qa
        rollout: vote
        slackChannel: C0QA
        errorSimulation: { url: ${URL_}, ttl: 15m }
`;
const MIN = 60_000;

/** The endpoint's toggle semantics in memory; `down` makes every call fail like an unreachable host. */
class FakeEndpoint implements ErrorSimulator {
  enabled = false;
  down = false;
  /** Reads fail once a toggle went out (the app restarts after the switch, say). */
  downAfterToggle = false;
  calls: string[] = [];
  async get(): Promise<boolean> {
    this.calls.push('GET');
    if (this.down || (this.downAfterToggle && this.calls.includes('POST'))) throw new ServiceError('error simulation', 'GET failed: ECONNREFUSED');
    return this.enabled;
  }
  async toggle(): Promise<boolean> {
    this.calls.push('POST');
    if (this.down) throw new ServiceError('error simulation', 'POST failed: ECONNREFUSED');
    await Promise.resolve();
    this.enabled = !this.enabled;
    return this.enabled;
  }
}

function setup(store = memoryStore()) {
  const clock = new ManualClock();
  const endpoint = new FakeEndpoint();
  const catalog = catalogFrom(CONFIG);
  if (!Object.keys(store.data.threads).length) makeCurrent(store.data, threadOf(canaryState()));
  /** The replies queued in the outbox, in order. */
  const replies = () => store.data.outbox.filter((e) => e.kind === 'reply').map((e) => e.text);
  const stores = createDocumentStores(store);
  const kernel = new ThreadKernel({ stores, clock, onChange: () => {} });
  const service = new ErrorSimulationService({ catalog, stores, kernel, clock, log: silentLogger, simulator: endpoint, onChange: () => {}, permalink: () => 'https://slack.example/x' });
  const target = catalog.target('voting01', 'qa')!;
  const lead = { by: 'U0LEAD', source: 'slack' as const, why: 'command' as const };
  return { clock, endpoint, store, replies, service, target, lead };
}

describe('ErrorSimulationService', () => {
  it('switches errors off at the TTL deadline with one toggle, and says so', async () => {
    const { clock, endpoint, store, replies, service, target, lead } = setup();
    await service.switchOn(target, lead);
    expect(store.data.errorSims?.['voting01/qa']?.offAt).toBe(clock.now() + 15 * MIN);
    await clock.advance(15 * MIN - 1);
    expect(endpoint.enabled).toBe(true);
    await clock.advance(1);
    expect(endpoint.enabled).toBe(false);
    expect(endpoint.calls).toEqual(['GET', 'POST', 'GET', 'GET', 'POST', 'GET']);
    expect(replies().at(-1)).toContain('switched *off* by themselves');
    expect(store.data.errorSims).toEqual({});
  });

  it('arms the stored deadline after a restart', async () => {
    const first = setup();
    await first.service.switchOn(first.target, first.lead);
    await first.service.stop();
    const again = setup(first.store);
    again.endpoint.enabled = true;
    await again.service.resume();
    await again.clock.advance(16 * MIN);
    expect(again.endpoint.calls).toEqual(['GET', 'POST', 'GET']);
    expect(again.endpoint.enabled).toBe(false);
  });

  it('retries a failed switch-off after the deadline, telling the thread once', async () => {
    const { clock, endpoint, store, replies, service, target, lead } = setup();
    await service.switchOn(target, lead);
    endpoint.down = true;
    await clock.advance(15 * MIN);
    await clock.advance(30_000);
    await clock.advance(30_000);
    expect(replies().filter((r) => r.includes('should have switched off'))).toHaveLength(1);
    expect(store.data.errorSims?.['voting01/qa']?.offError).toContain('ECONNREFUSED');
    endpoint.down = false;
    await clock.advance(30_000);
    expect(endpoint.enabled).toBe(false);
    expect(store.data.errorSims).toEqual({});
    expect(replies().at(-1)).toContain('switched *off* by themselves');
  });

  it('toggles once when two people ask for errors on at the same moment', async () => {
    const { endpoint, service, target, lead } = setup();
    const [a, b] = await Promise.all([service.switchOn(target, lead), service.switchOn(target, { ...lead, by: 'U2' })]);
    expect(endpoint.calls.filter((c) => c === 'POST')).toHaveLength(1);
    expect(endpoint.enabled).toBe(true);
    expect([a.ok && a.changed, b.ok && b.changed].sort()).toEqual([false, true]);
  });

  it('takes over the deadline of errors switched on outside the bot, without toggling', async () => {
    const { clock, endpoint, store, service, target, lead } = setup();
    endpoint.enabled = true;
    const out = await service.switchOn(target, lead);
    expect(out).toMatchObject({ ok: true, changed: false, adopted: true });
    expect(endpoint.calls).toEqual(['GET']);
    expect(store.data.errorSims?.['voting01/qa']).toMatchObject({ adopted: true, offAt: clock.now() + 15 * MIN });
  });

  it('reports an unknown state when the confirming read fails, and still arms the deadline', async () => {
    const { clock, endpoint, store, service, target } = setup();
    endpoint.downAfterToggle = true;
    const reply = await service.command({ action: 'on', target, ctx: { source: 'slack', user: 'U0LEAD' } });
    expect(reply.text).toContain('reading the state afterwards failed');
    expect(reply.text).toContain('Errors may be on: they switch off by themselves at 09:15 UTC at the latest');
    expect(reply.text).not.toContain('&lt;');
    expect(store.data.errorSims?.['voting01/qa']?.offAt).toBe(clock.now() + 15 * MIN);
    expect(endpoint.calls.filter((c) => c === 'POST')).toHaveLength(1);
  });

  it('never toggles when it cannot read the state first', async () => {
    const { endpoint, service, target, lead } = setup();
    endpoint.down = true;
    const out = await service.switchOn(target, lead);
    expect(out).toMatchObject({ ok: false, posted: false });
    expect(endpoint.calls).toEqual(['GET']);
  });

  it('bumps the card when the banner appears and when it goes', async () => {
    const { store, service, target, lead } = setup();
    // The store replaces a record it changes: look it up each time.
    const thread = () => Object.values(store.data.threads)[0]!;
    const v0 = thread().cardVersion;
    await service.switchOn(target, lead);
    expect(thread().cardVersion).toBeGreaterThan(v0);
    const v1 = thread().cardVersion;
    await service.switchOff(target, lead);
    expect(thread().cardVersion).toBeGreaterThan(v1);
  });
});
