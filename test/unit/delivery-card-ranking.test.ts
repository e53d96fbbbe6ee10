import { describe, expect, it } from 'vitest';
import { rankStaleCards } from '../../src/core/delivery/rank-stale-cards.js';
import type { OutboxEntry, ThreadRecord } from '../../src/core/store-data.js';

function thread(key: string, o: Partial<ThreadRecord> = {}): ThreadRecord {
  return {
    key, app: 'a', env: key, namespace: 'n', rollout: 'vote', revision: '2', channel: 'C1', rootTs: `ts-${key}`, createdAt: 0, startedAt: 0, attempt: 1,
    announced: ['deploy-started', 'a1:step-completed:1', 'a1:step-completed:2'], cardVersion: 3, cardSent: 2, actions: [], ...o,
  };
}

let seq = 0;
function queued(t: ThreadRecord, eventKey: string, o: Partial<OutboxEntry> = {}): OutboxEntry {
  return { id: `${t.key}#${eventKey}`, threadKey: t.key, channel: t.channel, kind: 'reply', priority: 'normal', text: eventKey, batchable: true, seq: ++seq, createdAt: 0, attempts: 0, ...o };
}

const order = (stale: ThreadRecord[], q: OutboxEntry[], backlogged = ['C1']) => rankStaleCards({ stale, queued: q, backlogged: new Set(backlogged) }).map((t) => t.key);

describe('rankStaleCards', () => {
  it('updates first the cards whose thread has step progress queued in a backlogged channel, oldest first', () => {
    const done = thread('done', { outcome: 'completed', createdAt: 9 });
    const late = thread('late');
    const early = thread('early');
    const q = [queued(early, 'a1:step-completed:1'), queued(late, 'a1:step-completed:2')];
    expect(order([done, late, early], q)).toEqual(['early', 'late', 'done']);
  });

  it('puts a thread whose priority reply still waits ahead of one that already shows its latest state', () => {
    const shown = thread('shown', { createdAt: 9 });
    const waiting = thread('waiting');
    const q = [queued(waiting, 'a1:aborted', { priority: 'high', batchable: false })];
    expect(order([shown, waiting], q)).toEqual(['waiting', 'shown']);
  });

  it('does not favour step progress of a channel without a backlog: it is posted soon anyway', () => {
    const quiet = thread('quiet', { channel: 'C2' });
    const busy = thread('busy');
    const q = [queued(quiet, 'a1:step-completed:1', { channel: 'C2' }), queued(busy, 'a1:step-completed:2')];
    expect(order([quiet, busy], q)).toEqual(['busy', 'quiet']);
  });

  it('among cards whose thread shows its latest state, updates finished deploys first, then the newest', () => {
    const old = thread('old', { createdAt: 1 });
    const fresh = thread('fresh', { createdAt: 5 });
    const done = thread('done', { outcome: 'aborted', createdAt: 0 });
    expect(order([old, fresh, done], [])).toEqual(['done', 'fresh', 'old']);
  });

  it('leaves a reply already on its way out of the ranking', () => {
    const a = thread('a', { createdAt: 1 });
    const b = thread('b', { createdAt: 5 });
    expect(order([b, a], [queued(a, 'a1:step-completed:1', { attemptedAt: 3 })])).toEqual(['b', 'a']);
  });
});
