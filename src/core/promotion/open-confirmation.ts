import type { Stores } from '../store-ports.js';
import type { Confirmation } from '../store-data.js';

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
 * so nobody can change what an approver is about to confirm. Storing it and replacing are one store call. Returns the
 * record, what it replaced, and the other requests still waiting in the thread for the same typed word (the card says so).
 */
export async function openConfirmation(
  stores: Pick<Stores, 'confirmations' | 'newId'>,
  o: { now: number; request: Omit<Confirmation, 'id' | 'requestedAt' | 'expiresAt' | 'status'> },
): Promise<{ confirmation: Confirmation; replaced: Confirmation[]; others: Confirmation[] }> {
  const { now, request } = o;
  const id = await stores.newId('c', now);
  const verb = verbOf(request.action);
  const sameWord = (c: Confirmation) => c.threadKey === request.threadKey && verbOf(c.action) === verb;
  const ownEarlier = (c: Confirmation) => sameWord(c) && c.requestedBy === request.requestedBy && c.app === request.app && c.env === request.env;
  const confirmation: Confirmation = { ...request, id, requestedAt: now, expiresAt: now + CONFIRMATION_TTL_MS, status: 'pending' };
  const replacedIds = await stores.confirmations.open(confirmation, ownEarlier);
  const replaced = (await Promise.all(replacedIds.map((r) => stores.confirmations.get(r)))).filter((c): c is Confirmation => c !== undefined);
  const others = (await stores.confirmations.ofThread(request.threadKey))
    .filter((c) => c.id !== id && c.status === 'pending' && sameWord(c) && !ownEarlier(c) && now <= c.expiresAt)
    .sort((a, b) => a.requestedAt - b.requestedAt);
  return { confirmation, replaced, others };
}
