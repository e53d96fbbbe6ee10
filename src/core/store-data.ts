import type { RolloutState } from './rollout/rollout-state.js';

/** Delivery priority: high goes ahead of step progress (aborts, waiting for promotion, completions). */
export type Priority = 'high' | 'normal';

/** A message waiting to be posted. Written to the store BEFORE it is posted, removed once Slack has it. */
export interface OutboxEntry {
  /** Stable key: `<threadKey>#<eventKey>`, carried in the Slack message metadata. */
  id: string;
  threadKey: string;
  channel: string;
  /** `root` is the thread's status card; `reply` goes in the thread; `notice` is a top-level channel message. */
  kind: 'root' | 'reply' | 'notice';
  priority: Priority;
  text: string;
  blocks?: unknown[];
  /** Also show the reply in the channel. */
  broadcast?: boolean;
  /** Several pending normal replies of one thread may be sent as one message while the channel is busy. */
  batchable?: boolean;
  /** Creation order, to keep a thread's replies in order. */
  seq: number;
  createdAt: number;
  /** Set (and flushed) just before the post: after a crash such an entry may or may not be in Slack. */
  attemptedAt?: number;
  attempts: number;
}

/** Something a person did in a deploy, shown on the card. */
export interface ActionRecord {
  at: number;
  who: string;
  what: string;
}

/** One Slack thread: one app, environment and rollout revision. */
export interface ThreadRecord {
  key: string;
  app: string;
  env: string;
  namespace: string;
  rollout: string;
  uid?: string;
  revision: string;
  podHash?: string;
  tag?: string;
  channel: string;
  /** The root message's ts once posted. */
  rootTs?: string;
  createdAt: number;
  /** Abort/retry attempt number; event keys are scoped by it so a retried step is announced again. */
  attempt: number;
  /** Keys of the events already announced (scoped by attempt). */
  announced: string[];
  /** The last state the thread has been brought up to date with. */
  lastState?: RolloutState;
  /** Card content version: bumped on every change; `cardSent` is the version Slack shows. */
  cardVersion: number;
  cardSent: number;
  actions: ActionRecord[];
  /** How the deploy ended, once it did. */
  outcome?: 'completed' | 'aborted' | 'superseded';
  finishedAt?: number;
  /** When the revision was first seen (deploy start). */
  startedAt: number;
  /** The rollout named in config does not exist (yet). */
  note?: string;
}

/** Per (app, environment): which thread is current, and the baseline seen before any thread. */
export interface EnvRecord {
  threadKey?: string;
  /** The state seen at first sight when it needed no thread (a settled rollout at start-up). */
  baseline?: RolloutState;
  /** The configured rollout was not found when listed; the notice was posted. */
  missingNoticed?: boolean;
}

/** The whole durable document. */
export interface StoreData {
  version: 1;
  /** Next sequence number for outbox entries. */
  seq: number;
  threads: Record<string, ThreadRecord>;
  envs: Record<string, EnvRecord>;
  outbox: OutboxEntry[];
}

/** An empty store. */
export function emptyStoreData(): StoreData {
  return { version: 1, seq: 1, threads: {}, envs: {}, outbox: [] };
}
