import { describe, expect, it } from 'vitest';
import { renderOutsideAction } from '../../src/core/promotion/render-outside-action.js';
import { loadRolloutFixture } from '../../emulators/world/rollout-fixtures.js';
import { detectRolloutEvents } from '../../src/core/rollout-threads/detect-rollout-events.js';
import { renderCard } from '../../src/core/rollout-threads/render-card.js';
import { renderEvent } from '../../src/core/rollout-threads/render-event.js';
import { readRollout } from '../../src/core/rollout/read-rollout.js';
import type { RolloutState } from '../../src/core/rollout/rollout-state.js';
import { simulatePacingFloor, SLACK_LIMITS, type FloorChange } from '../../bench/lib/pacing-floor.js';
import {
  classifyEvent, finalShownAt, judgeChanges, levelOfState, LEVEL_COMPLETED, LEVEL_ENDED, levelOfText, shownAt, summarizeLatencies, type FleetChange, type ThreadMessage,
} from '../../bench/lib/strict-oracle.js';

const card = (at: number, level: number): ThreadMessage => ({ at, kind: 'card', level });
const reply = (at: number, level: number): ThreadMessage => ({ at, kind: 'reply', level });

describe('strict oracle: what a message shows', () => {
  it('reads a step reply as that step', () => {
    expect(levelOfText('✅ Step 3/5 completed (setWeight: 50) · weight 50%', 'reply')).toBe(6);
  });

  it('reads a merged reply as its highest line', () => {
    expect(levelOfText('✅ Step 1/5 completed (setWeight: 20) · weight 20%\n⏸️ Paused at step 2/5 (weight 20%), waiting for promotion. To continue: `/promote env01`', 'reply')).toBe(3);
  });

  it('reads a card at a step index as the steps done before it, one more while paused there', () => {
    expect(levelOfText('🔄 app01 · env01 · revision 2 · *Progressing*: more replicas need to be updated · tag abc-2 · step 3/5 (setWeight: 50) · weight 50%', 'card')).toBe(4);
    expect(levelOfText('⏸️ app01 · env01 · revision 2 · *Paused, waiting for promotion* · tag abc-2 · step 2/5 (pause) · weight 20%', 'card')).toBe(3);
    expect(levelOfText('⏸️ app01 · env01 · revision 2 · Paused at step 2/5 (pause), waiting for promotion · tag abc-2 · step 2/5 (pause) · set weight 20%', 'card')).toBe(3);
    expect(levelOfText('🛑 app01 · env01 · revision 2 · Aborted, back on the stable version · tag abc-2', 'card')).toBe(LEVEL_ENDED);
    expect(levelOfText('⏸️ app01 · env01 · revision 2 · *Paused* (CanaryPauseStep) · tag abc-2 · step 4/5 (pause: 5s) · weight 50%', 'card')).toBe(7);
  });

  it('reads a card with every step done, but not yet completed, as the last step only', () => {
    expect(levelOfText('🔄 app01 · env01 · revision 2 · *Progressing* · tag abc-2 · all 5 steps done · weight 100%', 'card')).toBe(10);
  });

  it('reads completion and abort above every step', () => {
    expect(levelOfText('🎉 Completed: revision 2 is now stable.', 'reply')).toBe(LEVEL_COMPLETED);
    expect(levelOfText('🛑 app01 · env01 · revision 2 · *Aborted*, back on the stable version · tag abc-2 · step 2/5 (pause) · weight 0%', 'card')).toBe(LEVEL_ENDED);
  });

  it('reads the note of an abort made outside chat as the abort, and the other outside notes as nothing', () => {
    // After a kubectl abort the thread's last reply is this note, which says the deploy is aborted.
    expect(levelOfText(renderOutsideAction('aborted'), 'reply')).toBe(LEVEL_ENDED);
    for (const kind of ['promoted', 'retried', 'paused', 'resumed', 'restarted'] as const) expect(levelOfText(renderOutsideAction(kind), 'reply')).toBe(-1);
  });

  it('gives a root card with no state the revision only, and a reply it cannot read nothing', () => {
    expect(levelOfText('🔄 app01 · env01 · revision 2 · Deploy started', 'card')).toBe(0);
    expect(levelOfText('🔁 Retried after the abort', 'reply')).toBe(-1);
  });
});

describe('strict oracle: when a change is shown', () => {
  it('counts the first message at or after the change that shows it or a later step', () => {
    expect(shownAt({ at: 100, level: 4 }, [card(50, 0), reply(120, 2), reply(300, 6)])).toBe(300);
  });

  it('does not count a message sent before the change', () => {
    expect(shownAt({ at: 100, level: 2 }, [reply(90, 6)])).toBeUndefined();
  });

  it('does not count the last step for the completion', () => {
    expect(shownAt({ at: 100, level: LEVEL_COMPLETED }, [reply(200, 10)])).toBeUndefined();
  });

  it('only looks in the change’s own thread', () => {
    const changes: FleetChange[] = [{ at: 100, threadKey: 'a/r2', channel: 'C1', kind: 'step', level: 2, key: 'a1:step-completed:1' }];
    const messages = new Map([['a/r1', [reply(150, 2)]], ['a/r2', [card(90, 0), reply(400, 2)]]]);
    expect(judgeChanges(changes, messages)).toEqual([300]);
  });
});

describe('strict oracle: when a final state is shown', () => {
  it('is shown once the card’s current version has the final level', () => {
    expect(finalShownAt(6, [card(10, 0), reply(20, 2), card(30, 6)])).toBe(30);
  });

  it('is shown by the thread’s last reply while the card is stale', () => {
    expect(finalShownAt(LEVEL_COMPLETED, [card(10, 0), reply(40, LEVEL_COMPLETED)])).toBe(40);
  });

  it('is no longer shown when a later reply shows less and the card is stale', () => {
    expect(finalShownAt(3, [card(10, 0), reply(20, 3), reply(30, 2)])).toBeUndefined();
  });

  it('is shown again from the message that restores it', () => {
    expect(finalShownAt(3, [card(10, 0), reply(20, 3), reply(30, 2), card(50, 3)])).toBe(50);
  });
});

describe('strict oracle: summaries', () => {
  it('makes the p99 infinite when one change is never shown', () => {
    const x = summarizeLatencies([...Array<number>(999).fill(10), undefined]);
    expect(x.p99).toBe(Number.POSITIVE_INFINITY);
    expect(x.p50).toBe(10);
    expect(x.unshown).toBe(1);
  });
});

describe('pacing floor', () => {
  const change = (at: number, threadKey: string, o: Partial<FloorChange> = {}): FloorChange => ({ at, channel: 'C1', threadKey, priority: false, ...o });

  it('shows a lone change at once', () => {
    const r = simulatePacingFloor([change(1000, 't1')]);
    expect(r.shownAt).toEqual([1000]);
    expect(r.posts).toBe(1);
  });

  it('shows every pending change of a thread with one message', () => {
    const r = simulatePacingFloor([change(0, 't0'), change(1, 't0'), change(2, 't0')], { ...SLACK_LIMITS, postBurst: 1, updateBurst: 0, updatesPerMinute: 0.0001 });
    expect(r.shownAt).toEqual([0, 1000, 1000]);
    expect(r.posts).toBe(2);
  });

  it('paces posts per channel: burst, then one a second', () => {
    const changes = Array.from({ length: 6 }, (_, i) => change(0, `t${i}`));
    const r = simulatePacingFloor(changes, { ...SLACK_LIMITS, updateBurst: 0 });
    expect(r.shownAt).toEqual([0, 0, 0, 0, 1000, 2000]);
  });

  it('never posts more than the window allows, whatever the burst', () => {
    const changes = Array.from({ length: 12 }, (_, i) => change(0, `t${i}`));
    const r = simulatePacingFloor(changes, { ...SLACK_LIMITS, postBurst: 20, updateBurst: 0 });
    expect(r.shownAt.filter((t) => t === 0)).toHaveLength(10);
    expect(r.shownAt.filter((t) => t === 10_000)).toHaveLength(2);
  });

  it('gives channels their own post pace', () => {
    const changes = [...Array.from({ length: 5 }, (_, i) => change(0, `a${i}`)), ...Array.from({ length: 5 }, (_, i) => change(0, `b${i}`, { channel: 'C2' }))];
    const r = simulatePacingFloor(changes, { ...SLACK_LIMITS, updateBurst: 0 });
    expect(Math.max(...r.shownAt.map(Number))).toBe(1000);
  });

  it('refreshes cards from one workspace budget once their root is posted', () => {
    // Two threads in each of two channels, posts exhausted by the roots; the second change of each goes by update.
    const limits = { ...SLACK_LIMITS, postBurst: 1, postsPerSecond: 0.001, updatesPerMinute: 60, updateBurst: 1 };
    const r = simulatePacingFloor([change(0, 'a'), change(0, 'b', { channel: 'C2' }), change(10, 'a'), change(10, 'b', { channel: 'C2' })], limits);
    expect(r.shownAt.slice(0, 2)).toEqual([0, 0]);
    expect([...r.shownAt.slice(2)].sort((x, y) => x! - y!)).toEqual([10, 1010]);
    expect(r.updates).toBe(2);
  });

  it('puts a priority change ahead of older step progress', () => {
    const limits = { ...SLACK_LIMITS, postBurst: 1, updateBurst: 0 };
    // Roots of t1 and t2 at 0 and 1000; at 1500 t1 has old progress, t2 an abort: the post at 2000 goes to t2.
    const r = simulatePacingFloor([change(0, 't1'), change(0, 't2'), change(1100, 't1'), change(1500, 't2', { priority: true })], limits);
    expect(r.shownAt[3]).toBe(2000);
    expect(r.shownAt[2]).toBe(3000);
  });

  it('puts a priority change ahead of a thread still waiting for its root card', () => {
    const limits = { ...SLACK_LIMITS, postBurst: 1, updateBurst: 0 };
    const r = simulatePacingFloor([change(0, 't1'), change(100, 't2'), change(500, 't1', { priority: true })], limits);
    expect(r.shownAt).toEqual([0, 2000, 1000]);
  });

  it('serves the thread whose oldest pending change is oldest', () => {
    const limits = { ...SLACK_LIMITS, postBurst: 2, updateBurst: 0 };
    const r = simulatePacingFloor([change(0, 't1'), change(0, 't2'), change(100, 't2'), change(200, 't1')], limits);
    expect(r.shownAt[2]).toBe(1000);
    expect(r.shownAt[3]).toBe(2000);
  });
});

describe('strict oracle: the bot’s own wording', () => {
  const canaries = ['healthy-canary-workloadref-v1.yaml', 'canary-paused-at-pause-step-v1.yaml', 'canary-aborted-background-analysis-failed.yaml', 'canary-trafficrouted-weights-timedout.yaml'] as const;
  const cardOf = (state: RolloutState) => renderCard({
    key: 'k', app: 'app01', env: 'env01', namespace: state.namespace, rollout: state.name, uid: state.uid, revision: state.revision, podHash: state.currentPodHash,
    channel: 'C1', createdAt: 0, attempt: 1, announced: [], lastState: state, cardVersion: 1, cardSent: 0, actions: [], startedAt: 0,
  }, undefined).text;

  for (const file of canaries) {
    it(`reads the card of ${file} at the level of its state`, () => {
      const state = readRollout(loadRolloutFixture(file));
      expect(levelOfText(cardOf(state), 'card')).toBe(levelOfState(state));
    });

    it(`reads each reply for ${file} at the level of its event`, () => {
      const state = readRollout(loadRolloutFixture(file));
      const prev: RolloutState = { ...state, aborted: false, fullyPromoted: false, pauseReasons: [], canary: state.canary && { ...state.canary, stepIndex: 0 } };
      for (const event of [...detectRolloutEvents(undefined, state), ...detectRolloutEvents(prev, state)]) {
        const reply = renderEvent(event, state, undefined);
        const change = classifyEvent(event, state, reply?.priority === 'high' && event.type === 'paused');
        // Analysis and degradation (kind `other`) are not on the step scale and do not occur in the fleet.
        if (!reply || !change || change.kind === 'other') continue;
        expect(levelOfText(reply.text, 'reply'), event.key).toBe(change.level);
      }
    });
  }
});
