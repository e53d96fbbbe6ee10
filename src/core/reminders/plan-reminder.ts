import { waitsForPromotion } from '../rollout/describe-state.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { ReminderMark, ThreadRecord } from '../store-data.js';

/** What to do about one thread now: the mark to keep, and which reminder (if any) to send. */
export interface ReminderPlan {
  /** The mark to store (unchanged when nothing waits). */
  mark?: ReminderMark;
  /** 1: the first reminder (after `after`), 2: the last one (after 4×). */
  send?: 1 | 2;
  /** How long it has waited. */
  waitedMs?: number;
  /** When the next reminder of this wait falls due (ms since the epoch); undefined when none is left. */
  dueAt?: number;
}

/**
 * Decides the promotion reminders of a thread: one when it has waited `afterMs`, one more at 4×, never more for the
 * same wait (the mark is durable). A bot that comes back after a long outage sends one reminder, not two at once.
 */
export function planReminder(o: { thread: ThreadRecord; mark?: ReminderMark; now: number; afterMs: number }): ReminderPlan {
  const { thread, now, afterMs } = o;
  const state = thread.lastState;
  if (!state || thread.outcome || !waitsForPromotion(state)) return { mark: o.mark };
  const wait = waitKey(thread, state);
  const mark: ReminderMark = o.mark?.wait === wait ? { ...o.mark } : { wait, since: waitStart(state, now), sent: 0 };
  const waitedMs = now - mark.since;
  let send: 1 | 2 | undefined;
  if (mark.sent === 0 && waitedMs >= afterMs) send = waitedMs >= 4 * afterMs ? 2 : 1;
  else if (mark.sent === 1 && waitedMs >= 4 * afterMs) send = 2;
  if (send) {
    mark.sent = send;
    mark.lastAt = now;
  }
  const dueAt = mark.sent === 0 ? mark.since + afterMs : mark.sent === 1 ? mark.since + 4 * afterMs : undefined;
  return { mark, ...(send ? { send, waitedMs } : {}), ...(dueAt !== undefined ? { dueAt } : {}) };
}

/** One wait: the revision, abort/retry attempt, pause reason and step. */
function waitKey(thread: ThreadRecord, state: RolloutState): string {
  return `r${thread.revision}:a${thread.attempt}:${state.pauseReasons[0] ?? '-'}:${state.canary?.stepIndex ?? '-'}`;
}

/** The controller's pause start when it is believable (not in our future), else now: the first sweep that saw the wait. */
function waitStart(state: RolloutState, now: number): number {
  const paused = state.pausedSince ? Date.parse(state.pausedSince) : NaN;
  return Number.isFinite(paused) && paused <= now ? paused : now;
}
