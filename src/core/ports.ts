/**
 * The ports: what the core needs from the outside world, shaped by the use-cases that call them.
 * Adapters in src/adapters implement them; only src/main.ts wires concrete ones.
 */

/** A cancellable timer handle. */
export interface Timer { cancel(): void }

/** Time, injected: the core never reads the wall clock itself. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimer(ms: number, fn: () => void): Timer;
}

/** A chat message: fallback text plus Block Kit blocks. */
export interface ChatContent {
  text: string;
  blocks?: unknown[];
}

/** Posting to chat (Slack). Every message carries the keys of what it announces, so a restart can find it again. */
export interface ChatPort {
  /** Posts a message (a thread reply when `threadTs` is set). A ServiceError is `rejected` when nothing was posted. */
  postMessage(o: ChatContent & { channel: string; threadTs?: string; broadcast?: boolean; keys: string[] }): Promise<{ ts: string }>;
  /** Replaces a message's content in place. */
  updateMessage(o: ChatContent & { channel: string; ts: string; keys: string[] }): Promise<void>;
  /**
   * Reads one page of our messages back: a thread's replies when `threadTs` is set (conversations.replies), else the
   * channel's top-level messages (conversations.history), both since `sinceMs`. Used after a restart or a lost answer to
   * tell "posted" from "not posted" by the keys in the metadata. One call is one request: the caller paces the pages
   * and follows `cursor`. Throws RateLimitedError on a 429 and ServiceError otherwise, of kind `cannot-read-back` when
   * asking again can never work.
   */
  readBack(o: { channel: string; threadTs?: string; sinceMs?: number; cursor?: string }): Promise<ReadBackPage>;
  /** A message only `user` sees. */
  postEphemeral(o: ChatContent & { channel: string; user: string; threadTs?: string }): Promise<void>;
  /** A link people can click to open a message. */
  permalink(channel: string, ts: string): string;
}

/** One page read back from chat. */
export interface ReadBackPage {
  /** Every key carried by our messages on this page, with the ts of the message carrying it. */
  keys: Record<string, string>;
  /** Where the next page starts; undefined when this page was the last. */
  cursor?: string;
}

/** Outside-service failure that says when to try again (Slack 429, ECR throttling). */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
  constructor(readonly service: string, readonly retryAfterMs: number, message?: string) {
    super(message ?? `${service} rate limited; retry after ${retryAfterMs} ms`);
  }
}

/**
 * What an outside-service failure means to the core, so it decides without knowing the service's own codes. Adapters
 * classify; undefined means unclassified.
 * - `auth`: the credentials were rejected.
 * - `permission`: the credentials lack a right (a scope, a role).
 * - `channel-unusable`: the chat channel does not exist for us, or we are not in it.
 * - `cannot-read-back`: reading chat history back can never work as set up (scope, token type, method, channel,
 *   thread): asking again will not help.
 * - `transient`: the service failed for now (5xx, a lost connection, its own internal error).
 */
export type ServiceErrorKind = 'auth' | 'permission' | 'channel-unusable' | 'cannot-read-back' | 'transient';

/** Outside-service failure (network, 5xx, auth, unexpected answer). `permanent` ones will not heal by retrying alone. */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(
    readonly service: string,
    message: string,
    readonly opts: {
      permanent?: boolean;
      /** The service's own code, for logs; the core decides by `kind` and `rejected`, never by it. */
      code?: string;
      cause?: unknown;
      kind?: ServiceErrorKind;
      /** What an operator should do about it ("invite the bot to the channel ..."). */
      fix?: string;
      /** The service answered and did not act (Slack's ok:false): sending again cannot make a duplicate. */
      rejected?: boolean;
    } = {},
  ) {
    super(message, { cause: opts.cause });
  }
  get permanent(): boolean { return this.opts.permanent ?? false; }
  get code(): string | undefined { return this.opts.code; }
  get kind(): ServiceErrorKind | undefined { return this.opts.kind; }
  get fix(): string | undefined { return this.opts.fix; }
  get rejected(): boolean { return this.opts.rejected ?? false; }
}

/** GitHub repository permission as the collaborator API reports it (`role_name` folded to the five levels). */
export type RepoPermission = 'none' | 'read' | 'triage' | 'write' | 'maintain' | 'admin';

/** GitHub, as the use-cases need it. `repo` is `owner/name`. */
export interface RepoHost {
  /** A commit by (short or full) sha; undefined when GitHub has no such commit. */
  getCommit(repo: string, sha: string): Promise<import('./store-data.js').CommitRecord | undefined>;
  /** The user's permission on the repo. */
  permission(repo: string, user: string): Promise<RepoPermission>;
  /**
   * Whether `user` is an active member of the team `org/team` (asked as the app's installation on `repo`); a pending
   * invitation, an unknown team or a non-member is false. Other failures throw ServiceError.
   */
  isTeamMember(o: { repo: string; org: string; team: string; user: string }): Promise<boolean>;
  /** Adds a reaction to an issue/PR comment. */
  react(repo: string, commentId: number, content: 'eyes' | '+1' | '-1' | 'rocket' | 'confused'): Promise<void>;
  /** Comments on an issue or PR. */
  comment(repo: string, issueNumber: number, body: string): Promise<void>;
  /** Dispatches a workflow_dispatch run. */
  dispatchWorkflow(o: { repo: string; workflow: string; ref: string; inputs: Record<string, string> }): Promise<void>;
  /**
   * Creates a deployment of the commit `sha` to `environment` (`auto_merge: false`, no required contexts); resolves to
   * its id. Throws ServiceError (permission `deployments: write`).
   */
  createDeployment(o: { repo: string; sha: string; environment: string; description: string; payload: Record<string, string> }): Promise<{ id: number }>;
  /**
   * The deployment of `sha` to `environment` whose payload carries `threadKey`, if one exists (the read-back after a
   * creation whose answer was lost).
   */
  findDeployment(o: { repo: string; sha: string; environment: string; threadKey: string }): Promise<{ id: number } | undefined>;
  /** Posts a deployment status (`description` at most 140 characters). */
  createDeploymentStatus(o: { repo: string; deploymentId: number; state: DeploymentState; description: string; environmentUrl?: string; logUrl?: string }): Promise<void>;
  /** Sets the commit status of `sha` for `context` (permission `statuses: write`; `description` at most 140 characters). */
  createCommitStatus(o: { repo: string; sha: string; context: string; state: CommitState; description: string; targetUrl?: string }): Promise<void>;
  /** Creates a completed check run on the commit `sha` (permission `checks: write`). Throws ServiceError. */
  createCheckRun(o: { repo: string; sha: string; check: CheckRunContent }): Promise<CheckRunRef>;
  /** Rewrites the check run `id` (name, conclusion, output, times) with `check`. Throws ServiceError. */
  updateCheckRun(o: { repo: string; id: number; check: CheckRunContent }): Promise<CheckRunRef>;
  /**
   * The check run on `sha` named `name` whose `external_id` is `externalId`, if one exists (the read-back after a
   * creation whose answer was lost).
   */
  findCheckRun(o: { repo: string; sha: string; name: string; externalId: string }): Promise<CheckRunRef | undefined>;
}

/** A check run the bot writes: always completed (a report of something that ended). */
export interface CheckRunContent {
  name: string;
  /** Our key for it (GitHub keeps it as `external_id`). */
  externalId: string;
  conclusion: 'success' | 'failure' | 'neutral';
  /** Where people go for more (`details_url`): the Slack thread. */
  detailsUrl?: string;
  /** When what it reports started and ended (ms). */
  startedAt?: number;
  completedAt?: number;
  /** `output.title` (plain text), `output.summary` and `output.text` (Markdown, each at most 65,535 characters). */
  title: string;
  summary: string;
  text: string;
}

/** A check run as GitHub answered it: its id and its page (`html_url`). */
export interface CheckRunRef {
  id: number;
  url: string;
}

/** The deployment status states the bot posts. */
export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'inactive';

/** The commit status states GitHub knows. */
export type CommitState = 'pending' | 'success' | 'failure' | 'error';

/**
 * One JSON merge patch (`application/merge-patch+json`) for the Rollout: `status` goes to the `/status`
 * subresource, `main` to the resource itself. Each half is silently dropped by the other endpoint (reference 1.1).
 */
export interface RolloutPatch {
  target: 'status' | 'main';
  body: Record<string, unknown>;
}

/** The cluster, as promotion needs it: a fresh read and exact patches. */
export interface RolloutCluster {
  /**
   * Reads the rollout now from the API server (never a cache); undefined when it does not exist. `cluster` is the
   * environment's `cluster` (kubeconfig context; undefined: the default one): the same namespace/name may run in several.
   */
  get(namespace: string, name: string, cluster?: string): Promise<import('./rollout/rollout-state.js').RolloutState | undefined>;
  /** Sends one JSON merge patch (`application/merge-patch+json`) to the rollout in `cluster` (as for get). */
  patch(namespace: string, name: string, patch: RolloutPatch, cluster?: string): Promise<void>;
  /**
   * Reads one AnalysisRun by name (the rollout status names its current ones); undefined when it does not exist
   * (deleted by history limits). Other failures throw ServiceError (RBAC: `get` on analysisruns).
   */
  analysisRun(namespace: string, name: string, cluster?: string): Promise<import('./rollout/analysis-run.js').AnalysisRun | undefined>;
}

/** An image as the registry describes it. */
export interface ImageFacts {
  digest: string;
  pushedAt?: number;
}

/** The container registry (ECR). */
export interface ImageRegistry {
  /** The image with this tag, or undefined when the repository has no such tag. Other failures throw ServiceError. */
  describe(repository: string, tag: string): Promise<ImageFacts | undefined>;
}

/**
 * An app's error-simulation endpoint (config `errorSimulation.url`): `GET` answers `{"enabled": bool}`, `POST` toggles
 * and answers the new state. There is no "set": callers read first and toggle only when the state must change.
 */
export interface ErrorSimulator {
  /** The state the endpoint reports. Throws ServiceError when it cannot be reached or answers anything else. */
  get(url: string): Promise<boolean>;
  /** Toggles once; resolves to the state the endpoint reports after it. Throws ServiceError like `get`. */
  toggle(url: string): Promise<boolean>;
}
