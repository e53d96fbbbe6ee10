/**
 * The store, as the features need it: narrow ports, one per kind of record, each mutation one call that a database
 * could run as one transaction. No caller holds the whole document; no caller reads, awaits, then writes shared state
 * (what must be decided atomically, such as claiming a delivery or a confirmation, is one call that says who won).
 * The embedded store (lowdb) implements them in src/adapters/store; a PostgreSQL store can implement the same.
 */
import type { Approval } from './promotion/confirmation-record.js';
import type {
  ActionMark,
  AuditEntry,
  ClusterDown,
  CommitRecord,
  Confirmation,
  DeploymentMark,
  DispatchRecord,
  DrillRecord,
  EnvRecord,
  ErrorSimRecord,
  OutboxEntry,
  PostedReply,
  ReminderMark,
  ThreadRecord,
} from './store-data.js';
import type { LockRecord } from './locks/lock-record.js';
import type { NoOpMark } from './rollout-threads/no-op-mark.js';

/** Deploy threads: one per app, environment and rollout revision. */
export interface ThreadStore {
  /** The thread with this key. */
  byKey(key: string): Promise<ThreadRecord | undefined>;
  /** The thread whose root message is `rootTs` in `channel` (where a typed word or a button lands). */
  byRoot(channel: string, rootTs: string): Promise<ThreadRecord | undefined>;
  /** The environment's current thread (`envKey` is `<app>/<env>`). */
  current(envKey: string): Promise<ThreadRecord | undefined>;
  /** An environment's threads, newest first (history, proof of a tag, the digest). */
  ofEnv(envKey: string, o?: { limit?: number }): Promise<ThreadRecord[]>;
  /** An app's threads that carry `tag`, in any environment (the journey line, proof). */
  withTag(app: string, tag: string): Promise<ThreadRecord[]>;
  /** Threads that have not finished (timeouts, the chain, reminders). */
  open(): Promise<ThreadRecord[]>;
  /**
   * Threads whose card content is ahead of what Slack shows (`cardSent < cardVersion`) and that have a root: their
   * heads (at least the ThreadHead fields), read many times a second by the delivery loop.
   */
  staleCards(): Promise<ThreadHead[]>;
  /** Writes the whole thread (insert or replace). */
  save(thread: ThreadRecord): Promise<void>;
  /** Appends to the thread's action list and bumps its card, in one step. */
  recordAction(key: string, action: ThreadRecord['actions'][number]): Promise<void>;
  /**
   * Keeps the time a thread waits for a person (it does not count toward the timeout), in one step: `waiting` starts a
   * wait unless one runs; not `waiting` ends a running one, adding it to `waitedMs`.
   */
  trackWaiting(key: string, o: { waiting: boolean; now: number }): Promise<void>;
  /** Sets one of the chain's once-only marks of a thread; true for exactly one caller (false when already set). */
  markOnce(key: string, mark: 'chainHandled' | 'timeoutWarned'): Promise<boolean>;
  /** Bumps the card of every thread of `app` that carries `tag` except `exceptKey` (their journey line changed). */
  bumpCardsWithTag(o: { app: string; tag: string; exceptKey: string }): Promise<void>;
  /** The heads of the threads with these keys that exist, by key (the dispatcher's planners look up root messages). */
  byKeys(keys: string[]): Promise<Record<string, ThreadHead>>;
  /**
   * Writes what the rollout observer derived from the cluster (only it writes these fields) and, when `bumpCard`,
   * bumps the card, in one step. A field given as undefined is cleared.
   */
  observed(key: string, o: { set: Partial<Pick<ThreadRecord, ObservedField>>; bumpCard: boolean }): Promise<void>;
  /** Slack shows card `version` now (`cardSent` never goes back). */
  markCardSent(key: string, version: number): Promise<void>;
  /** Bumps a thread's card: something it shows from outside the thread changed (the error-simulation banner). */
  bumpCard(key: string): Promise<void>;
  /** Threads with a tag and no commit paired yet (the commit tracker pairs them when a commit arrives). */
  unpaired(): Promise<ThreadRecord[]>;
  /**
   * Pairs a thread with its commit, bumping its card, unless it has one already (true when this call paired it); with
   * `lookedUp`, also marks that GitHub was asked for the commit.
   */
  setCommit(key: string, o: { sha?: string; lookedUp?: boolean }): Promise<boolean>;
}

/**
 * What the delivery loop plans with, for hundreds of threads many times a second: where a thread's replies go, whether
 * Slack shows its current card, what it announced. Not its observed state (the card is rendered from a fresh read).
 */
export const THREAD_HEAD_FIELDS = ['key', 'channel', 'rootTs', 'cardVersion', 'cardSent', 'announced', 'outcome', 'createdAt', 'startedAt'] as const;
export type ThreadHead = Pick<ThreadRecord, (typeof THREAD_HEAD_FIELDS)[number]>;

/** The thread fields the rollout observer owns. */
export type ObservedField = 'attempt' | 'announced' | 'announcedAt' | 'outcome' | 'finishedAt' | 'lastState' | 'podHash' | 'tag' | 'group';

/** Per (app, environment): the current thread and the baseline seen before any thread. */
export interface EnvStore {
  get(envKey: string): Promise<EnvRecord>;
  /** Merges `patch` into the record (a key set to undefined is removed). */
  update(envKey: string, patch: Partial<EnvRecord>): Promise<void>;
}

/** The durable outbox: what is to be posted, written before it is posted. */
export interface OutboxStore {
  /** Adds an entry with the next sequence number; false when an entry with that id is already queued. */
  enqueue(entry: Omit<OutboxEntry, 'seq' | 'attempts'>): Promise<boolean>;
  /** Every queued entry, in sequence order. */
  all(): Promise<OutboxEntry[]>;
  /** Marks entries as about to be posted (they are "in doubt" from now until recorded or refused). */
  markAttempted(ids: string[], at: number): Promise<void>;
  /** Clears the attempt mark of entries Slack refused (they were not posted). */
  clearAttempted(ids: string[]): Promise<void>;
  /** Removes entries that are in Slack now. */
  remove(ids: string[]): Promise<void>;
  /**
   * Entries Slack has (posted now, or found by a read-back) leave the outbox and, when they carried a thread's root,
   * the thread gets the root's ts and `cardSent`, and editable replies keep `ts` (where they landed), in one step.
   */
  delivered(o: { ids: string[]; root?: { threadKey: string; ts: string; cardSent: number }; ts?: string }): Promise<void>;
  /** How many entries are queued. */
  depth(): Promise<number>;
  /**
   * Queues an edit of a posted reply (`kind: 'edit'`, `editOf` its outbox id). Edits coalesce: an edit already queued
   * under the same id takes the new content (and a new sequence number), so the message is updated once, to the latest.
   */
  enqueueEdit(entry: Omit<OutboxEntry, 'seq' | 'attempts' | 'kind'> & { editOf: string }): Promise<void>;
  /** Where an editable reply (`editable`) was posted, by its outbox id; undefined while unposted or when not kept. */
  postedOf(id: string): Promise<PostedReply | undefined>;
  /** An edit was applied (or can never be): removes it unless a newer edit (another `seq`) replaced it meanwhile. */
  editDone(id: string, seq: number): Promise<void>;
}

/** Confirmations: promotions, aborts, retries and deploy offers waiting for an approver. */
export interface ConfirmationStore {
  get(id: string): Promise<Confirmation | undefined>;
  /** A thread's confirmations, newest first. */
  ofThread(threadKey: string): Promise<Confirmation[]>;
  /**
   * Stores a new pending confirmation and, in the same step, marks superseded the pending ones `supersedes` selects
   * (they get `supersededBy`). Returns the ids it superseded.
   */
  open(c: Confirmation, supersedes: (other: Confirmation) => boolean): Promise<string[]>;
  /** Pending → done by `by` at `at`; true for exactly one caller, false when it was no longer pending. */
  claim(id: string, by: string, at: number): Promise<boolean>;
  /** Pending → cancelled by `by` at `at`; true for exactly one caller, false when it was no longer pending. */
  cancel(id: string, by: string, at: number): Promise<boolean>;
  /**
   * Adds `user`'s approval to pending `id` (once per user). `complete` is true for exactly the one call whose approval
   * made it reach `required`; `added` is false when the user had approved already. Undefined when it is not pending.
   */
  approve(id: string, user: string, at: number, required: number): Promise<{ added: boolean; complete: boolean; approvals: Approval[] } | undefined>;
  /** Sets the outcome of a confirmation (failed, cancelled, back to pending after a failed claim, …). */
  update(id: string, patch: Partial<Pick<Confirmation, 'status' | 'doneBy' | 'doneAt' | 'supersededBy' | 'card' | 'cardKey' | 'approvals'>>): Promise<void>;
  /** Every pending confirmation (their expiry timers are armed at start-up). */
  pending(): Promise<Confirmation[]>;
  /**
   * Sets the outcome its card shows, once: the confirmation for exactly one caller (who then edits the card), undefined
   * when it has no editable card or its outcome was set already.
   */
  settleCard(id: string, outcome: string): Promise<Confirmation | undefined>;
}

/** The audit log: one shape, appended, never edited. */
export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  /** Entries newest first, optionally for one app and environment, since a time, at most `limit`. */
  recent(o?: { app?: string; env?: string; since?: number; limit?: number }): Promise<AuditEntry[]>;
}

/** Deliveries already handled (Slack event and trigger ids, GitHub deliveries and comments), for dedupe. */
export interface DeliveryClaims {
  /** Claims `key` at `at`, durably once the returned promise resolves; true for exactly one caller. */
  claim(key: string, at: number): Promise<boolean>;
  /** Whether `key` was claimed. */
  seen(key: string): Promise<boolean>;
}

/** Commits of the apps' repos, by full sha. */
export interface CommitStore {
  put(commit: CommitRecord): Promise<void>;
  /**
   * By full sha, or by a unique prefix of 7 or more characters; with `repo` (lower case `owner/name`), only that repo's.
   * Answered from an index: nothing keeps every commit in memory.
   */
  bySha(sha: string, repo?: string): Promise<CommitRecord | undefined>;
}

/** Deploy dispatches by `<app>/<env>/<tag>`. */
export interface DispatchStore extends KeyedStore<DispatchRecord> {
  /**
   * Records `record` under `key` unless a dispatch of it was recorded at or after `since`, in one step: undefined when
   * this call recorded it, else the record that stood in the way (a request confirmed after another was shown).
   */
  claim(key: string, record: DispatchRecord, since: number): Promise<DispatchRecord | undefined>;
  /** Marks a dispatch's arrival announced: the record for exactly one caller; undefined when absent or announced already. */
  markAnnounced(key: string): Promise<DispatchRecord | undefined>;
}

/** Small keyed records the features keep (error-simulation deadlines, drills, reminder marks, dispatches, …). */
export interface KeyedStore<T> {
  get(key: string): Promise<T | undefined>;
  all(): Promise<Array<[string, T]>>;
  set(key: string, value: T): Promise<void>;
  /** Sets `key` only when it is absent; true when this call set it. */
  setIfAbsent(key: string, value: T): Promise<boolean>;
  delete(key: string): Promise<void>;
}

/** How many records of each kind a prune dropped. */
export interface PruneCounts {
  threads: number;
  audit: number;
  commits: number;
  seen: number;
  confirmations: number;
  other: number;
}

/** Every store port, as the composition root hands them to the features. */
export interface Stores {
  threads: ThreadStore;
  envs: EnvStore;
  outbox: OutboxStore;
  confirmations: ConfirmationStore;
  audit: AuditLog;
  claims: DeliveryClaims;
  commits: CommitStore;
  errorSims: KeyedStore<ErrorSimRecord>;
  drills: KeyedStore<DrillRecord>;
  reminders: KeyedStore<ReminderMark>;
  /** Digest slots posted (`digest:<ISO time>`), with when. */
  digests: KeyedStore<number>;
  /** Deploy dispatches by `<app>/<env>/<tag>`. */
  dispatches: DispatchStore;
  /** GitHub App installation id per repo (`owner/name`, lower case). */
  installations: KeyedStore<number>;
  /** GitHub deployments and commit statuses posted, by thread key. */
  deployments: KeyedStore<DeploymentMark>;
  /** Rollout changes the bot is sending, by thread key: what the observer then sees is not "outside chat". */
  actionMarks: KeyedStore<ActionMark>;
  /** Environments locked by `/rollout lock`, by `<app>/<env>`. */
  locks: KeyedStore<LockRecord>;
  /** Revisions that changed no image (no thread), by thread key, until and after their channel's note. */
  noOpRevisions: KeyedStore<NoOpMark>;
  /** Clusters whose channels were told they are unreachable, by kubeconfig context (until told they are back). */
  clustersDown: KeyedStore<ClusterDown>;
  /**
   * Retention: drops what is older than `days` before `now` (threads by when they finished or started, audit entries,
   * commits, delivery dedupe marks, decided confirmations, finished drills, digest slots, orphan reminder marks), never
   * a thread still in use (an environment's current one, one a queued entry, a pending confirmation, a running drill
   * or the errors banner belongs to) nor a commit a kept thread points at. Returns what it dropped.
   */
  prune(o: { now: number; days: number }): Promise<PruneCounts>;
  /** A new unique id with `prefix` (confirmations, drills). */
  newId(prefix: string, now: number): Promise<string>;
  /** Resolves once every change made so far is durable. */
  flush(): Promise<void>;
}
