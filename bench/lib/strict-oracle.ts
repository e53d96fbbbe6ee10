import type { RolloutEvent } from '../../src/core/rollout-threads/rollout-event.js';
import type { RolloutState } from '../../src/core/rollout/rollout-state.js';
import { percentile } from './stats.js';

/**
 * The strict oracle: when is a change of a rollout shown in Slack?
 *
 * Every change and every message is placed on one scale, the *level* of a revision's life, so "shows this change or a
 * later one of the same rollout" is a comparison: the revision started (0), step k completed (2k), paused at step j
 * (2j − 1, i.e. after step j − 1 and before step j), completed (after every step), aborted or ended (after everything).
 * A change is shown by the first message in its own revision's thread (the root card, any later version of it, or a
 * reply), sent at or after the change, whose level is at least the change's. A final state is shown from the moment
 * the root card's current version or the thread's last reply has the final level, as long as that stays so.
 */

/** Completed: after the last step, whatever the step count. */
export const LEVEL_COMPLETED = 1_000_000;
/** Aborted, superseded, or ended while offline: after everything else in the revision. */
export const LEVEL_ENDED = 2_000_000;

/** The kinds of change the bench reports. `other` (analysis, degraded, recovered, retried) does not occur in the fleet. */
export type ChangeKind = 'revision' | 'step' | 'promotion' | 'completion' | 'abort' | 'other';
export const CHANGE_KINDS: readonly ChangeKind[] = ['revision', 'step', 'promotion', 'completion', 'abort', 'other'];
/** Kinds the bot must put ahead of step progress (goal: p99 ≤ 2 s). */
export const PRIORITY_KINDS: ReadonlySet<ChangeKind> = new Set(['promotion', 'completion', 'abort']);

/** One change the driver caused, as the oracle saw it. */
export interface FleetChange {
  /** Date.now() of the emulator write that caused it. */
  at: number;
  threadKey: string;
  channel: string;
  kind: ChangeKind;
  level: number;
  /** The scoped event key (`deploy-started`, `a1:step-completed:3`, …). */
  key: string;
}

/** One message of a thread as Slack shows it: the root card (posted or updated) or a reply. */
export interface ThreadMessage {
  at: number;
  kind: 'card' | 'reply';
  level: number;
}

/** The level of the state a rollout is in (what its card would show). */
export function levelOfState(s: RolloutState): number {
  if (s.aborted) return LEVEL_ENDED;
  if (s.fullyPromoted && s.phase === 'Healthy') return LEVEL_COMPLETED;
  const c = s.canary;
  if (!c) return 0;
  return 2 * c.stepIndex + (s.pauseReasons.length > 0 || s.specPaused ? 1 : 0);
}

/** The kind and level of one detected event, or undefined for events that show nothing of their own (a canary resume). */
export function classifyEvent(event: RolloutEvent, state: RolloutState, waitsForPerson: boolean): { kind: ChangeKind; level: number } | undefined {
  switch (event.type) {
    case 'deploy-started':
      return { kind: 'revision', level: 0 };
    case 'step-completed':
      return { kind: 'step', level: 2 * event.step };
    case 'paused': {
      const level = event.step !== undefined ? 2 * event.step - 1 : levelOfState(state);
      // A timed pause is step progress (a normal, batchable reply); an indefinite one waits for a person.
      return { kind: waitsForPerson ? 'promotion' : 'step', level };
    }
    case 'completed':
      return { kind: 'completion', level: LEVEL_COMPLETED };
    case 'aborted':
      return { kind: 'abort', level: LEVEL_ENDED };
    case 'resumed':
      return undefined;
    default:
      return { kind: 'other', level: levelOfState(state) };
  }
}

/**
 * The level a message's text shows (the bot's wording, see render-event.ts and render-card.ts); a merged reply shows
 * the highest of its lines. A root card always shows at least that the revision started.
 */
export function levelOfText(text: string, kind: ThreadMessage['kind']): number {
  let level = kind === 'card' ? 0 : -1;
  const at = (v: number) => {
    if (v > level) level = v;
  };
  // "↪️ Aborted outside chat …": the note of an abort made with kubectl says it is aborted as plainly as the abort's reply.
  if (/🛑 Aborted|\*Aborted\*|· Aborted, |↪️ Aborted outside chat|Superseded by revision|ended while I was offline/.test(text)) at(LEVEL_ENDED);
  if (/🎉 Completed|\*Completed\*|· Completed, |🎉 Revision \S+ completed/.test(text)) at(LEVEL_COMPLETED);
  for (const m of text.matchAll(/Step (\d+)\/\d+ completed/g)) at(2 * Number(m[1]));
  for (const m of text.matchAll(/Paused at step (\d+)\/\d+/g)) at(2 * Number(m[1]) - 1);
  if (kind === 'card') {
    // The card's progress: "step j/M (…)" is step index j − 1, one more while it is paused there; "all M steps done".
    const all = /\ball (\d+) steps done\b/.exec(text);
    if (all) at(2 * Number(all[1]));
    const step = /(?:^| · )step (\d+)\/\d+/.exec(text);
    if (step) at(2 * (Number(step[1]) - 1) + (/\*Paused|· Paused/.test(text) ? 1 : 0));
  }
  return level;
}

/** When a change was first shown: the first message in its thread, at or after it, with at least its level. */
export function shownAt(change: Pick<FleetChange, 'at' | 'level'>, messages: readonly ThreadMessage[]): number | undefined {
  for (const m of messages) if (m.at >= change.at && m.level >= change.level) return m.at;
  return undefined;
}

/**
 * From when the final state stays shown: the root card's current version or the thread's last reply has the final
 * level, from that message on to the end of what was recorded. Undefined when it is not shown at the end.
 */
export function finalShownAt(finalLevel: number, messages: readonly ThreadMessage[]): number | undefined {
  let card = -1;
  let reply = -1;
  let since: number | undefined;
  for (const m of messages) {
    if (m.kind === 'card') card = m.level;
    else reply = m.level;
    const shown = card >= finalLevel || reply >= finalLevel;
    if (!shown) since = undefined;
    else since ??= m.at;
  }
  return since;
}

/** Latency figures of one kind of change: an unshown change is infinitely late, and any one makes the p99 infinite. */
export interface LatencySummary {
  n: number;
  unshown: number;
  p50: number;
  p99: number;
  max: number;
}

/** p50/p99/max of latencies (ms), where `undefined` is a change never shown. */
export function summarizeLatencies(latencies: ReadonlyArray<number | undefined>): LatencySummary {
  const shown = latencies.filter((v): v is number => v !== undefined);
  const unshown = latencies.length - shown.length;
  const sorted = [...shown, ...Array<number>(unshown).fill(Number.POSITIVE_INFINITY)].sort((a, b) => a - b);
  return {
    n: latencies.length,
    unshown,
    p50: percentile(sorted, 50),
    p99: unshown > 0 ? Number.POSITIVE_INFINITY : percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
  };
}

/** Each change's latency (ms; undefined when never shown) against the messages of every thread. */
export function judgeChanges(changes: readonly FleetChange[], messagesByThread: ReadonlyMap<string, readonly ThreadMessage[]>): Array<number | undefined> {
  return changes.map((c) => {
    const at = shownAt(c, messagesByThread.get(c.threadKey) ?? []);
    return at === undefined ? undefined : at - c.at;
  });
}

/** Per-kind summaries of latencies that line up with `changes` (kinds with no change left out). */
export function summarizeByKind(changes: readonly FleetChange[], latencies: ReadonlyArray<number | undefined>): Partial<Record<ChangeKind, LatencySummary>> {
  const out: Partial<Record<ChangeKind, LatencySummary>> = {};
  for (const kind of CHANGE_KINDS) {
    const of = latencies.filter((_, i) => changes[i]!.kind === kind);
    if (of.length) out[kind] = summarizeLatencies(of);
  }
  return out;
}
