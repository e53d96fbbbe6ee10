import { waitsForPromotion } from '../rollout/describe-state.js';
import type { RolloutState } from '../rollout/rollout-state.js';

/** A change a person made to a rollout, as the observer saw it. */
export interface OutsideChange {
  kind: 'promoted' | 'aborted' | 'retried' | 'paused' | 'resumed' | 'restarted';
  /** The bot verb that would have made the same change (its mark means it was the bot's). */
  verb: 'promote' | 'abort' | 'retry' | undefined;
  /** Tells this change apart from one of the same kind earlier in the revision (a restart's requested instant). */
  mark?: string;
}

/** An abort the controller made by itself (failed analysis, progress deadline), not a person. */
const CONTROLLER_ABORT = /analysis|progress ?deadline|timed out/i;

/**
 * The changes between two observed states of one revision that only a person (or the bot) makes: a promotion of a
 * rollout waiting for one, an abort that no analysis or deadline caused, a retry, a manual pause or resume, a restart (`spec.restartAt` newly requested; the bot has no restart verb) (pure).
 * `events` are the types detectRolloutEvents found between them.
 */
export function detectOutsideChanges(o: { previous: RolloutState | undefined; state: RolloutState; events: readonly string[] }): OutsideChange[] {
  const { previous: prev, state: next, events } = o;
  if (!prev || prev.revision !== next.revision || (prev.uid && next.uid && prev.uid !== next.uid)) return [];
  const out: OutsideChange[] = [];
  if (events.includes('retried')) out.push({ kind: 'retried', verb: 'retry' });
  const promoted = !next.aborted && waitsForPromotion(prev) && (events.includes('resumed') || events.includes('completed'));
  if (promoted) out.push({ kind: 'promoted', verb: 'promote' });
  if (events.includes('aborted') && !CONTROLLER_ABORT.test(next.abortReason ?? '')) out.push({ kind: 'aborted', verb: 'abort' });
  if (!prev.specPaused && next.specPaused) out.push({ kind: 'paused', verb: undefined });
  // The bot's promote of a manually paused rollout unpauses it too: the same mark covers it.
  if (prev.specPaused && !next.specPaused && !next.aborted && !promoted) out.push({ kind: 'resumed', verb: 'promote' });
  if (next.restartAt && next.restartAt !== prev.restartAt) out.push({ kind: 'restarted', verb: undefined, mark: next.restartAt });
  return out;
}
