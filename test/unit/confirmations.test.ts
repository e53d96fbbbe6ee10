import { describe, expect, it } from 'vitest';
import { describeRequest } from '../../src/core/promotion/describe-request.js';
import { createDocumentStores } from '../../src/adapters/store/document-stores.js';
import { emptyStoreData, type Confirmation } from '../../src/core/store-data.js';
import { openConfirmation } from '../../src/core/promotion/open-confirmation.js';
import { pickConfirmation } from '../../src/core/promotion/pick-confirmation.js';

const NOW = 1_800_000_000_000;

function request(o: Partial<Confirmation> & { requestedBy: string }): Omit<Confirmation, 'id' | 'requestedAt' | 'expiresAt' | 'status'> {
  return { threadKey: 't1', app: 'voting01', env: 'qa', action: 'promote', full: false, force: false, snapshot: { phase: 'Paused', pauseReasons: [], aborted: false, specPaused: false }, describe: 'continues', ...o };
}

function open(data: ReturnType<typeof emptyStoreData>, at: number, o: Parameters<typeof request>[0]) {
  return openConfirmation(createDocumentStores({ data, flush: async () => undefined }), { now: at, request: request(o) });
}

describe('openConfirmation', () => {
  it("never replaces another person's pending request", async () => {
    const data = emptyStoreData();
    const lead = (await open(data, NOW, { requestedBy: 'U0LEAD' })).confirmation;
    const other = await open(data, NOW + 1, { requestedBy: 'U1', full: true });
    expect(lead.status).toBe('pending');
    expect(other.replaced).toEqual([]);
    expect(other.others.map((c) => c.id)).toEqual([lead.id]);
  });

  it("replaces the same person's pending request of the same verb and environment, naming its successor", async () => {
    const data = emptyStoreData();
    const first = (await open(data, NOW, { requestedBy: 'U0LEAD', full: true })).confirmation;
    const second = await open(data, NOW + 1, { requestedBy: 'U0LEAD' });
    // What the store holds now (a read is a copy, as a database answers).
    const stored = data.confirmations[first.id]!;
    expect(stored.status).toBe('superseded');
    expect(stored.supersededBy).toBe(second.confirmation.id);
    expect(second.replaced).toEqual([stored]);
  });

  it("keeps the same person's request of another verb, environment or thread", async () => {
    const data = emptyStoreData();
    const kept = [
      (await open(data, NOW, { requestedBy: 'U5', action: 'abort' })).confirmation,
      (await open(data, NOW, { requestedBy: 'U5', env: 'dev' })).confirmation,
      (await open(data, NOW, { requestedBy: 'U5', threadKey: 't2' })).confirmation,
    ];
    await open(data, NOW + 1, { requestedBy: 'U5' });
    expect(kept.map((c) => data.confirmations[c.id]!.status)).toEqual(['pending', 'pending', 'pending']);
  });

  it('treats a deploy offer and a promotion of one environment as the same verb (both are typed `promote`)', async () => {
    const data = emptyStoreData();
    const offer = (await open(data, NOW, { requestedBy: 'U5', action: 'deploy', tag: 'abc' })).confirmation;
    await open(data, NOW + 1, { requestedBy: 'U5' });
    expect(data.confirmations[offer.id]!.status).toBe('superseded');
  });
});

describe('pickConfirmation', () => {
  const pick = (data: ReturnType<typeof emptyStoreData>, user: string, word: 'promote' | 'abort' | 'retry' = 'promote', now = NOW + 10) =>
    pickConfirmation({ confirmations: Object.values(data.confirmations), threadKey: 't1', word, user, now });

  it("confirms the typist's own pending request even when another person's is newer", async () => {
    const data = emptyStoreData();
    const lead = (await open(data, NOW, { requestedBy: 'U0LEAD' })).confirmation;
    await open(data, NOW + 1, { requestedBy: 'U1', full: true });
    expect(pick(data, 'U0LEAD')).toEqual({ kind: 'confirm', confirmation: lead });
  });

  it('asks which when a third person types and two people have requests waiting', async () => {
    const data = emptyStoreData();
    const a = (await open(data, NOW, { requestedBy: 'U5' })).confirmation;
    const b = (await open(data, NOW + 1, { requestedBy: 'U6', full: true })).confirmation;
    expect(pick(data, 'U7')).toEqual({ kind: 'ask', candidates: [a, b] });
  });

  it('confirms the only pending request, whoever made it', async () => {
    const data = emptyStoreData();
    const a = (await open(data, NOW, { requestedBy: 'U1', full: true })).confirmation;
    expect(pick(data, 'U0LEAD')).toEqual({ kind: 'confirm', confirmation: a });
  });

  it('ignores expired and decided requests while one is pending', async () => {
    const data = emptyStoreData();
    await open(data, NOW - 11 * 60_000, { requestedBy: 'U5' });
    const done = (await open(data, NOW, { requestedBy: 'U6' })).confirmation;
    data.confirmations[done.id]!.status = 'done';
    const live = (await open(data, NOW + 1, { requestedBy: 'U7' })).confirmation;
    expect(pick(data, 'U8')).toEqual({ kind: 'confirm', confirmation: live });
  });

  it('falls back to the latest request of the verb when none is pending, so the answer can say what became of it', async () => {
    const data = emptyStoreData();
    await open(data, NOW - 20 * 60_000, { requestedBy: 'U5' });
    const latest = (await open(data, NOW - 11 * 60_000, { requestedBy: 'U6' })).confirmation;
    expect(pick(data, 'U7')).toEqual({ kind: 'confirm', confirmation: latest });
  });

  it('keeps verbs apart: `abort` never confirms a promotion', async () => {
    const data = emptyStoreData();
    await open(data, NOW, { requestedBy: 'U5' });
    expect(pick(data, 'U5', 'abort')).toEqual({ kind: 'none' });
  });
});

describe('describeRequest', () => {
  it.each([
    [{ action: 'promote', app: 'voting01', env: 'qa' }, 'Promote voting01 qa'],
    [{ action: 'promote', app: 'voting01', env: 'qa', full: true }, 'Promote voting01 qa — FULL: skips all remaining steps and analysis'],
    [{ action: 'promote', app: 'voting01', env: 'qa', force: true }, 'Promote voting01 qa — FORCE: overrides the check that the tag completed in the previous environment (recorded)'],
    [{ action: 'abort', app: 'voting01', env: 'qa' }, 'Abort voting01 qa'],
    [{ action: 'deploy', app: 'voting01', env: 'qa', tag: 'abc', from: 'dev' }, 'Bring `abc` from dev to voting01 qa'],
  ] as const)('%o → %s', (r, text) => {
    expect(describeRequest(r)).toBe(text);
  });
});
