import { describe, expect, it } from 'vitest';
import { planNextBatch, rankOf } from '../../src/core/delivery/plan-next-batch.js';
import type { OutboxEntry, ThreadRecord } from '../../src/core/store-data.js';

let seq = 0;
function entry(threadKey: string, name: string, o: Partial<OutboxEntry> = {}): OutboxEntry {
  return { id: `${threadKey}#${name}`, threadKey, channel: 'C1', kind: 'reply', priority: 'normal', text: name, seq: ++seq, createdAt: 0, attempts: 0, ...o };
}
const progress = (t: string, name: string, o: Partial<OutboxEntry> = {}) => entry(t, name, { batchable: true, ...o });
const high = (t: string, name: string, o: Partial<OutboxEntry> = {}) => entry(t, name, { priority: 'high', ...o });
const root = (t: string, o: Partial<OutboxEntry> = {}) => entry(t, 'root', { kind: 'root', ...o });

function rooted(...keys: string[]): Record<string, ThreadRecord> {
  return Object.fromEntries(keys.map((key) => [key, { key, channel: 'C1', rootTs: `ts-${key}`, cardVersion: 1, cardSent: 1, announced: [] } as unknown as ThreadRecord]));
}

const plan = (entries: OutboxEntry[], o: { available?: number; reserve?: number; threads?: Record<string, ThreadRecord> } = {}) =>
  planNextBatch({ entries, threads: o.threads ?? rooted('a', 'b', 'c'), available: o.available ?? 1, backlogMargin: 1, maxBatch: 10, reserve: o.reserve ?? 0 });

const ids = (next: ReturnType<typeof plan>) => (next && 'batch' in next ? next.batch.map((e) => e.id) : next);

describe('planNextBatch', () => {
  it('ranks news people act on or that ends a deploy, a root card, other priority replies, answers to people, step progress', () => {
    expect(rankOf([high('a', 'aborted', { broadcast: true })])).toBe(0);
    expect(rankOf([progress('a', 's1'), high('a', 'waiting', { blocks: [{ type: 'actions' }] })])).toBe(0);
    expect(rankOf([high('a', 'completed')], { outcome: 'completed' })).toBe(0);
    expect(rankOf([high('notice/a', 'cluster-down', { kind: 'notice' })])).toBe(0);
    expect(rankOf([root('a'), progress('a', 's1')])).toBe(1);
    expect(rankOf([high('a', 'outside:promoted'), progress('a', 's2')], {})).toBe(2);
    expect(rankOf([progress('a', 's1'), entry('a', 'which')])).toBe(3);
    expect(rankOf([progress('a', 's1'), progress('a', 's2')])).toBe(4);
  });

  it("posts a new deploy's root card ahead of an action seen outside chat, and a deploy's end ahead of both", () => {
    const threads = { ...rooted('a', 'b'), b: { ...rooted('b').b!, outcome: 'completed' as const } };
    const entries = [high('a', 'outside:promoted'), root('c'), high('b', 'completed')];
    expect(ids(plan(entries, { available: 4, threads }))).toEqual(['b#completed']);
    expect(ids(plan(entries.slice(0, 2), { available: 4, threads }))).toEqual(['c#root']);
  });

  it("sends an answer to a person ahead of older step progress in the channel's other threads", () => {
    const next = plan([progress('a', 's1'), entry('b', 'nothing-waiting')], { available: 4 });
    expect(ids(next)).toEqual(['b#nothing-waiting']);
  });

  it('under a backlog, takes the progress queued ahead of a "waiting for promotion" card along, button and broadcast kept', () => {
    const button = [{ type: 'section' }, { type: 'actions', elements: [{ action_id: 'promote' }] }];
    const entries = [progress('a', 's1'), high('a', 'waiting', { broadcast: true, blocks: button }), progress('b', 'b1'), progress('c', 'c1')];
    const next = plan(entries, { available: 1 });
    expect(ids(next)).toEqual(['a#s1', 'a#waiting']);
  });

  it('without a backlog, keeps an interactive card apart from the progress ahead of it', () => {
    const entries = [progress('a', 's1'), high('a', 'waiting', { broadcast: true, blocks: [{ type: 'actions' }] })];
    expect(ids(plan(entries, { available: 1 }))).toEqual(['a#s1']);
  });

  it('never merges a reply that is edited in place later (a confirmation card)', () => {
    const entries = [progress('a', 's1'), high('a', 'confirm', { editable: true, blocks: [{ type: 'actions' }] }), progress('b', 'b1'), progress('c', 'c1')];
    expect(ids(plan(entries, { available: 0 }))).toEqual(['a#s1']);
  });

  it('stops merging before the message would pass 50 blocks, so a button is never lost', () => {
    const many = Array.from({ length: 49 }, () => ({ type: 'section' }));
    const entries = [progress('a', 's1'), high('a', 'report', { blocks: many }), high('a', 'waiting', { blocks: [{ type: 'section' }, { type: 'actions' }] }), progress('b', 'b1')];
    expect(ids(plan(entries, { available: 0 }))).toEqual(['a#s1', 'a#report']);
  });

  it('between priority news and root cards, sends first whichever would miss its goal first (2 s, 5 s)', () => {
    const entries = [root('c', { createdAt: 1000 }), high('a', 'aborted', { broadcast: true, createdAt: 4500 })];
    // The root card is due at 6 s, the abort at 6.5 s.
    expect(ids(plan(entries, { available: 1, threads: rooted('a') }))).toEqual(['c#root']);
    entries[1]!.createdAt = 3500;
    expect(ids(plan(entries, { available: 1, threads: rooted('a') }))).toEqual(['a#aborted']);
  });

  it('among priority news, sends the oldest news first, not the thread with the oldest progress', () => {
    const entries = [progress('a', 's1', { createdAt: 0 }), high('a', 'waiting', { broadcast: true, createdAt: 900 }), high('b', 'aborted', { broadcast: true, createdAt: 100 })];
    expect(ids(plan(entries, { available: 4 }))).toEqual(['b#aborted']);
  });

  it('holds the reserve for a priority reply whose thread waits for a read-back', () => {
    const entries = [high('a', 'aborted', { attemptedAt: 5 }), progress('b', 'b1')];
    expect(plan(entries, { available: 1, reserve: 1 })).toEqual({ hold: 2 });
    expect(ids(plan(entries, { available: 2, reserve: 1 }))).toEqual(['b#b1']);
  });

  it('spends the last post on progress when no priority news or root card waits in the channel', () => {
    expect(ids(plan([progress('b', 'b1')], { available: 1, reserve: 1 }))).toEqual(['b#b1']);
  });

  it('lets a root card spend the reserve', () => {
    const entries = [high('a', 'aborted', { attemptedAt: 5 }), root('c')];
    expect(ids(plan(entries, { available: 1, reserve: 1, threads: rooted('a') }))).toEqual(['c#root']);
  });

  it('sends nothing while every thread waits for a read-back', () => {
    expect(plan([high('a', 'aborted', { attemptedAt: 5 })], { available: 4 })).toBeUndefined();
  });
});
