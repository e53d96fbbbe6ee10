import type { Confirmation, StoreData } from '../store-data.js';

/** How long a confirmation stays valid. */
export const CONFIRMATION_TTL_MS = 10 * 60_000;

/** Which typed word confirms an action: `promote` confirms promotions and the chain's deploy offers. */
export function verbOf(action: Confirmation['action']): 'promote' | 'abort' | 'retry' {
  return action === 'deploy' ? 'promote' : action;
}

/**
 * Records a new request waiting for confirmation; the one owner of confirmation records (promotions and the chain's
 * deploy offers both come here). It replaces only the same person's pending request of the same verb for the same
 * environment in the same thread: somebody else's request, least of all an approver's, is never replaced by it,
 * so nobody can change what an approver is about to confirm. Returns the record, what it replaced, and the other
 * requests still waiting in the thread for the same typed word (the card says so).
 */
export function openConfirmation(o: {
  data: StoreData;
  now: number;
  request: Omit<Confirmation, 'id' | 'requestedAt' | 'expiresAt' | 'status'>;
}): { confirmation: Confirmation; replaced: Confirmation[]; others: Confirmation[] } {
  const { data, now, request } = o;
  const id = `c${now.toString(36)}${data.seq++}`;
  const verb = verbOf(request.action);
  const replaced: Confirmation[] = [];
  const others: Confirmation[] = [];
  for (const c of Object.values(data.confirmations)) {
    if (c.threadKey !== request.threadKey || c.status !== 'pending' || verbOf(c.action) !== verb) continue;
    if (c.requestedBy === request.requestedBy && c.app === request.app && c.env === request.env) {
      c.status = 'superseded';
      c.supersededBy = id;
      replaced.push(c);
    } else if (now <= c.expiresAt) others.push(c);
  }
  const confirmation: Confirmation = { ...request, id, requestedAt: now, expiresAt: now + CONFIRMATION_TTL_MS, status: 'pending' };
  data.confirmations[id] = confirmation;
  others.sort((a, b) => a.requestedAt - b.requestedAt);
  return { confirmation, replaced, others };
}
