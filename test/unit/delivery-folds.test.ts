import { describe, expect, it } from 'vitest';
import { isCardProgress, planFolds } from '../../src/core/delivery/plan-folds.js';
import type { OutboxEntry, ThreadRecord } from '../../src/core/store-data.js';

const KEY = 'voting01/staging/uid/r2';

function thread(o: Partial<ThreadRecord> = {}): ThreadRecord {
  return {
    key: KEY, app: 'voting01', env: 'staging', namespace: 'n', rollout: 'vote', revision: '2', channel: 'C1', rootTs: '1.1', createdAt: 0, startedAt: 0,
    attempt: 1, announced: ['deploy-started', 'a1:step-completed:1', 'a1:step-completed:2', 'a1:paused:4:CanaryPauseStep'], cardVersion: 3, cardSent: 3, actions: [], ...o,
  };
}

let seq = 0;
function reply(eventKey: string, o: Partial<OutboxEntry> = {}): OutboxEntry {
  return { id: `${KEY}#${eventKey}`, threadKey: KEY, channel: 'C1', kind: 'reply', priority: 'normal', text: eventKey, batchable: true, seq: ++seq, createdAt: 0, attempts: 0, ...o };
}

const folded = (entries: OutboxEntry[], t: ThreadRecord = thread(), backlog = true) => planFolds({ entries, threads: { [t.key]: t }, backlog }).map((f) => [f.entry.id.slice(KEY.length + 1), f.reason]);

describe('planFolds', () => {
  it('folds the step progress a current status card shows when the channel has a backlog', () => {
    expect(folded([reply('a1:step-completed:1'), reply('a1:step-completed:2'), reply('a1:paused:4:CanaryPauseStep')])).toEqual([
      ['a1:step-completed:1', 'card-shows-it'],
      ['a1:step-completed:2', 'card-shows-it'],
      ['a1:paused:4:CanaryPauseStep', 'card-shows-it'],
    ]);
  });

  it('folds nothing without a backlog', () => {
    expect(folded([reply('a1:step-completed:1')], thread(), false)).toEqual([]);
  });

  it('keeps step progress while the card in Slack is older than the thread', () => {
    expect(folded([reply('a1:step-completed:2')], thread({ cardSent: 2 }))).toEqual([]);
  });

  it('keeps step progress the thread record has not announced yet (the card was rendered before it)', () => {
    expect(folded([reply('a1:step-completed:3')])).toEqual([]);
  });

  it('keeps step progress of a thread whose root card is not in Slack yet', () => {
    expect(folded([reply('a1:step-completed:1')], thread({ rootTs: undefined }))).toEqual([]);
  });

  it('never folds priority news, a button, a reply edited later, an answer to a person, or one already attempted', () => {
    const t = thread({ announced: [...thread().announced, 'a1:paused:2:CanaryPauseStep', 'a1:completed'] });
    expect(folded([
      reply('a1:paused:2:CanaryPauseStep', { priority: 'high', batchable: false }),
      reply('a1:completed', { priority: 'high', batchable: false }),
      reply('a1:step-completed:1', { blocks: [{ type: 'actions' }] }),
      reply('a1:step-completed:1', { editable: true }),
      reply('a1:step-completed:2', { batchable: false }),
      reply('a1:paused:4:CanaryPauseStep', { attemptedAt: 5 }),
    ], t)).toEqual([]);
  });
});

describe('isCardProgress', () => {
  it('takes only step progress: an analysis reply the card does not show stays a reply', () => {
    const t = thread({ announced: [...thread().announced, 'a1:analysis:step:web-abc:Successful'] });
    expect(isCardProgress(reply('a1:analysis:step:web-abc:Successful'), t)).toBe(false);
    expect(isCardProgress(reply('a1:step-completed:2'), t)).toBe(true);
  });

  it("leaves a rollout's reply labelled in another rollout's deploy thread alone", () => {
    expect(isCardProgress(reply('backend/a1:step-completed:1'), thread({ announced: ['backend/a1:step-completed:1'] }))).toBe(false);
  });

  it('ignores a root entry and a notice', () => {
    expect(isCardProgress(reply('root', { kind: 'root' }), thread({ announced: ['root'] }))).toBe(false);
    expect(isCardProgress(reply('a1:step-completed:1', { kind: 'notice' }), thread())).toBe(false);
  });
});
