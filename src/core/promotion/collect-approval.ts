import type { Clock } from '../ports.js';
import type { Confirmation } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import type { ConfirmationCards } from './confirmation-cards.js';
import type { Approval } from './confirmation-record.js';
import type { ConfirmationNotice } from './render-confirmation-notice.js';
import { renderApprovals } from './render-card-outcome.js';

/** What one approver's confirmation did to a request that needs several. */
export type ApprovalStep =
  /** This approval was the last one needed: the caller claims the request and sends it. */
  | { kind: 'complete'; approvals: Approval[] }
  /** Recorded and shown on the card; more are needed, nothing is sent. */
  | { kind: 'waiting'; approvals: Approval[] }
  /** Not counted: the answer says why. */
  | { kind: 'notice'; notice: ConfirmationNotice }
  /** The request was decided meanwhile. */
  | { kind: 'gone' };

/**
 * The two-person rule (`approvers.required` ≥ 2): records `user`'s approval of `c` once, atomically in the store, so
 * exactly one approval completes it; the card shows who approved so far. The requester counts only with
 * `requesterCounts`.
 */
export async function collectApproval(
  deps: { stores: Pick<Stores, 'confirmations'>; cards: Pick<ConfirmationCards, 'progress'>; clock: Clock },
  o: { c: Confirmation; user: string; rule: { required: number; requesterCounts: boolean } },
): Promise<ApprovalStep> {
  const { c, user, rule } = o;
  if (user === c.requestedBy && !rule.requesterCounts) return { kind: 'notice', notice: { kind: 'own-request', user, required: rule.required } };
  const r = await deps.stores.confirmations.approve(c.id, user, deps.clock.now(), rule.required);
  // Approvals after the one that completed it (before it was claimed) are too late: it is being sent.
  if (!r || r.approvals.length > rule.required) return { kind: 'gone' };
  if (!r.added) return { kind: 'notice', notice: { kind: 'already-approved', user, count: r.approvals.length, required: rule.required } };
  if (r.complete) return { kind: 'complete', approvals: r.approvals };
  await deps.cards.progress(c.id, renderApprovals({ approvals: r.approvals, required: rule.required }));
  return { kind: 'waiting', approvals: r.approvals };
}
