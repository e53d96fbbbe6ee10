import { weightAtStep } from '../rollout/canary-steps.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { RolloutEvent } from './rollout-event.js';

type EventOf<T extends RolloutEvent['type']> = Extract<RolloutEvent, { type: T }>;

/** Client-side phases (GetRolloutPhase) that only say "the controller has not caught up yet". */
const TRANSIENT_MESSAGES = new Set([
  'waiting for rollout spec update to be observed',
  'waiting for rollout to unpause',
  'waiting for rollout spec update to be observed for the reference workload',
]);

/**
 * The events that happened between two observed states of one rollout, in the order they happen
 * (retry, steps, analysis, pause/resume, abort, degraded/recovered, completion).
 *
 * Keys are stable within one revision and one abort/retry attempt, so re-running the same diff (after a restart)
 * yields the same keys; the caller scopes them by revision and attempt. With no `prev`, or when the revision or
 * uid changed, the result is `deploy-started` followed by what `next` shows right now (pause, analysis, abort,
 * degradation, completion) — never step events, since the steps already done were not watched.
 */
export function detectRolloutEvents(prev: RolloutState | undefined, next: RolloutState): RolloutEvent[] {
  if (prev === undefined || prev.revision !== next.revision || (prev.uid && next.uid && prev.uid !== next.uid)) {
    return firstSight(next);
  }
  return [
    ...retried(prev, next),
    ...stepsCompleted(prev, next),
    ...analysisChanges(prev, next),
    ...pauseChanges(prev, next),
    ...aborted(prev, next),
    ...degradation(prev, next),
    ...(!prev.fullyPromoted && next.fullyPromoted ? [completed(next)] : []),
  ];
}

function firstSight(next: RolloutState): RolloutEvent[] {
  const events: RolloutEvent[] = [];
  const started: EventOf<'deploy-started'> = { type: 'deploy-started', key: 'deploy-started', revision: next.revision };
  const tag = next.images[0]?.tag;
  if (tag !== undefined) started.tag = tag;
  events.push(started);
  events.push(...analysisChanges(undefined, next));
  const reason = next.pauseReasons[0];
  if (reason !== undefined) events.push(paused(next, reason));
  if (next.specPaused) events.push(paused(next, 'manual'));
  if (next.aborted) events.push(abortedEvent(next));
  const degraded = nonAbortDegradation(next);
  if (degraded !== undefined) events.push({ type: 'degraded', key: `degraded:${degraded}`, message: degraded });
  if (next.fullyPromoted) events.push(completed(next));
  return events;
}

function retried(prev: RolloutState, next: RolloutState): RolloutEvent[] {
  return prev.aborted && !next.aborted ? [{ type: 'retried', key: 'retried' }] : [];
}

/**
 * One event per step the controller completed. None when the index went down (abort, steps edited) or when it
 * jumped over several steps straight to the end (promote --full, rollback fast-track): the controller announces
 * no skipped step (reference 4.3), and `--full` moves the index to the end before the stable switch.
 */
function stepsCompleted(prev: RolloutState, next: RolloutState): RolloutEvent[] {
  const before = prev.canary;
  const after = next.canary;
  if (!before || !after || next.aborted || after.stepIndex <= before.stepIndex) return [];
  const jump = after.stepIndex - before.stepIndex;
  const skippedToEnd = jump > 1 && (after.stepIndex >= after.stepCount || (!prev.fullyPromoted && next.fullyPromoted));
  if (skippedToEnd) return [];
  const events: RolloutEvent[] = [];
  for (let i = before.stepIndex; i < after.stepIndex && i < after.steps.length; i++) {
    events.push({
      type: 'step-completed',
      key: `step-completed:${i + 1}`,
      step: i + 1,
      of: after.stepCount,
      text: after.steps[i]?.text ?? '',
      weight: weightAtStep(after.steps, i),
    });
  }
  return events;
}

function analysisChanges(prev: RolloutState | undefined, next: RolloutState): RolloutEvent[] {
  const events: RolloutEvent[] = [];
  for (const run of next.analysis) {
    const before = prev?.analysis.find((a) => a.kind === run.kind && a.name === run.name);
    if (before?.status === run.status) continue;
    const event: EventOf<'analysis'> = {
      type: 'analysis', key: `analysis:${run.kind}:${run.name}:${run.status}`, kind: run.kind, name: run.name, status: run.status,
    };
    if (run.message !== undefined) event.message = run.message;
    events.push(event);
  }
  return events;
}

/**
 * A controller pause is announced when the pause list becomes non-empty, or when it names a different reason or
 * step than before (two pauses seen back to back when a watch coalesced the states in between). A manual
 * `spec.paused` is announced as reason `manual`. Resumes are announced unless an abort cleared the pause.
 */
function pauseChanges(prev: RolloutState, next: RolloutState): RolloutEvent[] {
  const events: RolloutEvent[] = [];
  const before = prev.pauseReasons[0];
  const after = next.pauseReasons[0];
  const prevKey = before === undefined ? undefined : pauseKey(prev, before);
  const nextKey = after === undefined ? undefined : pauseKey(next, after);
  if (prevKey !== undefined && prevKey !== nextKey && !next.aborted) {
    events.push({ type: 'resumed', key: `resumed:${prevKey}` });
  }
  if (after !== undefined && nextKey !== prevKey) events.push(paused(next, after));
  if (!prev.specPaused && next.specPaused) events.push(paused(next, 'manual'));
  if (prev.specPaused && !next.specPaused && !next.aborted) {
    events.push({ type: 'resumed', key: `resumed:${pauseKey(prev, 'manual')}` });
  }
  return events;
}

function aborted(prev: RolloutState, next: RolloutState): RolloutEvent[] {
  return !prev.aborted && next.aborted ? [abortedEvent(next)] : [];
}

/**
 * Degraded for a reason other than an abort (the abort has its own event). Transient client-side phases say
 * nothing about degradation, so they neither recover nor degrade.
 */
function degradation(prev: RolloutState, next: RolloutState): RolloutEvent[] {
  if (TRANSIENT_MESSAGES.has(next.message)) return [];
  const before = nonAbortDegradation(prev);
  const after = nonAbortDegradation(next);
  if (after !== undefined && after !== before) return [{ type: 'degraded', key: `degraded:${after}`, message: after }];
  if (before !== undefined && after === undefined && !next.aborted) return [{ type: 'recovered', key: `recovered:${before}` }];
  return [];
}

/** The Degraded message unless it is an abort's (also while a retry is not yet reconciled). */
function nonAbortDegradation(s: RolloutState): string | undefined {
  if (s.phase !== 'Degraded' || s.aborted || s.message.startsWith('RolloutAborted')) return undefined;
  return s.message;
}

/** `CanaryPauseStep:1` (reason and 0-based step index) for a canary; the reason alone otherwise. */
function pauseKey(s: RolloutState, reason: string): string {
  return s.canary ? `${reason}:${s.canary.stepIndex}` : reason;
}

function paused(s: RolloutState, reason: string): RolloutEvent {
  const event: EventOf<'paused'> = { type: 'paused', key: `paused:${pauseKey(s, reason)}`, reason };
  const canary = s.canary;
  if (canary && canary.stepCount > 0) {
    if (canary.stepIndex < canary.stepCount) event.step = canary.stepIndex + 1;
    event.of = canary.stepCount;
  }
  if (canary) event.weight = canary.setWeight;
  return event;
}

function abortedEvent(s: RolloutState): RolloutEvent {
  return { type: 'aborted', key: 'aborted', reason: s.abortReason ?? `Rollout aborted update to revision ${s.revision}` };
}

function completed(s: RolloutState): RolloutEvent {
  return { type: 'completed', key: 'completed', revision: s.revision };
}
