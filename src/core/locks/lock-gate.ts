import type { EnvTarget } from '../catalog.js';
import type { LockHold } from './judge-lock.js';

/** What a promotion or a dispatch learns about an environment's lock or freeze before it goes ahead. */
export interface LockVerdict {
  hold: LockHold;
  /** Why it is refused, and how an approver overrides it (in a person's words). */
  refusal: string;
  /** The hold in a few words, for the audit entry of an override. */
  summary: string;
}

/** The port promotions and chain dispatches ask (the locks feature implements it): undefined when the env is open. */
export interface LockGate {
  verdict(o: { target: EnvTarget; what: 'promote' | 'dispatch' }): Promise<LockVerdict | undefined>;
}
