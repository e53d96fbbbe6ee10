import type { Clock } from '../../core/ports.js';
import type { DeliveryClaims } from '../../core/store-ports.js';

/**
 * Claims Slack delivery keys once, durably: Slack retries deliveries it thinks timed out (and Socket Mode redelivers),
 * so the first claim of a key wins and is on disk before the work starts; every later one is false. A missing key
 * (nothing to recognise the delivery by) is always first.
 */
export function claimSlackDelivery(deps: { claims: DeliveryClaims; clock: Clock }): (key: string | undefined) => Promise<boolean> {
  return async (key) => {
    if (!key) return true;
    return deps.claims.claim(key, deps.clock.now());
  };
}
