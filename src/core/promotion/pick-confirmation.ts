import type { Confirmation } from '../store-data.js';
import { verbOf } from './open-confirmation.js';

/** What a word typed in a deploy thread refers to. */
export type ConfirmationPick =
  /** This request (its status and the person's right to confirm it are judged next). */
  | { kind: 'confirm'; confirmation: Confirmation }
  /** Several requests are waiting and the word could mean any of them: ask, confirm nothing. */
  | { kind: 'ask'; candidates: Confirmation[] }
  /** Nothing of that verb was ever requested in the thread. */
  | { kind: 'none' };

/**
 * Which request `promote`, `abort` or `retry` typed in a thread confirms. A typed word carries no id, so it may only
 * confirm a request when that cannot be mistaken: the typist's own pending request, else the only pending one. When
 * several are pending (by different people: a person's newer request replaces their older one) the answer is to ask.
 * With nothing pending, the latest request of that verb, whatever its status, so the answer can say what became of it
 * (done, expired, cancelled).
 */
export function pickConfirmation(o: { confirmations: Confirmation[]; threadKey: string; word: 'promote' | 'abort' | 'retry'; user: string; now: number }): ConfirmationPick {
  const ofVerb = o.confirmations.filter((c) => c.threadKey === o.threadKey && verbOf(c.action) === o.word).sort((a, b) => a.requestedAt - b.requestedAt);
  const live = ofVerb.filter((c) => c.status === 'pending' && o.now <= c.expiresAt);
  const own = live.filter((c) => c.requestedBy === o.user);
  if (own.length === 1) return { kind: 'confirm', confirmation: own[0]! };
  if (live.length === 1) return { kind: 'confirm', confirmation: live[0]! };
  if (live.length > 1) return { kind: 'ask', candidates: live };
  const latest = ofVerb.at(-1);
  return latest ? { kind: 'confirm', confirmation: latest } : { kind: 'none' };
}
