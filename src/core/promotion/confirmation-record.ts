/** The facts a confirmation was shown with; the action runs only if the rollout still matches them. */
export interface RolloutSnapshot {
  podHash?: string;
  image?: string;
  phase: string;
  pauseReasons: string[];
  stepIndex?: number;
  aborted: boolean;
  specPaused: boolean;
}

/** One more rollout of a several-rollout request, as its confirmation showed it. */
export interface MemberSnapshot {
  rollout: string;
  threadKey: string;
  snapshot: RolloutSnapshot;
  planKind?: string;
  tag?: string;
  digest?: string;
}

/**
 * A promotion, abort, retry or deploy waiting for an approver's confirmation in its thread. A confirmation confirms
 * exactly this record (its button carries the id); only the same person's newer request replaces it.
 */
export interface Confirmation {
  id: string;
  threadKey: string;
  app: string;
  env: string;
  /** `deploy` brings the previous environment's proven tag here by dispatching the env's deploy workflow. */
  action: 'promote' | 'abort' | 'retry' | 'deploy';
  full: boolean;
  force: boolean;
  requestedBy: string;
  requestedAt: number;
  expiresAt: number;
  snapshot: RolloutSnapshot;
  /** What it will do, as shown. */
  describe: string;
  planKind?: string;
  tag?: string;
  digest?: string;
  /** A several-rollout deploy: the other rollouts the action goes to, with the facts each was shown with. */
  members?: MemberSnapshot[];
  status: 'pending' | 'done' | 'failed' | 'cancelled' | 'superseded';
  /** Who decided it: confirmed (`done`/`failed`) or cancelled. */
  doneBy?: string;
  doneAt?: number;
  /** The newer request (by the same person, for the same environment) that replaced this one. */
  supersededBy?: string;
  /** `deploy` only: the environment the tag comes from, as the card named it. */
  from?: string;
  /** The outbox id the confirmation card was posted under (its reply key), when it can be edited. */
  cardKey?: string;
  /** The card as posted: the base its outcome version is made from. */
  card?: { text: string; blocks: unknown[] };
  /** With `approvers.required` ≥ 2: the different approvers who confirmed so far, in order (kept across restarts). */
  approvals?: Approval[];
  /** The outcome the card shows instead of its buttons, once decided (set once: the card is edited once). */
  cardOutcome?: string;
}

/** One approver's confirmation of a request that needs several. */
export interface Approval {
  by: string;
  at: number;
}
