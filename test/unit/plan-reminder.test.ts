import { describe, expect, it } from 'vitest';
import { planReminder } from '../../src/core/reminders/plan-reminder.js';
import type { ReminderMark } from '../../src/core/store-data.js';
import { canaryState, threadOf } from '../support/state-builders.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const waiting = threadOf(canaryState({ pausedSince: new Date(T0).toISOString() }));

/** Runs the planner at each minute mark, carrying the mark along like the store does. */
function sentAt(minutes: number[], thread = waiting): Array<{ at: number; send: number }> {
  let mark: ReminderMark | undefined;
  const out: Array<{ at: number; send: number }> = [];
  for (const m of minutes) {
    const plan = planReminder({ thread, mark, now: T0 + m * MIN, afterMs: 30 * MIN });
    mark = plan.mark;
    if (plan.send) out.push({ at: m, send: plan.send });
  }
  return out;
}

describe('planReminder', () => {
  it('sends the first reminder at 30m and the last at 2h, never more', () => {
    expect(sentAt([1, 29, 30, 31, 60, 119, 120, 121, 600, 6000])).toEqual([{ at: 30, send: 1 }, { at: 120, send: 2 }]);
  });

  it('sends one reminder, not two, when it first looks after 4x has passed', () => {
    expect(sentAt([200, 201, 500])).toEqual([{ at: 200, send: 2 }]);
  });

  it('counts from the controller pause time', () => {
    const plan = planReminder({ thread: waiting, now: T0 + 31 * MIN, afterMs: 30 * MIN });
    expect(plan).toMatchObject({ send: 1, waitedMs: 31 * MIN });
  });

  it('counts from first sight when the pause time lies in the future (clock skew)', () => {
    const skewed = threadOf(canaryState({ pausedSince: new Date(T0 + 60 * MIN).toISOString() }));
    const first = planReminder({ thread: skewed, now: T0, afterMs: 30 * MIN });
    expect(first.send).toBeUndefined();
    expect(first.mark?.since).toBe(T0);
  });

  it('starts over for a new wait (the next pause step)', () => {
    const first = planReminder({ thread: waiting, now: T0 + 31 * MIN, afterMs: 30 * MIN });
    const next = threadOf(canaryState({ pausedSince: new Date(T0 + 40 * MIN).toISOString(), canary: { ...canaryState().canary!, stepIndex: 3 } }));
    const plan = planReminder({ thread: next, mark: first.mark, now: T0 + 71 * MIN, afterMs: 30 * MIN });
    expect(plan.send).toBe(1);
    expect(plan.mark?.wait).not.toBe(first.mark?.wait);
  });

  it('does nothing for a rollout that is not waiting for a person, or a finished thread', () => {
    const running = threadOf(canaryState({ pauseReasons: [], phase: 'Progressing', canary: { ...canaryState().canary!, stepIndex: 0 } }));
    expect(planReminder({ thread: running, now: T0 + 600 * MIN, afterMs: 30 * MIN }).send).toBeUndefined();
    const timedPause = threadOf(canaryState({ canary: { ...canaryState().canary!, steps: canaryState().canary!.steps.map((s, i) => (i === 1 ? { ...s, pauseSeconds: 30 } : s)) } }));
    expect(planReminder({ thread: timedPause, now: T0 + 600 * MIN, afterMs: 30 * MIN }).send).toBeUndefined();
    const done = threadOf(canaryState(), { outcome: 'completed' });
    expect(planReminder({ thread: done, now: T0 + 600 * MIN, afterMs: 30 * MIN }).send).toBeUndefined();
  });
});
