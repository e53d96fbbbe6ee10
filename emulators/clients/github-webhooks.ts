import { createHash, createHmac, randomUUID } from 'node:crypto';

/** Installation id the payload builders put in `installation.id` unless told otherwise (the GitHub emulator answers the same). */
export const DEFAULT_INSTALLATION_ID = 1;

/**
 * A stable numeric repository id for `owner/name`, so webhook payloads and the GitHub emulator agree
 * on `repository.id` without sharing state.
 */
export function repositoryIdFor(fullName: string): number {
  return createHash('sha1').update(fullName.toLowerCase()).digest().readUInt32BE(0) % 1_000_000_000;
}

/** A stable numeric user id for a login, for the same reason as {@link repositoryIdFor}. */
export function userIdFor(login: string): number {
  return createHash('sha1').update(`user:${login.toLowerCase()}`).digest().readUInt32BE(0) % 100_000_000;
}

/**
 * Signs a webhook body the way GitHub does: `sha256=` + hex HMAC-SHA256 of the exact raw bytes.
 * Sign the same string you send; re-serialising the payload changes the bytes and breaks the signature.
 */
export function signGitHubPayload(secret: string, rawBody: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

/** What {@link sendWebhook} needs. */
export interface SendWebhookOptions {
  /** Full webhook URL: the bot's base URL + `/api/github/webhooks`. */
  url: string;
  /** The webhook secret the bot was configured with (`WEBHOOK_SECRET`). */
  secret: string;
  /** `X-GitHub-Event`, e.g. `push` or `issue_comment`. */
  event: string;
  payload: unknown;
  /** `X-GitHub-Delivery`; a fresh UUID when absent. Pass the same id twice to simulate a redelivery. */
  deliveryId?: string;
  /** `true` signs with a wrong secret; a string is sent verbatim as `X-Hub-Signature-256`. */
  forgeSignature?: boolean | string;
  /** Extra or overriding headers; a header set to `null` is left out (to test missing-header answers). */
  headers?: Record<string, string | null>;
}

/** The bot's answer to a webhook delivery. */
export interface WebhookResponse {
  status: number;
  body: string;
  deliveryId: string;
}

/**
 * POSTs a signed GitHub webhook the way GitHub's hookshot does and returns the bot's answer.
 * Probot's middleware waits for the handlers, so when this resolves with 200 the handlers have run.
 */
export async function sendWebhook(options: SendWebhookOptions): Promise<WebhookResponse> {
  const rawBody = JSON.stringify(options.payload);
  const deliveryId = options.deliveryId ?? randomUUID();
  const signature =
    typeof options.forgeSignature === 'string'
      ? options.forgeSignature
      : signGitHubPayload(options.forgeSignature === true ? `${options.secret}-forged` : options.secret, rawBody);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/test',
    'x-github-event': options.event,
    'x-github-delivery': deliveryId,
    'x-hub-signature-256': signature,
  };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value === null) delete headers[name.toLowerCase()];
    else headers[name.toLowerCase()] = value;
  }
  const response = await fetch(options.url, { method: 'POST', headers, body: rawBody });
  return { status: response.status, body: await response.text(), deliveryId };
}

/** A user or bot as webhook payloads show it. */
export interface WebhookUser {
  login: string;
  id: number;
  node_id: string;
  type: 'User' | 'Bot' | 'Organization';
  html_url: string;
}

/** The trimmed `repository` object every payload carries. */
export interface WebhookRepository {
  id: number;
  node_id: string;
  name: string;
  full_name: string;
  private: boolean;
  owner: WebhookUser;
  html_url: string;
  url: string;
  default_branch: string;
}

/** Commit author as push payloads show it; `username` is the GitHub login when GitHub could match the e-mail. */
export interface PushCommitAuthor {
  name: string;
  email: string;
  username?: string;
}

/** One commit as a push payload lists it. */
export interface PushCommit {
  id: string;
  tree_id: string;
  distinct: boolean;
  message: string;
  timestamp: string;
  url: string;
  author: PushCommitAuthor;
  committer: PushCommitAuthor;
  added: string[];
  removed: string[];
  modified: string[];
}

/** A trimmed `push` event payload. */
export interface PushPayload {
  ref: string;
  before: string;
  after: string;
  created: boolean;
  deleted: boolean;
  forced: boolean;
  base_ref: null;
  compare: string;
  commits: PushCommit[];
  head_commit: PushCommit | null;
  repository: WebhookRepository;
  pusher: { name: string; email: string };
  sender: WebhookUser;
  installation: { id: number; node_id: string };
}

/** Input of {@link pushPayload}. */
export interface PushPayloadInput {
  /** `owner/name`. */
  repo: string;
  /** Default `refs/heads/<defaultBranch>`. */
  ref?: string;
  defaultBranch?: string;
  /** Oldest first, as GitHub lists them; the last one becomes `head_commit`. */
  commits: Array<{ id: string; message: string; author: PushCommitAuthor; timestamp?: string; url?: string }>;
  /** Sha before the push; default a stable fake parent. */
  before?: string;
  pusher?: { name: string; email: string };
  sender?: { login: string; type?: 'User' | 'Bot' };
  installationId?: number;
}

/** Builds a realistic, trimmed `push` payload (the fields Probot and the bot read). */
export function pushPayload(input: PushPayloadInput): PushPayload {
  const repository = repositoryPayload(input.repo, input.defaultBranch ?? 'main');
  const ref = input.ref ?? `refs/heads/${repository.default_branch}`;
  const commits = input.commits.map((c): PushCommit => ({
    id: c.id,
    tree_id: createHash('sha1').update(`tree:${c.id}`).digest('hex'),
    distinct: true,
    message: c.message,
    timestamp: c.timestamp ?? '2026-01-29T12:56:07Z',
    url: c.url ?? `${repository.html_url}/commit/${c.id}`,
    author: c.author,
    committer: { name: 'GitHub', email: 'noreply@github.com', username: 'web-flow' },
    added: [],
    removed: [],
    modified: ['README.md'],
  }));
  const head = commits.at(-1) ?? null;
  const before = input.before ?? createHash('sha1').update(`before:${input.repo}:${head?.id ?? ''}`).digest('hex');
  const after = head?.id ?? before;
  const firstAuthor = input.commits[0]?.author;
  const pusher = input.pusher ?? {
    name: firstAuthor?.username ?? firstAuthor?.name ?? 'octocat',
    email: firstAuthor?.email ?? 'octocat@example.com',
  };
  const installationId = input.installationId ?? DEFAULT_INSTALLATION_ID;
  return {
    ref,
    before,
    after,
    created: false,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: `${repository.html_url}/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
    commits,
    head_commit: head,
    repository,
    pusher,
    sender: userPayload(input.sender?.login ?? pusher.name, input.sender?.type ?? 'User'),
    installation: { id: installationId, node_id: `MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u${installationId}` },
  };
}

/** A trimmed `issue_comment` event payload. */
export interface IssueCommentPayload {
  action: 'created' | 'edited' | 'deleted';
  issue: {
    id: number;
    node_id: string;
    number: number;
    title: string;
    state: 'open';
    html_url: string;
    url: string;
    user: WebhookUser;
    body: string | null;
    pull_request?: { url: string; html_url: string; diff_url: string; patch_url: string; merged_at: null };
  };
  comment: {
    id: number;
    node_id: string;
    html_url: string;
    url: string;
    issue_url: string;
    body: string;
    user: WebhookUser;
    created_at: string;
    updated_at: string;
    author_association: string;
  };
  changes?: { body: { from: string } };
  repository: WebhookRepository;
  sender: WebhookUser;
  installation: { id: number; node_id: string };
}

/** Input of {@link issueCommentPayload}. */
export interface IssueCommentPayloadInput {
  /** `owner/name`. */
  repo: string;
  issueNumber: number;
  /** A PR comment arrives as an issue comment whose issue has `pull_request`. */
  isPullRequest?: boolean;
  body: string;
  user: { login: string; type?: 'User' | 'Bot' };
  /** Default: a stable id derived from repo, issue and body. */
  commentId?: number;
  action?: 'created' | 'edited' | 'deleted';
  /** For `edited`: the body before the edit (default the same body). */
  previousBody?: string;
  defaultBranch?: string;
  installationId?: number;
  /**
   * When the comment was written (`created_at`); default now on the real clock, as GitHub sends a new comment's
   * webhook within seconds. A test on a moved clock passes the clock's time (the bot refuses comments older than 10 min).
   */
  createdAt?: Date | number | string;
  /** `updated_at`; default the creation time (an edit sets a later one). */
  updatedAt?: Date | number | string;
}

/** Builds a realistic, trimmed `issue_comment` payload (the fields Probot and the bot read). */
export function issueCommentPayload(input: IssueCommentPayloadInput): IssueCommentPayload {
  const repository = repositoryPayload(input.repo, input.defaultBranch ?? 'main');
  const kind = input.isPullRequest === true ? 'pull' : 'issues';
  const issueHtml = `${repository.html_url}/${kind}/${input.issueNumber}`;
  const issueApi = `${repository.url}/issues/${input.issueNumber}`;
  const commentId =
    input.commentId ??
    createHash('sha1').update(`${input.repo}#${input.issueNumber}:${input.body}`).digest().readUInt32BE(0) % 1_000_000_000;
  const author = userPayload(input.user.login, input.user.type ?? 'User');
  const action = input.action ?? 'created';
  const installationId = input.installationId ?? DEFAULT_INSTALLATION_ID;
  const iso = (t: Date | number | string): string => (typeof t === 'string' ? t : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  const createdAt = iso(input.createdAt ?? new Date());
  const updatedAt = input.updatedAt === undefined ? createdAt : iso(input.updatedAt);
  return {
    action,
    issue: {
      id: repository.id * 10 + input.issueNumber,
      node_id: `I_kwDO${input.issueNumber}`,
      number: input.issueNumber,
      title: input.isPullRequest === true ? 'Change the vote button colour' : 'Deploy tracking',
      state: 'open',
      html_url: issueHtml,
      url: issueApi,
      user: userPayload('octocat', 'User'),
      body: null,
      ...(input.isPullRequest === true
        ? {
            pull_request: {
              url: `${repository.url}/pulls/${input.issueNumber}`,
              html_url: issueHtml,
              diff_url: `${issueHtml}.diff`,
              patch_url: `${issueHtml}.patch`,
              merged_at: null,
            },
          }
        : {}),
    },
    comment: {
      id: commentId,
      node_id: `IC_kwDO${commentId}`,
      html_url: `${issueHtml}#issuecomment-${commentId}`,
      url: `${repository.url}/issues/comments/${commentId}`,
      issue_url: issueApi,
      body: input.body,
      user: author,
      created_at: createdAt,
      updated_at: updatedAt,
      author_association: 'MEMBER',
    },
    ...(action === 'edited' ? { changes: { body: { from: input.previousBody ?? input.body } } } : {}),
    repository,
    sender: author,
    installation: { id: installationId, node_id: `MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u${installationId}` },
  };
}

function repositoryPayload(fullName: string, defaultBranch: string): WebhookRepository {
  const [owner = '', name = ''] = fullName.split('/');
  if (owner === '' || name === '') throw new Error(`repo must be "owner/name", got "${fullName}"`);
  return {
    id: repositoryIdFor(fullName),
    node_id: `R_kgDO${repositoryIdFor(fullName)}`,
    name,
    full_name: fullName,
    private: true,
    owner: userPayload(owner, 'Organization'),
    html_url: `https://github.com/${fullName}`,
    url: `https://api.github.com/repos/${fullName}`,
    default_branch: defaultBranch,
  };
}

function userPayload(login: string, type: WebhookUser['type']): WebhookUser {
  return { login, id: userIdFor(login), node_id: `U_kgDO${userIdFor(login)}`, type, html_url: `https://github.com/${login}` };
}
