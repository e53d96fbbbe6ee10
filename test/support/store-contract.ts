import { afterAll, afterEach, beforeEach, describe, expect, it as vitestIt } from 'vitest';
import { THREAD_HEAD_FIELDS, type Stores } from '../../src/core/store-ports.js';
import type { AuditEntry, CommitRecord, Confirmation, DrillRecord, OutboxEntry, ThreadRecord } from '../../src/core/store-data.js';

/** A store implementation under test: fresh and empty each time `open` is called. */
export type OpenStores = () => Promise<{ stores: Stores; close(): Promise<void> }>;

/**
 * `knownGaps`: titles of contract tests this implementation is known to fail (a reported bug not fixed yet). They run
 * as `it.fails`, so the suite stays green while the gap is open and fails, naming the test, once it is closed: then
 * the entry goes. A title that names no test fails the suite too.
 */
export interface ContractOptions {
  knownGaps?: string[];
}

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 15);

function thread(key: string, o: Partial<ThreadRecord> = {}): ThreadRecord {
  return {
    key, app: 'voting01', env: 'qa', namespace: 'voting01-qa', rollout: 'vote', revision: '2', tag: 'ea11a24-1', channel: 'C0QA',
    createdAt: NOW, startedAt: NOW, attempt: 1, announced: [], cardVersion: 1, cardSent: 1, actions: [], ...o,
  };
}

function confirmation(id: string, o: Partial<Confirmation> = {}): Confirmation {
  return {
    id, threadKey: 't1', app: 'voting01', env: 'qa', action: 'promote', full: false, force: false, requestedBy: 'U1', requestedAt: NOW,
    expiresAt: NOW + 600_000, snapshot: { phase: 'Paused', pauseReasons: ['CanaryPauseStep'], aborted: false, specPaused: false }, describe: 'promote qa', status: 'pending', ...o,
  };
}

function entry(id: string, o: Partial<Omit<OutboxEntry, 'seq' | 'attempts'>> = {}): Omit<OutboxEntry, 'seq' | 'attempts'> {
  return { id, threadKey: 't1', channel: 'C0QA', kind: 'reply', priority: 'normal', text: `text of ${id}`, createdAt: NOW, ...o };
}

function commit(sha: string, o: Partial<CommitRecord> = {}): CommitRecord {
  return { sha, repo: 'acme/voting01', message: 'Fix the vote button', authorName: 'Ada', url: `https://github.com/acme/voting01/commit/${sha}`, at: NOW, source: 'push', ...o };
}

function audit(at: number, o: Partial<AuditEntry> = {}): AuditEntry {
  return { at, who: 'U1', source: 'slack', action: 'promote', app: 'voting01', env: 'qa', result: 'ok', ...o };
}

function drill(id: string, o: Partial<DrillRecord> = {}): DrillRecord {
  return { id, app: 'voting01', env: 'qa', threadKey: 't1', startedBy: 'U1', startedAt: NOW, deadline: NOW + 600_000, status: 'running', ...o };
}

/** Runs `n` calls at once; their results. */
function atOnce<T>(n: number, call: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => call(i)));
}

const winners = (results: unknown[]) => results.filter((r) => r === true || (r !== false && r !== undefined)).length;

/**
 * The semantics of every store port (src/core/store-ports.ts), as one suite any implementation must pass: the
 * embedded document store, PostgreSQL, and whatever comes next. Each test gets a fresh, empty store from `open`.
 */
export function describeStoreContract(name: string, open: OpenStores, o: ContractOptions = {}): void {
  const gaps = new Set(o.knownGaps ?? []);
  const titles = new Set<string>();
  const it = (title: string, fn: () => Promise<void>) => {
    titles.add(title);
    (gaps.has(title) ? vitestIt.fails : vitestIt)(title, fn);
  };
  describe(`${name} store contract`, () => {
    afterAll(() => {
      expect([...gaps].filter((g) => !titles.has(g)), 'known gaps that name no contract test').toEqual([]);
    });
    let opened: Awaited<ReturnType<OpenStores>>;
    let s: Stores;
    beforeEach(async () => {
      opened = await open();
      s = opened.stores;
    });
    afterEach(async () => {
      await opened.close();
    });

    describe('delivery claims', () => {
      it('claims a key for exactly one caller, then says it was seen', async () => {
        expect(await s.claims.seen('slack:Ev1')).toBe(false);
        expect(await s.claims.claim('slack:Ev1', NOW)).toBe(true);
        expect(await s.claims.claim('slack:Ev1', NOW + 1)).toBe(false);
        expect(await s.claims.seen('slack:Ev1')).toBe(true);
        expect(await s.claims.seen('slack:Ev2')).toBe(false);
      });

      it('gives 20 concurrent claims of one key exactly one winner', async () => {
        const results = await atOnce(20, (i) => s.claims.claim('gh:delivery-1', NOW + i));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('confirmations', () => {
      it('claims a pending confirmation once, recording who and when', async () => {
        await s.confirmations.open(confirmation('c1'), () => false);
        expect(await s.confirmations.claim('c1', 'U2', NOW + 5)).toBe(true);
        expect(await s.confirmations.claim('c1', 'U3', NOW + 6)).toBe(false);
        expect(await s.confirmations.cancel('c1', 'U3', NOW + 6)).toBe(false);
        expect(await s.confirmations.get('c1')).toMatchObject({ status: 'done', doneBy: 'U2', doneAt: NOW + 5 });
      });

      it('gives 20 concurrent claims and cancels exactly one winner', async () => {
        await s.confirmations.open(confirmation('c1'), () => false);
        const results = await atOnce(20, (i) => (i % 2 ? s.confirmations.claim('c1', `U${i}`, NOW) : s.confirmations.cancel('c1', `U${i}`, NOW)));
        expect(results.filter(Boolean)).toHaveLength(1);
        const c = await s.confirmations.get('c1');
        expect(c?.status === 'done' || c?.status === 'cancelled').toBe(true);
      });

      it('cancels a pending confirmation once', async () => {
        await s.confirmations.open(confirmation('c1'), () => false);
        expect(await s.confirmations.cancel('c1', 'U1', NOW + 1)).toBe(true);
        expect(await s.confirmations.claim('c1', 'U2', NOW + 2)).toBe(false);
        expect(await s.confirmations.get('c1')).toMatchObject({ status: 'cancelled', doneBy: 'U1', doneAt: NOW + 1 });
      });

      it('does not claim or cancel an unknown confirmation', async () => {
        expect(await s.confirmations.claim('nope', 'U1', NOW)).toBe(false);
        expect(await s.confirmations.cancel('nope', 'U1', NOW)).toBe(false);
        expect(await s.confirmations.get('nope')).toBeUndefined();
      });

      it('completes a two-person approval for exactly one of 20 concurrent approvers', async () => {
        await s.confirmations.open(confirmation('c1'), () => false);
        const results = await atOnce(20, (i) => s.confirmations.approve('c1', `U${i}`, NOW + i, 2));
        expect(results.filter((r) => r?.complete)).toHaveLength(1);
        expect(results.every((r) => r?.added)).toBe(true);
        expect((await s.confirmations.get('c1'))?.approvals).toHaveLength(20);
      });

      it('counts an approver once and completes on the approval that reaches the number required', async () => {
        await s.confirmations.open(confirmation('c1'), () => false);
        expect(await s.confirmations.approve('c1', 'U1', NOW, 2)).toEqual({ added: true, complete: false, approvals: [{ by: 'U1', at: NOW }] });
        expect(await s.confirmations.approve('c1', 'U1', NOW + 1, 2)).toEqual({ added: false, complete: false, approvals: [{ by: 'U1', at: NOW }] });
        expect(await s.confirmations.approve('c1', 'U2', NOW + 2, 2)).toEqual({ added: true, complete: true, approvals: [{ by: 'U1', at: NOW }, { by: 'U2', at: NOW + 2 }] });
      });

      it('does not approve a confirmation that is not pending', async () => {
        await s.confirmations.open(confirmation('c1'), () => false);
        await s.confirmations.cancel('c1', 'U1', NOW);
        expect(await s.confirmations.approve('c1', 'U2', NOW, 2)).toBeUndefined();
        expect(await s.confirmations.approve('nope', 'U2', NOW, 2)).toBeUndefined();
      });

      it('opens a confirmation superseding exactly the pending ones selected', async () => {
        await s.confirmations.open(confirmation('c1', { requestedBy: 'U1' }), () => false);
        await s.confirmations.open(confirmation('c2', { requestedBy: 'U2' }), () => false);
        await s.confirmations.open(confirmation('c3', { requestedBy: 'U1' }), () => false);
        await s.confirmations.claim('c3', 'U9', NOW);
        const superseded = await s.confirmations.open(confirmation('c4', { requestedBy: 'U1', requestedAt: NOW + 1 }), (other) => other.requestedBy === 'U1');
        expect(superseded).toEqual(['c1']);
        expect(await s.confirmations.get('c1')).toMatchObject({ status: 'superseded', supersededBy: 'c4' });
        expect((await s.confirmations.get('c2'))?.status).toBe('pending');
        expect((await s.confirmations.get('c3'))?.status).toBe('done');
        expect(await s.confirmations.get('c4')).toEqual(confirmation('c4', { requestedBy: 'U1', requestedAt: NOW + 1 }));
      });

      it("lists a thread's confirmations newest first, and every pending one", async () => {
        await s.confirmations.open(confirmation('c1', { requestedAt: NOW }), () => false);
        await s.confirmations.open(confirmation('c2', { requestedAt: NOW + 2 }), () => false);
        await s.confirmations.open(confirmation('c3', { requestedAt: NOW + 1 }), () => false);
        await s.confirmations.open(confirmation('x1', { threadKey: 't2' }), () => false);
        await s.confirmations.claim('c3', 'U1', NOW);
        expect((await s.confirmations.ofThread('t1')).map((c) => c.id)).toEqual(['c2', 'c3', 'c1']);
        expect((await s.confirmations.pending()).map((c) => c.id).sort()).toEqual(['c1', 'c2', 'x1']);
      });

      it('updates the outcome fields, and a field given as undefined is cleared', async () => {
        await s.confirmations.open(confirmation('c1'), () => false);
        await s.confirmations.claim('c1', 'U2', NOW);
        await s.confirmations.update('c1', { status: 'failed' });
        expect(await s.confirmations.get('c1')).toMatchObject({ status: 'failed', doneBy: 'U2' });
        await s.confirmations.update('c1', { status: 'pending', doneBy: undefined, doneAt: undefined });
        const c = await s.confirmations.get('c1');
        expect(c?.status).toBe('pending');
        expect(c?.doneBy).toBeUndefined();
        expect(c?.doneAt).toBeUndefined();
        expect(await s.confirmations.claim('c1', 'U3', NOW)).toBe(true);
      });

      it('settles a card once, for exactly one of 10 concurrent callers', async () => {
        await s.confirmations.open(confirmation('c1', { cardKey: 't1#cf:c1', card: { text: 'promote?', blocks: [] } }), () => false);
        const results = await atOnce(10, (i) => s.confirmations.settleCard('c1', `outcome ${i}`));
        expect(winners(results)).toBe(1);
        const won = results.find((r) => r !== undefined);
        expect(won).toMatchObject({ id: 'c1', cardKey: 't1#cf:c1' });
        expect((await s.confirmations.get('c1'))?.cardOutcome).toBe(won?.cardOutcome);
        expect(await s.confirmations.settleCard('c1', 'again')).toBeUndefined();
      });

      it('does not settle a confirmation without an editable card', async () => {
        await s.confirmations.open(confirmation('c1'), () => false);
        expect(await s.confirmations.settleCard('c1', 'done')).toBeUndefined();
        expect(await s.confirmations.settleCard('nope', 'done')).toBeUndefined();
      });
    });

    describe('outbox', () => {
      it('queues an id once, with the next sequence number and no attempts', async () => {
        expect(await s.outbox.enqueue(entry('t1#a'))).toBe(true);
        expect(await s.outbox.enqueue(entry('t1#a', { text: 'other' }))).toBe(false);
        const all = await s.outbox.all();
        expect(all).toHaveLength(1);
        expect(all[0]).toMatchObject({ ...entry('t1#a'), attempts: 0 });
        expect(typeof all[0]?.seq).toBe('number');
      });

      it('lists entries in sequence order, which is the order they were queued', async () => {
        for (const id of ['t1#c', 't1#a', 't1#b']) await s.outbox.enqueue(entry(id, { priority: id === 't1#b' ? 'high' : 'normal' }));
        const all = await s.outbox.all();
        expect(all.map((e) => e.id)).toEqual(['t1#c', 't1#a', 't1#b']);
        expect(all[0]!.seq < all[1]!.seq && all[1]!.seq < all[2]!.seq).toBe(true);
        expect(await s.outbox.depth()).toBe(3);
      });

      it('gives 20 concurrent entries distinct sequence numbers, and queues one id once', async () => {
        await atOnce(20, (i) => s.outbox.enqueue(entry(`t1#${i}`)));
        expect(new Set((await s.outbox.all()).map((e) => e.seq)).size).toBe(20);
        const same = await atOnce(20, () => s.outbox.enqueue(entry('t1#same')));
        expect(same.filter(Boolean)).toHaveLength(1);
        expect(await s.outbox.depth()).toBe(21);
      });

      it('marks entries attempted, counting attempts, and clears the mark', async () => {
        await s.outbox.enqueue(entry('t1#a'));
        await s.outbox.enqueue(entry('t1#b'));
        await s.outbox.markAttempted(['t1#a'], NOW + 1);
        await s.outbox.markAttempted(['t1#a'], NOW + 2);
        let [a, b] = await s.outbox.all();
        expect(a).toMatchObject({ attemptedAt: NOW + 2, attempts: 2 });
        expect(b?.attemptedAt).toBeUndefined();
        await s.outbox.clearAttempted(['t1#a']);
        [a] = await s.outbox.all();
        expect(a?.attemptedAt).toBeUndefined();
        expect(a?.attempts).toBe(2);
      });

      it('removes entries', async () => {
        await s.outbox.enqueue(entry('t1#a'));
        await s.outbox.enqueue(entry('t1#b'));
        await s.outbox.remove(['t1#a', 't1#unknown']);
        expect((await s.outbox.all()).map((e) => e.id)).toEqual(['t1#b']);
        expect(await s.outbox.depth()).toBe(1);
      });

      it('coalesces queued edits of one reply into the latest content, under a new sequence number', async () => {
        await s.outbox.enqueueEdit({ ...entry('t1#edit:cf'), editOf: 't1#cf', blocks: [{ type: 'section' }] });
        await s.outbox.enqueue(entry('t1#between'));
        await s.outbox.enqueueEdit({ ...entry('t1#edit:cf'), editOf: 't1#cf', text: 'latest' });
        const all = await s.outbox.all();
        expect(all.map((e) => e.id)).toEqual(['t1#between', 't1#edit:cf']);
        expect(all[1]).toMatchObject({ kind: 'edit', editOf: 't1#cf', text: 'latest' });
        expect(all[1]?.blocks).toBeUndefined();
      });

      it('removes an applied edit only when no newer edit replaced it', async () => {
        await s.outbox.enqueueEdit({ ...entry('t1#edit:cf'), editOf: 't1#cf', text: 'first' });
        const firstSeq = (await s.outbox.all())[0]!.seq;
        await s.outbox.enqueueEdit({ ...entry('t1#edit:cf'), editOf: 't1#cf', text: 'second' });
        const secondSeq = (await s.outbox.all())[0]!.seq;
        expect(secondSeq).not.toBe(firstSeq);
        await s.outbox.editDone('t1#edit:cf', firstSeq);
        expect((await s.outbox.all()).map((e) => e.text)).toEqual(['second']);
        await s.outbox.editDone('t1#edit:cf', secondSeq);
        expect(await s.outbox.all()).toEqual([]);
      });

      it('keeps an edit that coalesced while the one read before it was being applied', async () => {
        // The delivery reads the edit, calls Slack, then says editDone with the seq it read; a newer edit queued
        // meanwhile must survive that.
        await s.outbox.enqueueEdit({ ...entry('t1#edit:cf'), editOf: 't1#cf', text: 'first' });
        const [applying] = await s.outbox.all();
        await s.outbox.enqueueEdit({ ...entry('t1#edit:cf'), editOf: 't1#cf', text: 'second' });
        expect(applying?.text).toBe('first');
        await s.outbox.editDone(applying!.id, applying!.seq);
        expect((await s.outbox.all()).map((e) => e.text)).toEqual(['second']);
      });

      it("delivers a root: the entry leaves and the thread gets the root's ts and cardSent", async () => {
        await s.threads.save(thread('t1', { rootTs: undefined, cardVersion: 3, cardSent: 0 }));
        await s.outbox.enqueue(entry('t1#root', { kind: 'root' }));
        await s.outbox.delivered({ ids: ['t1#root'], root: { threadKey: 't1', ts: '1700000000.000100', cardSent: 3 } });
        expect(await s.outbox.depth()).toBe(0);
        expect(await s.threads.byKey('t1')).toMatchObject({ rootTs: '1700000000.000100', cardSent: 3 });
      });

      it('keeps where an editable reply landed, and nothing for other replies', async () => {
        await s.outbox.enqueue(entry('t1#cf', { editable: true, createdAt: NOW + 7 }));
        await s.outbox.enqueue(entry('t1#plain'));
        await s.outbox.delivered({ ids: ['t1#cf'], ts: '1700000000.000200' });
        await s.outbox.delivered({ ids: ['t1#plain'], ts: '1700000000.000300' });
        expect(await s.outbox.postedOf('t1#cf')).toEqual({ ts: '1700000000.000200', channel: 'C0QA', threadKey: 't1', at: NOW + 7 });
        expect(await s.outbox.postedOf('t1#plain')).toBeUndefined();
        expect(await s.outbox.depth()).toBe(0);
      });
    });

    describe('threads', () => {
      it('saves a thread and reads it back by key, replacing it on the next save', async () => {
        const t = thread('t1', { announced: ['1:step-1'], lastState: undefined, note: 'rollout not found' });
        await s.threads.save(t);
        expect(await s.threads.byKey('t1')).toEqual(t);
        await s.threads.save({ ...t, note: undefined, attempt: 2 });
        const again = await s.threads.byKey('t1');
        expect(again?.attempt).toBe(2);
        expect(again?.note).toBeUndefined();
        expect(await s.threads.byKey('t2')).toBeUndefined();
      });

      it('finds a thread by its root message in its channel', async () => {
        await s.threads.save(thread('t1', { rootTs: '1.1' }));
        await s.threads.save(thread('t2', { rootTs: '1.2' }));
        expect((await s.threads.byRoot('C0QA', '1.2'))?.key).toBe('t2');
        expect(await s.threads.byRoot('C0OTHER', '1.2')).toBeUndefined();
      });

      it("answers an environment's current thread from its env record", async () => {
        await s.threads.save(thread('t1'));
        expect(await s.threads.current('voting01/qa')).toBeUndefined();
        await s.envs.update('voting01/qa', { threadKey: 't1' });
        expect((await s.threads.current('voting01/qa'))?.key).toBe('t1');
      });

      it("lists an environment's threads newest first, at most `limit`", async () => {
        for (const [key, day] of [['t1', 1], ['t3', 3], ['t2', 2]] as const) await s.threads.save(thread(key, { startedAt: NOW + day * DAY }));
        await s.threads.save(thread('other-env', { env: 'staging' }));
        await s.threads.save(thread('other-app', { app: 'voting02' }));
        expect((await s.threads.ofEnv('voting01/qa')).map((t) => t.key)).toEqual(['t3', 't2', 't1']);
        expect((await s.threads.ofEnv('voting01/qa', { limit: 2 })).map((t) => t.key)).toEqual(['t3', 't2']);
      });

      it('splits an environment key at its last slash (an app name may hold one)', async () => {
        await s.threads.save(thread('t1', { app: 'team/vote', env: 'qa' }));
        expect((await s.threads.ofEnv('team/vote/qa')).map((t) => t.key)).toEqual(['t1']);
      });

      it("lists an app's threads with a tag, in any environment", async () => {
        await s.threads.save(thread('qa', { tag: 'v1' }));
        await s.threads.save(thread('staging', { env: 'staging', tag: 'v1' }));
        await s.threads.save(thread('other-tag', { tag: 'v2' }));
        await s.threads.save(thread('other-app', { app: 'voting02', tag: 'v1' }));
        expect((await s.threads.withTag('voting01', 'v1')).map((t) => t.key).sort()).toEqual(['qa', 'staging']);
      });

      it('lists open threads, stale cards and unpaired threads', async () => {
        await s.threads.save(thread('open-stale', { cardVersion: 3, cardSent: 2, rootTs: '1.1' }));
        await s.threads.save(thread('done', { outcome: 'completed', finishedAt: NOW, rootTs: '1.2', commitSha: 'a'.repeat(40) }));
        await s.threads.save(thread('no-root', { cardVersion: 3, cardSent: 0, rootTs: undefined, tag: undefined }));
        expect((await s.threads.open()).map((t) => t.key).sort()).toEqual(['no-root', 'open-stale']);
        expect((await s.threads.staleCards()).map((t) => t.key)).toEqual(['open-stale']);
        expect((await s.threads.unpaired()).map((t) => t.key)).toEqual(['open-stale']);
      });

      it('answers the threads that exist among several keys', async () => {
        await s.threads.save(thread('t1'));
        await s.threads.save(thread('t2'));
        const found = await s.threads.byKeys(['t1', 'missing', 't2']);
        expect(Object.keys(found).sort()).toEqual(['t1', 't2']);
        // Heads: at least the fields delivery plans with (a store may answer the whole record).
        const t1 = thread('t1', { rootTs: '1.1', outcome: 'completed', announced: ['deploy-started'] });
        await s.threads.save(t1);
        const head = (await s.threads.byKeys(['t1'])).t1!;
        expect(head).toMatchObject(Object.fromEntries(THREAD_HEAD_FIELDS.filter((f) => t1[f] !== undefined).map((f) => [f, t1[f]])));
        await s.threads.bumpCard('t1');
        expect((await s.threads.staleCards()).find((t) => t.key === 't1')).toMatchObject({ key: 't1', rootTs: '1.1', cardVersion: t1.cardVersion + 1, outcome: 'completed', announced: ['deploy-started'] });
      });

      it('records an action and bumps the card in one step, losing none of 10 concurrent ones', async () => {
        await s.threads.save(thread('t1', { cardVersion: 1 }));
        await atOnce(10, (i) => s.threads.recordAction('t1', { at: NOW + i, who: `U${i}`, what: 'promoted' }));
        const t = await s.threads.byKey('t1');
        expect(t?.actions).toHaveLength(10);
        expect(t?.cardVersion).toBe(11);
        await s.threads.recordAction('missing', { at: NOW, who: 'U1', what: 'x' });
        expect(await s.threads.byKey('missing')).toBeUndefined();
      });

      it('keeps the time spent waiting for a person', async () => {
        await s.threads.save(thread('t1'));
        await s.threads.trackWaiting('t1', { waiting: true, now: NOW + 1000 });
        await s.threads.trackWaiting('t1', { waiting: true, now: NOW + 5000 });
        expect((await s.threads.byKey('t1'))?.waitingSince).toBe(NOW + 1000);
        await s.threads.trackWaiting('t1', { waiting: false, now: NOW + 4000 });
        await s.threads.trackWaiting('t1', { waiting: false, now: NOW + 9000 });
        let t = await s.threads.byKey('t1');
        expect(t?.waitingSince).toBeUndefined();
        expect(t?.waitedMs).toBe(3000);
        await s.threads.trackWaiting('t1', { waiting: true, now: NOW + 10_000 });
        await s.threads.trackWaiting('t1', { waiting: false, now: NOW + 10_500 });
        t = await s.threads.byKey('t1');
        expect(t?.waitedMs).toBe(3500);
      });

      it('sets a once-only mark for exactly one of 20 concurrent callers, each mark on its own', async () => {
        await s.threads.save(thread('t1'));
        const results = await atOnce(20, () => s.threads.markOnce('t1', 'chainHandled'));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await s.threads.markOnce('t1', 'timeoutWarned')).toBe(true);
        expect(await s.threads.markOnce('t1', 'timeoutWarned')).toBe(false);
        expect(await s.threads.byKey('t1')).toMatchObject({ chainHandled: true, timeoutWarned: true });
        expect(await s.threads.markOnce('missing', 'chainHandled')).toBe(false);
      });

      it('bumps the cards of the other threads of the app with the tag', async () => {
        await s.threads.save(thread('qa', { tag: 'v1', cardVersion: 1 }));
        await s.threads.save(thread('staging', { env: 'staging', tag: 'v1', cardVersion: 5 }));
        await s.threads.save(thread('other-tag', { tag: 'v2', cardVersion: 1 }));
        await s.threads.save(thread('other-app', { app: 'voting02', tag: 'v1', cardVersion: 1 }));
        await s.threads.bumpCardsWithTag({ app: 'voting01', tag: 'v1', exceptKey: 'qa' });
        const found = await s.threads.byKeys(['qa', 'staging', 'other-tag', 'other-app']);
        expect(Object.fromEntries(Object.entries(found).map(([k, t]) => [k, t.cardVersion]))).toEqual({ qa: 1, staging: 6, 'other-tag': 1, 'other-app': 1 });
      });

      it('writes observed fields, clears those given as undefined, and bumps the card when asked', async () => {
        await s.threads.save(thread('t1', { podHash: 'abc', tag: 'v1', cardVersion: 1 }));
        await s.threads.observed('t1', { set: { outcome: 'completed', finishedAt: NOW + 1, podHash: undefined, announced: ['1:done'] }, bumpCard: true });
        let t = await s.threads.byKey('t1');
        expect(t).toMatchObject({ outcome: 'completed', finishedAt: NOW + 1, announced: ['1:done'], tag: 'v1', cardVersion: 2 });
        expect(t?.podHash).toBeUndefined();
        await s.threads.observed('t1', { set: { attempt: 2 }, bumpCard: false });
        t = await s.threads.byKey('t1');
        expect(t).toMatchObject({ attempt: 2, cardVersion: 2 });
      });

      it('marks a card sent, never going back', async () => {
        await s.threads.save(thread('t1', { cardVersion: 5, cardSent: 1 }));
        await s.threads.markCardSent('t1', 4);
        await s.threads.markCardSent('t1', 2);
        expect((await s.threads.byKey('t1'))?.cardSent).toBe(4);
      });

      it('bumps a card, losing none of 20 concurrent bumps', async () => {
        await s.threads.save(thread('t1', { cardVersion: 1 }));
        await atOnce(20, () => s.threads.bumpCard('t1'));
        expect((await s.threads.byKey('t1'))?.cardVersion).toBe(21);
      });

      it('pairs a thread with a commit once, bumping its card', async () => {
        await s.threads.save(thread('t1', { cardVersion: 1 }));
        expect(await s.threads.setCommit('t1', { sha: 'a'.repeat(40) })).toBe(true);
        expect(await s.threads.setCommit('t1', { sha: 'b'.repeat(40) })).toBe(false);
        const t = await s.threads.byKey('t1');
        expect(t).toMatchObject({ commitSha: 'a'.repeat(40), cardVersion: 2 });
        expect(await s.threads.unpaired()).toEqual([]);
        expect(await s.threads.setCommit('missing', { sha: 'a'.repeat(40) })).toBe(false);
      });

      it('marks a commit looked up without pairing it', async () => {
        await s.threads.save(thread('t1', { cardVersion: 1 }));
        expect(await s.threads.setCommit('t1', { lookedUp: true })).toBe(false);
        const t = await s.threads.byKey('t1');
        expect(t).toMatchObject({ commitLookedUp: true, cardVersion: 1 });
        expect(t?.commitSha).toBeUndefined();
      });

      it('pairs a thread for exactly one of 10 concurrent callers, with that caller’s sha', async () => {
        await s.threads.save(thread('t1', { cardVersion: 1 }));
        const shas = Array.from({ length: 10 }, (_, i) => String(i).repeat(40));
        const results = await atOnce(10, (i) => s.threads.setCommit('t1', { sha: shas[i], lookedUp: true }));
        expect(results.filter(Boolean)).toHaveLength(1);
        const t = await s.threads.byKey('t1');
        expect(t?.commitSha).toBe(shas[results.indexOf(true)]);
        expect(t?.cardVersion).toBe(2);
      });
    });

    describe('environments', () => {
      it('answers an empty record for an unknown environment', async () => {
        expect(await s.envs.get('voting01/qa')).toEqual({});
      });

      it('merges an update into the record, removing a key given as undefined', async () => {
        await s.envs.update('voting01/qa', { threadKey: 't1', missingNoticed: true });
        await s.envs.update('voting01/qa', { threadKey: 't2' });
        expect(await s.envs.get('voting01/qa')).toEqual({ threadKey: 't2', missingNoticed: true });
        await s.envs.update('voting01/qa', { missingNoticed: undefined });
        expect(await s.envs.get('voting01/qa')).toEqual({ threadKey: 't2' });
        expect(Object.keys(await s.envs.get('voting01/qa'))).toEqual(['threadKey']);
      });
    });

    describe('keyed records', () => {
      it('gets, sets, lists and deletes records', async () => {
        await s.locks.set('voting01/qa', { app: 'voting01', env: 'qa', by: 'U1', source: 'slack', since: NOW });
        await s.locks.set('voting01/staging', { app: 'voting01', env: 'staging', by: 'U2', source: 'github', reason: 'freeze', since: NOW });
        await s.locks.set('voting01/qa', { app: 'voting01', env: 'qa', by: 'U3', source: 'slack', since: NOW + 1 });
        expect((await s.locks.get('voting01/qa'))?.by).toBe('U3');
        expect((await s.locks.all()).map(([k, v]) => `${k}=${v.by}`).sort()).toEqual(['voting01/qa=U3', 'voting01/staging=U2']);
        await s.locks.delete('voting01/qa');
        expect(await s.locks.get('voting01/qa')).toBeUndefined();
        expect((await s.locks.all()).map(([k]) => k)).toEqual(['voting01/staging']);
      });

      it('keeps number values and keeps each kind of record apart', async () => {
        await s.digests.set('digest:2026-01-15T09:00:00.000Z', NOW);
        await s.installations.set('acme/voting01', 42);
        expect(await s.digests.get('digest:2026-01-15T09:00:00.000Z')).toBe(NOW);
        expect(await s.installations.all()).toEqual([['acme/voting01', 42]]);
        expect(await s.installations.get('digest:2026-01-15T09:00:00.000Z')).toBeUndefined();
      });

      it('sets a record only when absent, for exactly one of 20 concurrent callers', async () => {
        const results = await atOnce(20, (i) => s.reminders.setIfAbsent('t1', { wait: `w${i}`, since: NOW, sent: 1 }));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await s.reminders.get('t1'))?.wait).toBe(`w${results.indexOf(true)}`);
      });
    });

    describe('dispatches', () => {
      const dispatch = (at: number, by = 'U1') => ({ app: 'voting01', env: 'staging', tag: 'v1', workflow: 'deploy.yml', at, by });

      it('records a dispatch unless one was recorded at or after `since`', async () => {
        expect(await s.dispatches.claim('voting01/staging/v1', dispatch(NOW), NOW - 1000)).toBeUndefined();
        expect(await s.dispatches.claim('voting01/staging/v1', dispatch(NOW + 5, 'U2'), NOW)).toEqual(dispatch(NOW));
        expect(await s.dispatches.claim('voting01/staging/v1', dispatch(NOW + 10, 'U3'), NOW + 1)).toBeUndefined();
        expect((await s.dispatches.get('voting01/staging/v1'))?.by).toBe('U3');
      });

      it('records one of 10 concurrent dispatches; the others see the one that stood in the way', async () => {
        const results = await atOnce(10, (i) => s.dispatches.claim('voting01/staging/v1', dispatch(NOW + i, `U${i}`), NOW));
        expect(results.filter((r) => r === undefined)).toHaveLength(1);
        const stored = await s.dispatches.get('voting01/staging/v1');
        expect(results.filter((r) => r !== undefined).every((r) => r?.by === stored?.by)).toBe(true);
      });

      it('marks a dispatch announced for exactly one caller', async () => {
        await s.dispatches.set('voting01/staging/v1', dispatch(NOW));
        const results = await atOnce(10, () => s.dispatches.markAnnounced('voting01/staging/v1'));
        expect(winners(results)).toBe(1);
        expect(results.find((r) => r !== undefined)).toMatchObject({ ...dispatch(NOW), announced: true });
        expect(await s.dispatches.markAnnounced('voting01/staging/v1')).toBeUndefined();
        expect(await s.dispatches.markAnnounced('voting01/prod/v1')).toBeUndefined();
      });
    });

    describe('commits', () => {
      const a = 'ea11a24' + '1'.repeat(33);
      const b = 'ea11a24' + '2'.repeat(33);
      const c = 'cafe123' + '3'.repeat(33);

      it('finds a commit by its full sha, and by a unique prefix of 7 or more characters', async () => {
        await s.commits.put(commit(a));
        await s.commits.put(commit(c));
        expect((await s.commits.bySha(a))?.sha).toBe(a);
        expect((await s.commits.bySha('cafe123'))?.sha).toBe(c);
        expect((await s.commits.bySha('cafe1233'))?.sha).toBe(c);
        expect(await s.commits.bySha('cafe12')).toBeUndefined();
        expect(await s.commits.bySha('f'.repeat(40))).toBeUndefined();
      });

      it('answers nothing for an ambiguous prefix', async () => {
        await s.commits.put(commit(a));
        await s.commits.put(commit(b));
        expect(await s.commits.bySha('ea11a24')).toBeUndefined();
        expect((await s.commits.bySha('ea11a241'))?.sha).toBe(a);
      });

      it("looks only at one repo's commits when given the repo", async () => {
        await s.commits.put(commit(a, { repo: 'acme/voting01' }));
        await s.commits.put(commit(b, { repo: 'acme/voting02' }));
        expect((await s.commits.bySha('ea11a24', 'acme/voting02'))?.sha).toBe(b);
        expect(await s.commits.bySha(a, 'acme/voting02')).toBeUndefined();
        expect((await s.commits.bySha(a, 'acme/voting01'))?.repo).toBe('acme/voting01');
      });

      it('replaces a commit put again', async () => {
        await s.commits.put(commit(a, { source: 'push' }));
        await s.commits.put(commit(a, { source: 'api', authorLogin: 'ada' }));
        expect(await s.commits.bySha(a)).toEqual(commit(a, { source: 'api', authorLogin: 'ada' }));
      });

      it('does not treat LIKE wildcards in a prefix as wildcards', async () => {
        await s.commits.put(commit(a));
        expect(await s.commits.bySha('ea11a2%')).toBeUndefined();
        expect(await s.commits.bySha('ea11a2_')).toBeUndefined();
      });
    });

    describe('audit log', () => {
      it('lists entries newest first, filtered by app, environment and time, at most `limit`', async () => {
        await s.audit.append(audit(NOW + 1));
        await s.audit.append(audit(NOW + 3, { env: 'staging' }));
        await s.audit.append(audit(NOW + 2, { app: 'voting02' }));
        await s.audit.append(audit(NOW + 4));
        expect((await s.audit.recent()).map((e) => e.at)).toEqual([NOW + 4, NOW + 3, NOW + 2, NOW + 1]);
        expect((await s.audit.recent({ app: 'voting01', env: 'qa' })).map((e) => e.at)).toEqual([NOW + 4, NOW + 1]);
        expect((await s.audit.recent({ app: 'voting01' })).map((e) => e.at)).toEqual([NOW + 4, NOW + 3, NOW + 1]);
        expect((await s.audit.recent({ since: NOW + 2 })).map((e) => e.at)).toEqual([NOW + 4, NOW + 3, NOW + 2]);
        expect((await s.audit.recent({ limit: 2 })).map((e) => e.at)).toEqual([NOW + 4, NOW + 3]);
        expect(await s.audit.recent({ limit: 1 })).toEqual([audit(NOW + 4)]);
      });
    });

    describe('prune', () => {
      const old = NOW - 200 * DAY;
      const oldThread = (key: string, o: Partial<ThreadRecord> = {}) => thread(key, { startedAt: old, finishedAt: old + DAY, outcome: 'completed', ...o });

      it('drops old threads but never one still in use', async () => {
        for (const key of ['old', 'current', 'outboxed', 'confirming', 'drilled', 'bannered']) await s.threads.save(oldThread(key));
        await s.threads.save(oldThread('recent', { finishedAt: NOW - 10 * DAY }));
        await s.threads.save(thread('running', { startedAt: NOW - DAY, outcome: undefined }));
        await s.envs.update('voting01/qa', { threadKey: 'current' });
        await s.outbox.enqueue(entry('outboxed#x', { threadKey: 'outboxed' }));
        await s.confirmations.open(confirmation('c1', { threadKey: 'confirming', requestedAt: NOW - DAY, expiresAt: NOW + DAY }), () => false);
        await s.drills.set('d1', drill('d1', { threadKey: 'drilled', startedAt: old }));
        await s.errorSims.set('voting01/qa', { app: 'voting01', env: 'qa', since: old, by: 'U1', offAt: old + 1, threadKey: 'bannered' });
        const counts = await s.prune({ now: NOW, days: 90 });
        const kept = await s.threads.byKeys(['old', 'current', 'outboxed', 'confirming', 'drilled', 'bannered', 'recent', 'running']);
        expect(Object.keys(kept).sort()).toEqual(['bannered', 'confirming', 'current', 'drilled', 'outboxed', 'recent', 'running']);
        expect(counts.threads).toBe(1);
      });

      it('drops old audit entries, dedupe marks and commits no kept thread points at', async () => {
        const shaKept = 'a'.repeat(40);
        const shaOld = 'b'.repeat(40);
        const shaNew = 'c'.repeat(40);
        await s.threads.save(thread('live', { commitSha: shaKept }));
        for (const sha of [shaKept, shaOld]) await s.commits.put(commit(sha, { at: old }));
        await s.commits.put(commit(shaNew, { at: NOW - DAY }));
        await s.audit.append(audit(NOW - 91 * DAY));
        await s.audit.append(audit(NOW - DAY));
        await s.claims.claim('old', NOW - 91 * DAY);
        await s.claims.claim('new', NOW - DAY);
        const counts = await s.prune({ now: NOW, days: 90 });
        expect(counts).toMatchObject({ threads: 0, audit: 1, commits: 1, seen: 1 });
        expect(await s.commits.bySha(shaOld)).toBeUndefined();
        expect((await s.commits.bySha(shaKept))?.sha).toBe(shaKept);
        expect((await s.commits.bySha(shaNew))?.sha).toBe(shaNew);
        expect((await s.audit.recent()).map((e) => e.at)).toEqual([NOW - DAY]);
        expect(await s.claims.seen('old')).toBe(false);
        expect(await s.claims.seen('new')).toBe(true);
      });

      it('drops decided old confirmations and those of dropped threads, keeping pending ones in use', async () => {
        await s.threads.save(oldThread('gone'));
        await s.threads.save(thread('live'));
        await s.confirmations.open(confirmation('of-gone', { threadKey: 'gone', requestedAt: old }), () => false);
        await s.confirmations.claim('of-gone', 'U1', old);
        await s.confirmations.open(confirmation('decided-old', { threadKey: 'live', requestedAt: old }), () => false);
        await s.confirmations.cancel('decided-old', 'U1', old + 1);
        await s.confirmations.open(confirmation('decided-new', { threadKey: 'live', requestedAt: NOW - DAY }), () => false);
        await s.confirmations.claim('decided-new', 'U1', NOW - DAY);
        await s.confirmations.open(confirmation('pending', { threadKey: 'live', requestedAt: NOW - DAY }), () => false);
        const counts = await s.prune({ now: NOW, days: 90 });
        expect(counts).toMatchObject({ threads: 1, confirmations: 2 });
        expect(await s.confirmations.get('of-gone')).toBeUndefined();
        expect(await s.confirmations.get('decided-old')).toBeUndefined();
        expect((await s.confirmations.ofThread('live')).map((c) => c.id).sort()).toEqual(['decided-new', 'pending']);
      });

      it('drops the small records of dropped threads and the old ones', async () => {
        await s.threads.save(oldThread('gone'));
        await s.threads.save(thread('live'));
        for (const key of ['gone', 'live']) {
          await s.outbox.enqueue(entry(`${key}#cf`, { threadKey: key, editable: true }));
          await s.outbox.delivered({ ids: [`${key}#cf`], ts: '1.1' });
          await s.reminders.set(key, { wait: 'w', since: NOW, sent: 1 });
          await s.actionMarks.set(key, { action: 'promote', at: NOW - DAY });
        }
        await s.actionMarks.set('live', { action: 'promote', at: NOW - DAY });
        await s.drills.set('finished-old', drill('finished-old', { threadKey: 'live', status: 'passed', startedAt: old, finishedAt: old + 1 }));
        await s.drills.set('finished-new', drill('finished-new', { threadKey: 'live', status: 'failed', startedAt: NOW - DAY, finishedAt: NOW - DAY }));
        const noOp = { channel: 'C0QA', app: 'voting01', env: 'qa', rollout: 'voting01-qa/vote', revision: '3', seenAt: old };
        await s.noOpRevisions.set('noted-old', { ...noOp, notedAt: old });
        await s.noOpRevisions.set('unnoted-old', noOp);
        await s.digests.set('digest:old', old);
        await s.digests.set('digest:new', NOW - DAY);
        const counts = await s.prune({ now: NOW, days: 90 });
        expect(counts.threads).toBe(1);
        expect(counts.other).toBe(6);
        expect(await s.outbox.postedOf('gone#cf')).toBeUndefined();
        expect((await s.outbox.postedOf('live#cf'))?.ts).toBe('1.1');
        expect((await s.reminders.all()).map(([k]) => k)).toEqual(['live']);
        expect((await s.actionMarks.all()).map(([k]) => k)).toEqual(['live']);
        expect((await s.drills.all()).map(([k]) => k)).toEqual(['finished-new']);
        expect((await s.noOpRevisions.all()).map(([k]) => k)).toEqual(['unnoted-old']);
        expect((await s.digests.all()).map(([k]) => k)).toEqual(['digest:new']);
      });

      it('keeps everything younger than the retention', async () => {
        await s.threads.save(oldThread('old'));
        await s.audit.append(audit(old));
        await s.claims.claim('k', old);
        expect(await s.prune({ now: NOW, days: 365 })).toEqual({ threads: 0, audit: 0, commits: 0, seen: 0, confirmations: 0, other: 0 });
        expect(await s.threads.byKey('old')).toBeDefined();
      });
    });

    describe('records are values', () => {
      it('answers a snapshot: later calls do not change a record read before them', async () => {
        await s.threads.save(thread('t1', { cardVersion: 1 }));
        await s.confirmations.open(confirmation('c1'), () => false);
        await s.outbox.enqueue(entry('t1#a'));
        const t = await s.threads.byKey('t1');
        const c = await s.confirmations.get('c1');
        const [e] = await s.outbox.all();
        await s.threads.bumpCard('t1');
        await s.confirmations.claim('c1', 'U2', NOW);
        await s.outbox.markAttempted(['t1#a'], NOW);
        expect(t?.cardVersion).toBe(1);
        expect(c?.status).toBe('pending');
        expect(e?.attempts).toBe(0);
      });

      it('stores a copy: changing an object after saving it, or one read back, changes nothing stored', async () => {
        const saved = thread('t1', { cardVersion: 1 });
        await s.threads.save(saved);
        saved.cardVersion = 99;
        const read = await s.threads.byKey('t1');
        read!.announced.push('1:sneaked-in');
        expect(await s.threads.byKey('t1')).toEqual(thread('t1', { cardVersion: 1 }));
      });
    });

    describe('ids and durability', () => {
      it('hands out unique ids with the prefix, also to 50 concurrent callers', async () => {
        const ids = await atOnce(50, (i) => s.newId('c', NOW + (i % 3)));
        expect(new Set(ids).size).toBe(50);
        expect(ids.every((id) => id.startsWith('c'))).toBe(true);
        expect((await s.newId('d', NOW)).startsWith('d')).toBe(true);
      });

      it('flushes', async () => {
        await s.claims.claim('k', NOW);
        await expect(s.flush()).resolves.toBeUndefined();
      });
    });
  });
}
