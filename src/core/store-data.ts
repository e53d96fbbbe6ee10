import type { RolloutState } from './rollout/rollout-state.js';
import type { DeploymentMark } from './deployments/deployment-mark.js';
import type { Confirmation } from './promotion/confirmation-record.js';
import type { LockRecord } from './locks/lock-record.js';
import type { NoOpMark } from './rollout-threads/no-op-mark.js';
import type { DeployGroup } from './rollout-threads/deploy-group-record.js';

/** Delivery priority: high goes ahead of step progress (aborts, waiting for promotion, completions). */
export type Priority = 'high' | 'normal';

/** A message waiting to be posted. Written to the store BEFORE it is posted, removed once Slack has it. */
export interface OutboxEntry {
  /** Stable key: `<threadKey>#<eventKey>`, carried in the Slack message metadata. */
  id: string;
  threadKey: string;
  channel: string;
  /** `root`: the status card; `reply`: in the thread; `notice`: top-level; `edit`: chat.update of reply `editOf`. */
  kind: 'root' | 'reply' | 'notice' | 'edit';
  priority: Priority;
  text: string;
  blocks?: unknown[];
  /** Also show the reply in the channel. */
  broadcast?: boolean;
  /** Several pending normal replies of one thread may be sent as one message while the channel is busy. */
  batchable?: boolean;
  /** Slack's ts of this reply is kept once it is posted (OutboxStore.postedOf), so it can be edited later. */
  editable?: boolean;
  /** `edit` only: the outbox id of the reply it changes. */
  editOf?: string;
  /** Creation order, to keep a thread's replies in order. */
  seq: number;
  createdAt: number;
  /** Set (and flushed) just before the post: after a crash such an entry may or may not be in Slack. */
  attemptedAt?: number;
  attempts: number;
}

/** Where an editable reply landed in Slack (kept by its outbox id until its thread is pruned). */
export interface PostedReply {
  ts: string;
  channel: string;
  threadKey: string;
  at: number;
}

/** A rollout change the bot itself is sending (promote, abort, retry), so the observer does not call it "outside chat". */
export interface ActionMark {
  action: 'promote' | 'abort' | 'retry';
  at: number;
  /**
   * The one reply for this action and the transition it causes, queued under `key` (that transition's scoped event
   * key) by whichever of the executor and the rollout observer gets there first: one reply, also after a restart.
   */
  reply?: { key: string; text: string; blocks?: unknown[]; priority: Priority; broadcast: boolean };
}

export type ExpectedReply = NonNullable<ActionMark['reply']>;

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
  /** When each announced key was announced (ms), for the deploy report's timeline; older threads lack it. */
  announcedAt?: Record<string, number>;
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
  /** Full sha of the commit the tag was built from, once paired. */
  commitSha?: string;
  /** Lookup of the commit by sha was answered (so a missing commit is not fetched again and again). */
  commitLookedUp?: boolean;
  /** Since when the rollout waits for a person (promotion); that time does not count toward the timeout. */
  waitingSince?: number;
  /** Total time spent waiting for a person so far. */
  waitedMs?: number;
  /** The one timeout warning was posted. */
  timeoutWarned?: boolean;
  /** The automatic chain has handled this thread's completion (dispatched, or said why not). */
  chainHandled?: boolean;
  /** Several rollouts: the deploy (the lead's thread) this revision belongs to; replies go there (deploy-group.ts). */
  groupOf?: string;
  /** The lead of a several-rollout deploy: its commit and each rollout's thread in it (itself too). */
  group?: DeployGroup;
}

/** A deploy workflow the bot dispatched to bring a tag to an environment. */
export interface DispatchRecord {
  app: string;
  env: string;
  tag: string;
  workflow: string;
  at: number;
  /** Slack user id or GitHub login, or `chain` for the automatic chain. */
  by: string;
  /** Thread where the tag was proven. */
  fromThreadKey?: string;
  /** The new deploy thread was told where the tag came from. */
  announced?: boolean;
}

/** Per (app, environment): which thread is current, and the baseline seen before any thread. */
export interface EnvRecord {
  threadKey?: string;
  /** The state seen at first sight when it needed no thread (a settled rollout at start-up). */
  baseline?: RolloutState;
  /** The configured rollout was not found when listed; the notice was posted. */
  missingNoticed?: boolean;
}

/** A commit of an app's repo, from a push or fetched by sha. */
export interface CommitRecord {
  sha: string;
  repo: string;
  /** First line of the message. */
  message: string;
  authorName: string;
  /** GitHub login of the author, when GitHub knows it. */
  authorLogin?: string;
  url: string;
  /** Commit time (ms). */
  at: number;
  /** How we learned of it. */
  source: 'push' | 'api';
}

export type { Confirmation, RolloutSnapshot } from './promotion/confirmation-record.js';

/** One mutation somebody asked for, kept for history and audit. */
export interface AuditEntry {
  at: number;
  /** Slack user id or GitHub login. */
  who: string;
  source: 'slack' | 'github' | 'schedule';
  action: string;
  app: string;
  env: string;
  tag?: string;
  digest?: string;
  /** Promoted without the previous environment's proof (--force). */
  override?: boolean;
  result: string;
  threadKey?: string;
}

/** Error simulation switched on through the bot, per environment (`<app>/<env>`): the card banner and the TTL deadline. */
export interface ErrorSimRecord {
  app: string;
  env: string;
  /** When errors were switched on (or found on and taken over). */
  since: number;
  /** Slack user id, `@login (GitHub)`, or `drill`. */
  by: string;
  /** When they switch off by themselves; stored, so the deadline survives a restart. */
  offAt: number;
  /** Thread whose card shows the banner. */
  threadKey?: string;
  /** They were already on when someone asked (switched on outside the bot); the bot took over the deadline. */
  adopted?: boolean;
  /** The drill that switched them on. */
  drillId?: string;
  /** Why switching off at the deadline failed (it is retried); the thread was told once. */
  offError?: string;
}

/** A rollback drill (`/rollout drill`): what was seen when (ms on the bot's clock), and the verdict. */
export interface DrillRecord {
  id: string;
  app: string;
  env: string;
  threadKey: string;
  /** Slack user id or `@login (GitHub)`. */
  startedBy: string;
  startedAt: number;
  /** The drill fails when nothing decisive happened by then. */
  deadline: number;
  status: 'running' | 'passed' | 'failed';
  errorsOnAt?: number;
  /** Errors were already on when the drill started. */
  errorsWereOn?: boolean;
  analysisFailedAt?: number;
  analysisMessage?: string;
  abortedAt?: number;
  abortReason?: string;
  stableAt?: number;
  completedAt?: number;
  errorsOffAt?: number;
  /** Switching errors off after the drill failed (the TTL still switches them off). */
  errorsOffError?: string;
  /** Decided, but errors off and the report may still be due (a restart finishes it). */
  decision?: 'passed' | 'failed';
  /** One line: why it passed or failed. */
  verdict?: string;
  finishedAt?: number;
}

/** Promotion reminders already sent for a thread's current wait (durable: a restart never repeats one). */
export interface ReminderMark {
  /** Which wait: attempt, pause reason and step. A different wait starts over. */
  wait: string;
  /** When the wait started. */
  since: number;
  /** Reminders sent for this wait: 1 after `reminders.after`, 2 after 4× that; never more. */
  sent: number;
  lastAt?: number;
}

export type { DeploymentMark, PostedStatus } from './deployments/deployment-mark.js';

/** The whole durable document. */
export interface StoreData {
  version: 1;
  /** Next sequence number for outbox entries. */
  seq: number;
  threads: Record<string, ThreadRecord>;
  envs: Record<string, EnvRecord>;
  outbox: OutboxEntry[];
  /** Commits by full sha. */
  commits: Record<string, CommitRecord>;
  /** Webhook deliveries and Slack events already handled, with when (for dedupe across restarts). */
  seen: Record<string, number>;
  /** GitHub App installation id per repo (`owner/name`, lower case). */
  installations: Record<string, number>;
  audit: AuditEntry[];
  confirmations: Record<string, Confirmation>;
  /** Error simulation switched on through the bot, by `<app>/<env>`. */
  errorSims?: Record<string, ErrorSimRecord>;
  /** Rollback drills by id. */
  drills?: Record<string, DrillRecord>;
  /** Promotion reminder marks by thread key. */
  reminders?: Record<string, ReminderMark>;
  /** Digests posted, by scheduled slot (`digest:<ISO time>`), with when. */
  digestsSent?: Record<string, number>;
  /** GitHub deployments and commit statuses posted for deploy threads, by thread key. */
  deployments?: Record<string, DeploymentMark>;
  /** Deploy dispatches by `<app>/<env>/<tag>`. */
  dispatches: Record<string, DispatchRecord>;
  /** Slack ts of posted editable replies (confirmation cards), by outbox id. */
  posted?: Record<string, PostedReply>;
  /** Rollout changes the bot is sending, by thread key (see ActionMark). */
  actionMarks?: Record<string, ActionMark>;
  /** Environments locked by `/rollout lock`, by `<app>/<env>` (never pruned: an unlock removes one). */
  locks?: Record<string, LockRecord>;
  /** Revisions that changed no image, by thread key (see NoOpMark). */
  noOpRevisions?: Record<string, NoOpMark>;
  /** Clusters whose channels were told they are unreachable, by kubeconfig context (removed once told they are back). */
  clustersDown?: Record<string, ClusterDown>;
}

/** A cluster reported unreachable, and its channels told so: a restart or a new leader does not tell them again. */
export interface ClusterDown {
  since: number;
  reason?: string;
}

/** An empty store. */
export function emptyStoreData(): StoreData {
  return { version: 1, seq: 1, threads: {}, envs: {}, outbox: [], commits: {}, seen: {}, installations: {}, audit: [], confirmations: {}, dispatches: {}, errorSims: {}, drills: {}, reminders: {}, digestsSent: {}, deployments: {}, posted: {}, actionMarks: {} };
}

/** Fills in collections a store file written by an older build lacks. */
export function upgradeStoreData(data: StoreData): StoreData {
  const empty = emptyStoreData();
  for (const k of Object.keys(empty) as Array<keyof StoreData>) if (data[k] === undefined) (data as unknown as Record<string, unknown>)[k] = empty[k];
  return data;
}
