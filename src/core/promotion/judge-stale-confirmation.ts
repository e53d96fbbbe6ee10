import { againCommand } from './again-command.js';
import type { ConfirmationNotice, RequestLine } from './render-confirmation-notice.js';
import type { Confirmation } from '../store-data.js';

/**
 * Why a request can no longer be confirmed or cancelled (done, failed, cancelled, superseded, expired), or undefined
 * while it still waits (pure). `successor` is the request that replaced it, as a list line, when there is one.
 */
export function judgeStaleConfirmation(o: { c: Confirmation; user: string; now: number; successor?: RequestLine }): ConfirmationNotice | undefined {
  const { c, user } = o;
  const verb = c.action;
  const again = againCommand(c.action, c.env);
  if (c.status === 'pending') return o.now > c.expiresAt ? { kind: 'stale', user, verb, status: 'expired', again } : undefined;
  return { kind: 'stale', user, verb, status: c.status, by: c.doneBy, again, ...(o.successor ? { successor: o.successor } : {}) };
}
