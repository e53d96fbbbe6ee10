import { createHash, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_INSTALLATION_ID, repositoryIdFor, userIdFor } from './clients/github-webhooks.js';
import { checkRunRoutes, type GitHubCheckRun } from './github-check-runs.js';

export type { GitHubCheckRun } from './github-check-runs.js';

/**
 * A loopback GitHub Enterprise REST API (served under `/api/v3`) for the routes rollout-chatops calls through
 * Probot: GitHub App auth (JWT → installation token), repo info, collaborator permission, commits, issue
 * comments and reactions, workflow dispatches, deployments and their statuses, commit statuses, check runs
 * (github-check-runs.ts) and team memberships. Every request is recorded; a route it does not
 * know answers 404 and is listed by `unexpectedCalls()`.
 */

/** Repository role as set by a test; the API's `permission` field folds `maintain`→`write` and `triage`→`read`. */
export type RepoRole = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

/** One request the emulator received. */
export interface GitHubCall {
  method: string;
  /** Path as received, without the query string: `/api/v3/repos/acme/voting01/issues/7/comments`. */
  path: string;
  query: Record<string, string>;
  /** The raw `Authorization` header: `bearer <JWT>` for app routes, `token ghs_…` for installation routes. */
  authorization: string | undefined;
  /** Parsed JSON body, or `undefined` when there was none. */
  body: unknown;
  /** Status the emulator answered with. */
  status: number;
  /** True when no route matched (including routes of repositories no test registered). */
  unexpected: boolean;
}

/** A GitHub user or bot as the REST API shows it (trimmed). */
export interface GitHubUser {
  login: string;
  id: number;
  type: 'User' | 'Bot' | 'Organization';
}

/** An issue or PR comment as the REST API returns it. */
export interface GitHubComment {
  id: number;
  node_id: string;
  url: string;
  html_url: string;
  issue_url: string;
  body: string;
  user: GitHubUser;
  created_at: string;
  updated_at: string;
  author_association: string;
}

/** A reaction on a comment. */
export interface GitHubReaction {
  id: number;
  node_id: string;
  content: string;
  user: GitHubUser;
  created_at: string;
}

/** A recorded `workflow_dispatch`. */
export interface GitHubDispatch {
  /** `owner/name`. */
  repo: string;
  /** Workflow file name (even when the call used the numeric id). */
  workflow: string;
  ref: string;
  inputs: Record<string, unknown>;
}

/** A deployment created through the API. */
export interface GitHubDeployment {
  id: number;
  node_id: string;
  url: string;
  statuses_url: string;
  repository_url: string;
  sha: string;
  ref: string;
  task: string;
  payload: unknown;
  environment: string;
  original_environment: string;
  description: string | null;
  transient_environment: boolean;
  production_environment: boolean;
  creator: GitHubUser;
  created_at: string;
  updated_at: string;
}

/** A deployment status created through the API. */
export interface GitHubDeploymentStatus {
  id: number;
  node_id: string;
  url: string;
  state: string;
  description: string;
  environment: string;
  environment_url: string;
  log_url: string;
  target_url: string;
  deployment_url: string;
  repository_url: string;
  creator: GitHubUser;
  created_at: string;
  updated_at: string;
}

/** A commit status created through the API (`POST /repos/{o}/{r}/statuses/{sha}`). */
export interface GitHubCommitStatus {
  id: number;
  node_id: string;
  url: string;
  /** Full sha the status was set on. */
  sha: string;
  state: 'error' | 'failure' | 'pending' | 'success';
  description: string | null;
  target_url: string | null;
  context: string;
  creator: GitHubUser;
  created_at: string;
  updated_at: string;
}

/** A commit as a test registers it. */
export interface CommitInput {
  /** Full 40-hex sha; default a stable sha derived from repo, message and order. */
  sha?: string;
  message: string;
  /** `login` is the GitHub account; leave it out for an author GitHub could not match (the API's `author: null`). */
  author: { name: string; email: string; login?: string; date?: string };
  /** Default: GitHub's web-flow committer at the author's date. */
  committer?: { name: string; email: string; login?: string; date?: string };
  /** Branch whose head this commit becomes (default the repo's default branch). */
  branch?: string;
}

/** A canned failure for the next matching calls. */
export interface GitHubFailure {
  count: number;
  status: number;
  /** Only calls whose path (as received, `/api/v3/...`) matches; all calls when absent, the token exchange included. */
  path?: RegExp;
  /** Default `{message:'Server Error'}` for 5xx, `{message:'Simulated failure'}` otherwise. */
  body?: unknown;
  /** E.g. `{'retry-after':'1'}` or `{'x-ratelimit-remaining':'0'}` for rate-limit answers. */
  headers?: Record<string, string>;
  /**
   * GitHub acts on the call (it is handled and its effect kept, e.g. the check run exists), then its answer is lost:
   * the caller gets this failure instead (a 502 from a proxy, a connection cut).
   */
  handled?: boolean;
}

/** Options of {@link startGitHubEmulator}. */
export interface GitHubEmulatorOptions {
  /**
   * The one installation (default the webhook helpers' default, 1): answered by `GET /repos/{o}/{r}/installation`;
   * a token request for any other id answers 404 and counts as unexpected.
   */
  installationId?: number;
  /** App slug; the bot's comments come from `<slug>[bot]` (default `rollout-chatops`). */
  appSlug?: string;
  /** Tokens accepted on installation routes besides those minted by the emulator (e.g. a Probot built with `githubToken`). */
  staticTokens?: string[];
  /** Permissions listed on minted installation tokens (default: the ones app.yml asks for). */
  permissions?: Record<string, string>;
}

/** A running GitHub emulator. */
export interface GitHubEmulator {
  /** `http://127.0.0.1:PORT/api/v3`: Probot's `baseUrl`. */
  readonly apiUrl: string;
  /** `127.0.0.1:PORT`: the bot's `GHE_HOST` (with `GHE_PROTOCOL=http`). */
  readonly host: string;
  /** Every request so far, oldest first (a copy). */
  readonly calls: readonly GitHubCall[];
  /** Verify app JWTs against this key from now on; the PEM may be the public or the private key. */
  registerApp(app: { appId: number | string; publicKeyPem: string }): void;
  /** Make a repository known (routes of unknown repositories answer 404 and count as unexpected). */
  addRepo(repo: string, opts?: { defaultBranch?: string }): void;
  /** Set a user's role on a repository (registers the repository). */
  setPermission(repo: string, user: string, role: RepoRole): void;
  /** Register a commit (registers the repository); returns its sha. */
  addCommit(repo: string, commit: CommitInput): string;
  /**
   * Make a team known and set a user's membership of it (`active`, or `pending` for an invitation not yet accepted):
   * `GET /orgs/{org}/teams/{team}/memberships/{user}` answers it; a non-member of a known team gets 404 as on GitHub;
   * a team never added answers 404 and counts as unexpected. `addTeam` alone makes a team with no members.
   */
  addTeamMember(org: string, team: string, user: string, state?: 'active' | 'pending'): void;
  addTeam(org: string, team: string): void;
  /** Register a workflow file; with `inputs`, a dispatch with any other input answers 422 like GitHub. */
  addWorkflow(repo: string, file: string, opts?: { inputs?: string[] }): void;
  /** Mint an installation token without the JWT exchange, for tests that call the API directly. */
  issueToken(installationId?: number): string;
  /** Comments the API created on an issue or PR, with their current bodies. */
  comments(repo: string, issueNumber: number): GitHubComment[];
  /** Reactions created on a comment (any comment id, including ones that only exist in a webhook payload). */
  reactions(commentId: number): GitHubReaction[];
  dispatches(repo?: string): GitHubDispatch[];
  deployments(repo?: string): GitHubDeployment[];
  deploymentStatuses(deploymentId: number): GitHubDeploymentStatus[];
  /** Commit statuses created on a repo (optionally one commit), oldest first; every one, not only the latest per context. */
  commitStatuses(repo: string, sha?: string): GitHubCommitStatus[];
  /** Check runs created on a repo (or any), oldest first, each as it stands now (after its updates). */
  checkRuns(repo?: string): GitHubCheckRun[];
  /**
   * Changes the installation's permissions from now on, as an owner who declined (or accepted) new ones: every
   * request, with tokens already minted too, is checked against them.
   */
  setPermissions(permissions: Record<string, string>): void;
  /** Calls no route matched. An integration test should end with `expect(gh.unexpectedCalls()).toEqual([])`. */
  unexpectedCalls(): GitHubCall[];
  /** Answer the next `count` matching calls with `status` instead of handling them. */
  failNext(failure: GitHubFailure): void;
  /** Poll every 10 ms until `predicate` returns something other than undefined, null or false; resolve with it, reject after `timeoutMs`. */
  waitFor<T>(predicate: () => T | undefined | null | false, what: string, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  unexpected?: boolean;
}

interface RepoState {
  fullName: string;
  owner: string;
  name: string;
  id: number;
  defaultBranch: string;
  roles: Map<string, { login: string; role: RepoRole }>;
  commits: Array<{ sha: string; input: CommitInput; parents: string[] }>;
  branches: Map<string, string>;
  workflows: Map<string, { id: number; file: string; inputs?: string[] }>;
}

interface RequestContext {
  method: string;
  apiPath: string;
  query: Record<string, string>;
  authorization: string | undefined;
  body: unknown;
}

const REACTIONS = new Set(['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes']);
const DEPLOYMENT_STATES = new Set(['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success']);
const DOCS = 'https://docs.github.com/enterprise-server@3.14/rest';
const TOKEN_TTL_MS = 60 * 60 * 1000;

/**
 * Starts the GitHub emulator on 127.0.0.1, port picked by the OS.
 * Unknown collaborators answer 404: GitHub does so for logins that do not exist, while an existing
 * non-collaborator gets `permission: 'none'` (set that with `setPermission(repo, user, 'none')`).
 */
export async function startGitHubEmulator(opts: GitHubEmulatorOptions = {}): Promise<GitHubEmulator> {
  const installationId = opts.installationId ?? DEFAULT_INSTALLATION_ID;
  const slug = opts.appSlug ?? 'rollout-chatops';
  const botUser: GitHubUser = { login: `${slug}[bot]`, id: userIdFor(`${slug}[bot]`), type: 'Bot' };
  let tokenPermissions: Record<string, string> = opts.permissions ?? {
    checks: 'write',
    metadata: 'read',
    contents: 'read',
    issues: 'write',
    pull_requests: 'write',
    deployments: 'write',
    statuses: 'write',
    actions: 'write',
    members: 'read',
  };
  const appKeys = new Map<string, KeyObject>();
  const tokens = new Map<string, { installationId: number; expiresAt: number }>();
  for (const token of opts.staticTokens ?? []) tokens.set(token, { installationId, expiresAt: Infinity });
  const repos = new Map<string, RepoState>();
  /** `org/team` (lower case) → login (lower case) → membership. */
  const teams = new Map<string, Map<string, { login: string; state: 'active' | 'pending' }>>();
  const calls: GitHubCall[] = [];
  const comments: Array<GitHubComment & { repoKey: string; issueNumber: number }> = [];
  const reactions: Array<GitHubReaction & { commentId: number }> = [];
  const dispatches: GitHubDispatch[] = [];
  const deployments: Array<GitHubDeployment & { repoKey: string }> = [];
  const statuses: Array<GitHubDeploymentStatus & { deploymentId: number }> = [];
  const commitStatuses: Array<GitHubCommitStatus & { repoKey: string }> = [];
  const failures: Array<GitHubFailure & { remaining: number }> = [];
  let nextId = 1_000_001;
  let origin = '';
  const checkRuns = checkRunRoutes({
    origin: () => origin,
    app: () => ({ id: Number([...appKeys.keys()][0]) || 1, slug }),
    permission: () => tokenPermissions.checks,
    nextId: () => nextId++,
    resolveSha: (repo, ref) => {
      const state = repos.get(repo.toLowerCase());
      return state === undefined ? undefined : resolveRef(state, ref)?.sha;
    },
  });

  const now = (): string => new Date().toISOString();
  const webUrl = (repo: RepoState): string => `${origin}/${repo.fullName}`;
  const apiRepoUrl = (repo: RepoState): string => `${origin}/api/v3/repos/${repo.fullName}`;

  function ensureRepo(fullName: string, defaultBranch?: string): RepoState {
    const [owner = '', name = ''] = fullName.split('/');
    if (owner === '' || name === '') throw new Error(`repo must be "owner/name", got "${fullName}"`);
    const key = fullName.toLowerCase();
    let repo = repos.get(key);
    if (repo === undefined) {
      repo = {
        fullName,
        owner,
        name,
        id: repositoryIdFor(fullName),
        defaultBranch: defaultBranch ?? 'main',
        roles: new Map(),
        commits: [],
        branches: new Map(),
        workflows: new Map(),
      };
      repos.set(key, repo);
    } else if (defaultBranch !== undefined) {
      repo.defaultBranch = defaultBranch;
    }
    return repo;
  }

  function mintToken(forInstallation: number): { token: string; expiresAt: number } {
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    const expiresAt = Date.now() + TOKEN_TTL_MS;
    tokens.set(token, { installationId: forInstallation, expiresAt });
    return { token, expiresAt };
  }

  /** Checks `bearer <JWT>`; returns the app id or a 401 reply. */
  function checkAppJwt(authorization: string | undefined): { appId: string } | Reply {
    const bad = (message: string): Reply => ({ status: 401, body: { message, documentation_url: DOCS } });
    const match = /^bearer\s+(\S+)$/i.exec(authorization ?? '');
    const parts = match?.[1]?.split('.') ?? [];
    const [headerPart, payloadPart, signaturePart] = parts;
    if (parts.length !== 3 || !headerPart || !payloadPart || !signaturePart) {
      return bad('A JSON web token could not be decoded');
    }
    let claims: { iss?: unknown; iat?: unknown; exp?: unknown };
    let header: { alg?: unknown };
    try {
      header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as { alg?: unknown };
      claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      // Unregistered apps only need a JWT-shaped token (see the brief); registered ones are fully checked below.
      if (appKeys.size === 0) return { appId: 'unknown' };
      return bad('A JSON web token could not be decoded');
    }
    const appId = String(claims.iss ?? 'unknown');
    if (appKeys.size === 0) return { appId };
    const key = appKeys.get(appId);
    if (key === undefined) return bad('Integration not found');
    const signed = Buffer.from(`${headerPart}.${payloadPart}`);
    if (header.alg !== 'RS256' || !verify('RSA-SHA256', signed, key, Buffer.from(signaturePart, 'base64url'))) {
      return bad('A JSON web token could not be decoded');
    }
    const nowSec = Math.floor(Date.now() / 1000);
    if (typeof claims.iat !== 'number' || claims.iat > nowSec + 60) {
      return bad("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.");
    }
    if (typeof claims.exp !== 'number' || claims.exp <= nowSec) return bad("'Expiration time' claim ('exp') is in the past");
    if (claims.exp > nowSec + 660) return bad("'Expiration time' claim ('exp') is too far in the future");
    return { appId };
  }

  function checkInstallationToken(authorization: string | undefined): Reply | undefined {
    const token = /^(?:token|bearer)\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    const known = token === undefined ? undefined : tokens.get(token);
    if (known === undefined || known.expiresAt <= Date.now()) {
      return { status: 401, body: { message: 'Bad credentials', documentation_url: DOCS } };
    }
    return undefined;
  }

  function commitJson(repo: RepoState, entry: RepoState['commits'][number]): unknown {
    const { input, sha } = entry;
    const date = input.author.date ?? '2026-01-29T12:56:07Z';
    const committer = input.committer ?? { name: 'GitHub', email: 'noreply@github.com', login: 'web-flow', date };
    const account = (login: string | undefined): GitHubUser | null =>
      login === undefined ? null : { login, id: userIdFor(login), type: 'User' };
    return {
      sha,
      node_id: `C_kwDO${sha.slice(0, 12)}`,
      url: `${apiRepoUrl(repo)}/commits/${sha}`,
      html_url: `${webUrl(repo)}/commit/${sha}`,
      comments_url: `${apiRepoUrl(repo)}/commits/${sha}/comments`,
      commit: {
        url: `${apiRepoUrl(repo)}/git/commits/${sha}`,
        message: input.message,
        author: { name: input.author.name, email: input.author.email, date },
        committer: { name: committer.name, email: committer.email, date: committer.date ?? date },
        tree: { sha: createHash('sha1').update(`tree:${sha}`).digest('hex'), url: `${apiRepoUrl(repo)}/git/trees/x` },
        comment_count: 0,
        verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
      },
      author: account(input.author.login),
      committer: account(committer.login),
      parents: entry.parents.map((p) => ({ sha: p, url: `${apiRepoUrl(repo)}/commits/${p}`, html_url: `${webUrl(repo)}/commit/${p}` })),
      stats: { total: 2, additions: 1, deletions: 1 },
      files: [],
    };
  }

  /** Resolves a sha, a unique prefix of 7+ hex chars, or a branch name to a commit. */
  function resolveRef(repo: RepoState, ref: string): RepoState['commits'][number] | undefined {
    const lower = ref.toLowerCase();
    const branch = lower.replace(/^refs\/heads\/|^heads\//, '');
    const branchHead = repo.branches.get(branch);
    if (branchHead !== undefined) return repo.commits.find((c) => c.sha === branchHead);
    if (!/^[0-9a-f]{7,40}$/.test(lower)) return undefined;
    const matches = repo.commits.filter((c) => c.sha.startsWith(lower));
    return matches.length === 1 ? matches[0] : undefined;
  }

  function commentJson(c: GitHubComment): GitHubComment {
    const { id, node_id, url, html_url, issue_url, body, user, created_at, updated_at, author_association } = c;
    return { id, node_id, url, html_url, issue_url, body, user, created_at, updated_at, author_association };
  }

  function deploymentJson(d: GitHubDeployment & { repoKey: string }): GitHubDeployment {
    const { repoKey: _repoKey, ...rest } = d;
    return rest;
  }

  function statusJson(s: GitHubDeploymentStatus & { deploymentId: number }): GitHubDeploymentStatus {
    const { deploymentId: _deploymentId, ...rest } = s;
    return rest;
  }

  function page<T>(items: T[], ctx: RequestContext): Reply {
    const perPage = Math.min(Number(ctx.query.per_page ?? 30) || 30, 100);
    const pageNo = Math.max(Number(ctx.query.page ?? 1) || 1, 1);
    const slice = items.slice((pageNo - 1) * perPage, pageNo * perPage);
    const headers: Record<string, string> = {};
    if (pageNo * perPage < items.length) {
      const next = new URLSearchParams({ ...ctx.query, per_page: String(perPage), page: String(pageNo + 1) });
      headers.link = `<${origin}/api/v3${ctx.apiPath}?${next.toString()}>; rel="next"`;
    }
    return { status: 200, body: slice, headers };
  }

  const notFound = (unexpected: boolean): Reply => ({
    status: 404,
    body: { message: 'Not Found', documentation_url: DOCS },
    unexpected,
  });
  const validationFailed = (message: string, errors: unknown[] = []): Reply => ({
    status: 422,
    body: { message, errors, documentation_url: DOCS },
  });
  const asRecord = (body: unknown): Record<string, unknown> =>
    typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};

  /** App-authenticated routes (JWT). */
  function handleAppRoute(ctx: RequestContext): Reply | undefined {
    const tokenMatch = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(ctx.apiPath);
    const isApp = ctx.apiPath === '/app';
    const installMatch = /^\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(ctx.apiPath);
    if (!(ctx.method === 'POST' && tokenMatch) && !(ctx.method === 'GET' && (isApp || installMatch))) return undefined;
    const auth = checkAppJwt(ctx.authorization);
    if ('status' in auth) return auth;
    if (tokenMatch) {
      // One installation per emulator: a token request for another id is a bot bug (e.g. an id not taken from the payload).
      if (Number(tokenMatch[1]) !== installationId) return notFound(true);
      const { token, expiresAt } = mintToken(installationId);
      return {
        status: 201,
        body: { token, expires_at: new Date(expiresAt).toISOString(), permissions: tokenPermissions, repository_selection: 'all' },
      };
    }
    if (isApp) {
      return {
        status: 200,
        body: { id: Number(auth.appId) || auth.appId, slug, name: slug, owner: { login: 'acme', type: 'Organization' }, permissions: tokenPermissions },
      };
    }
    const repo = repos.get(`${decodeURIComponent(installMatch?.[1] ?? '')}/${decodeURIComponent(installMatch?.[2] ?? '')}`.toLowerCase());
    if (repo === undefined) return notFound(true);
    return {
      status: 200,
      body: { id: installationId, app_slug: slug, account: { login: repo.owner, type: 'Organization' }, target_type: 'Organization', permissions: tokenPermissions },
    };
  }

  /** Installation-token routes under `/repos/{owner}/{repo}`. */
  function handleRepoRoute(ctx: RequestContext, repo: RepoState, rest: string): Reply {
    const { method } = ctx;
    const body = asRecord(ctx.body);
    let m: RegExpExecArray | null;

    const checks = checkRuns.handle({ method, apiPath: ctx.apiPath, rest, query: ctx.query, body: ctx.body }, repo);
    if (checks !== undefined) return checks;

    if (method === 'GET' && rest === '') {
      return {
        status: 200,
        body: {
          id: repo.id,
          node_id: `R_kgDO${repo.id}`,
          name: repo.name,
          full_name: repo.fullName,
          private: true,
          owner: { login: repo.owner, id: userIdFor(repo.owner), type: 'Organization' },
          html_url: webUrl(repo),
          url: apiRepoUrl(repo),
          default_branch: repo.defaultBranch,
        },
      };
    }
    if (method === 'GET' && (m = /^\/collaborators\/([^/]+)\/permission$/.exec(rest))) {
      const entry = repo.roles.get(decodeURIComponent(m[1] ?? '').toLowerCase());
      if (entry === undefined) return notFound(false);
      const permission = entry.role === 'maintain' ? 'write' : entry.role === 'triage' ? 'read' : entry.role;
      const rank = ['none', 'read', 'triage', 'write', 'maintain', 'admin'].indexOf(entry.role);
      return {
        status: 200,
        body: {
          permission,
          role_name: entry.role,
          user: {
            login: entry.login,
            id: userIdFor(entry.login),
            type: 'User',
            permissions: { admin: rank >= 5, maintain: rank >= 4, push: rank >= 3, triage: rank >= 2, pull: rank >= 1 },
            role_name: entry.role,
          },
        },
      };
    }
    if ((m = /^\/statuses\/([^/]+)$/.exec(rest)) || (m = /^\/commits\/([^/]+)\/statuses$/.exec(rest))) {
      return handleCommitStatus(ctx, repo, decodeURIComponent(m[1] ?? ''), rest.startsWith('/statuses/'));
    }
    if (method === 'GET' && (m = /^\/commits\/(.+)$/.exec(rest))) {
      const ref = decodeURIComponent(m[1] ?? '');
      const commit = resolveRef(repo, ref);
      if (commit === undefined) return validationFailed(`No commit found for SHA: ${ref}`);
      return { status: 200, body: commitJson(repo, commit) };
    }
    if ((m = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      const issueNumber = Number(m[1]);
      if (method === 'GET') {
        return page(
          comments.filter((c) => c.repoKey === repo.fullName.toLowerCase() && c.issueNumber === issueNumber).map(commentJson),
          ctx,
        );
      }
      if (method === 'POST') {
        if (typeof body.body !== 'string' || body.body === '') {
          return validationFailed('Validation Failed', [{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]);
        }
        const id = nextId++;
        const created = now();
        const comment = {
          id,
          node_id: `IC_kwDO${id}`,
          url: `${apiRepoUrl(repo)}/issues/comments/${id}`,
          html_url: `${webUrl(repo)}/issues/${issueNumber}#issuecomment-${id}`,
          issue_url: `${apiRepoUrl(repo)}/issues/${issueNumber}`,
          body: body.body,
          user: botUser,
          created_at: created,
          updated_at: created,
          author_association: 'NONE',
          repoKey: repo.fullName.toLowerCase(),
          issueNumber,
        };
        comments.push(comment);
        return { status: 201, body: commentJson(comment) };
      }
    }
    if (method === 'PATCH' && (m = /^\/issues\/comments\/(\d+)$/.exec(rest))) {
      const comment = comments.find((c) => c.id === Number(m?.[1]) && c.repoKey === repo.fullName.toLowerCase());
      if (comment === undefined) return notFound(false);
      if (typeof body.body !== 'string' || body.body === '') {
        return validationFailed('Validation Failed', [{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]);
      }
      comment.body = body.body;
      comment.updated_at = now();
      return { status: 200, body: commentJson(comment) };
    }
    if (method === 'POST' && (m = /^\/issues\/comments\/(\d+)\/reactions$/.exec(rest))) {
      const commentId = Number(m[1]);
      const content = body.content;
      if (typeof content !== 'string' || !REACTIONS.has(content)) {
        return validationFailed('Validation Failed', [{ resource: 'Reaction', code: 'invalid', field: 'content' }]);
      }
      // GitHub answers 200 with the existing reaction when the same user reacts the same way twice.
      const existing = reactions.find((r) => r.commentId === commentId && r.content === content);
      if (existing !== undefined) {
        const { commentId: _c, ...json } = existing;
        return { status: 200, body: json };
      }
      const id = nextId++;
      const reaction = { id, node_id: `REA_lADO${id}`, content, user: botUser, created_at: now(), commentId };
      reactions.push(reaction);
      const { commentId: _c, ...json } = reaction;
      return { status: 201, body: json };
    }
    if (method === 'GET' && rest === '/actions/workflows') {
      const list = [...repo.workflows.values()].map((w) => workflowJson(repo, w));
      return { status: 200, body: { total_count: list.length, workflows: list } };
    }
    if ((m = /^\/actions\/workflows\/([^/]+)(\/dispatches)?$/.exec(rest))) {
      const key = decodeURIComponent(m[1] ?? '');
      const workflow = [...repo.workflows.values()].find((w) => w.file === key || String(w.id) === key);
      if (workflow === undefined) return notFound(false);
      if (method === 'GET' && m[2] === undefined) return { status: 200, body: workflowJson(repo, workflow) };
      if (method === 'POST' && m[2] !== undefined) {
        if (typeof body.ref !== 'string' || body.ref === '') return validationFailed('Invalid request.\n\n"ref" wasn\'t supplied.');
        const inputs = asRecord(body.inputs);
        if (workflow.inputs !== undefined) {
          const unknown = Object.keys(inputs).filter((k) => !workflow.inputs?.includes(k));
          if (unknown.length > 0) return validationFailed(`Unexpected inputs provided: ${JSON.stringify(unknown)}`);
        }
        dispatches.push({ repo: repo.fullName, workflow: workflow.file, ref: body.ref, inputs });
        return { status: 204 };
      }
    }
    if (rest === '/deployments') {
      if (method === 'GET') {
        const filters = ['sha', 'ref', 'task', 'environment'] as const;
        const list = deployments
          .filter((d) => d.repoKey === repo.fullName.toLowerCase())
          .filter((d) => filters.every((f) => ctx.query[f] === undefined || d[f] === ctx.query[f]))
          .reverse()
          .map(deploymentJson);
        return page(list, ctx);
      }
      if (method === 'POST') {
        if (typeof body.ref !== 'string' || body.ref === '') {
          return validationFailed('Invalid request.\n\n"ref" wasn\'t supplied.');
        }
        const sha = resolveRef(repo, body.ref)?.sha ?? (/^[0-9a-f]{40}$/i.test(body.ref) ? body.ref : undefined);
        if (sha === undefined) return validationFailed(`No ref found for: ${body.ref}`);
        const id = nextId++;
        const environment = typeof body.environment === 'string' ? body.environment : 'production';
        const created = now();
        const deployment = {
          id,
          node_id: `DE_kwDO${id}`,
          url: `${apiRepoUrl(repo)}/deployments/${id}`,
          statuses_url: `${apiRepoUrl(repo)}/deployments/${id}/statuses`,
          repository_url: apiRepoUrl(repo),
          sha,
          ref: body.ref,
          task: typeof body.task === 'string' ? body.task : 'deploy',
          payload: body.payload ?? {},
          environment,
          original_environment: environment,
          description: typeof body.description === 'string' ? body.description : null,
          transient_environment: body.transient_environment === true,
          production_environment:
            typeof body.production_environment === 'boolean' ? body.production_environment : environment === 'production',
          creator: botUser,
          created_at: created,
          updated_at: created,
          repoKey: repo.fullName.toLowerCase(),
        };
        deployments.push(deployment);
        return { status: 201, body: deploymentJson(deployment) };
      }
    }
    if ((m = /^\/deployments\/(\d+)\/statuses$/.exec(rest))) {
      const deploymentId = Number(m[1]);
      const deployment = deployments.find((d) => d.id === deploymentId && d.repoKey === repo.fullName.toLowerCase());
      if (deployment === undefined) return notFound(false);
      if (method === 'GET') return page(statuses.filter((s) => s.deploymentId === deploymentId).reverse().map(statusJson), ctx);
      if (method === 'POST') {
        if (typeof body.state !== 'string' || !DEPLOYMENT_STATES.has(body.state)) {
          return validationFailed('Validation Failed', [{ resource: 'DeploymentStatus', code: 'invalid', field: 'state' }]);
        }
        if (typeof body.description === 'string' && body.description.length > 140) {
          return validationFailed('Validation Failed', [{ resource: 'DeploymentStatus', code: 'custom', field: 'description', message: 'description is too long (maximum is 140 characters)' }]);
        }
        const id = nextId++;
        const created = now();
        const text = (v: unknown): string => (typeof v === 'string' ? v : '');
        const status = {
          id,
          node_id: `DES_kwDO${id}`,
          url: `${deployment.statuses_url}/${id}`,
          state: body.state,
          description: text(body.description),
          environment: typeof body.environment === 'string' ? body.environment : deployment.environment,
          environment_url: text(body.environment_url),
          log_url: text(body.log_url ?? body.target_url),
          target_url: text(body.log_url ?? body.target_url),
          deployment_url: deployment.url,
          repository_url: deployment.repository_url,
          creator: botUser,
          created_at: created,
          updated_at: created,
          deploymentId,
        };
        statuses.push(status);
        return { status: 201, body: statusJson(status) };
      }
    }
    return notFound(true);
  }

  /**
   * `POST /repos/{o}/{r}/statuses/{sha}` (full sha; needs the `statuses` permission) and
   * `GET /repos/{o}/{r}/commits/{ref}/statuses` (newest first). Any well-formed sha is accepted, as the bot may set a
   * status on a commit only a push told it of.
   */
  function handleCommitStatus(ctx: RequestContext, repo: RepoState, ref: string, isPost: boolean): Reply {
    const repoKey = repo.fullName.toLowerCase();
    if (isPost && ctx.method === 'POST') {
      if (tokenPermissions.statuses !== 'write') return { status: 403, body: { message: 'Resource not accessible by integration', documentation_url: DOCS } };
      if (!/^[0-9a-f]{40}$/i.test(ref)) return validationFailed(`No commit found for SHA: ${ref}`);
      const body = asRecord(ctx.body);
      const state = body.state;
      if (state !== 'error' && state !== 'failure' && state !== 'pending' && state !== 'success') {
        return validationFailed('Validation Failed', [{ resource: 'Status', code: 'custom', field: 'state', message: 'state is not included in the list' }]);
      }
      const description = typeof body.description === 'string' ? body.description : null;
      if (description !== null && description.length > 140) {
        return validationFailed('Validation Failed', [{ resource: 'Status', code: 'custom', field: 'description', message: 'description is too long (maximum is 140 characters)' }]);
      }
      const id = nextId++;
      const created = now();
      const status = {
        id,
        node_id: `SC_kwDO${id}`,
        url: `${apiRepoUrl(repo)}/statuses/${ref.toLowerCase()}`,
        sha: ref.toLowerCase(),
        state,
        description,
        target_url: typeof body.target_url === 'string' ? body.target_url : null,
        context: typeof body.context === 'string' && body.context !== '' ? body.context : 'default',
        creator: botUser,
        created_at: created,
        updated_at: created,
        repoKey,
      } satisfies GitHubCommitStatus & { repoKey: string };
      commitStatuses.push(status);
      return { status: 201, body: commitStatusJson(status) };
    }
    if (!isPost && ctx.method === 'GET') {
      const sha = resolveRef(repo, ref)?.sha ?? ref.toLowerCase();
      return page(commitStatuses.filter((c) => c.repoKey === repoKey && c.sha === sha).reverse().map(commitStatusJson), ctx);
    }
    return notFound(true);
  }

  function commitStatusJson(c: GitHubCommitStatus & { repoKey: string }): GitHubCommitStatus {
    const { repoKey: _repoKey, ...rest } = c;
    return rest;
  }

  function workflowJson(repo: RepoState, w: { id: number; file: string }): unknown {
    return {
      id: w.id,
      node_id: `W_kwDO${w.id}`,
      name: w.file.replace(/\.ya?ml$/, ''),
      path: `.github/workflows/${w.file}`,
      state: 'active',
      url: `${apiRepoUrl(repo)}/actions/workflows/${w.id}`,
      html_url: `${webUrl(repo)}/blob/${repo.defaultBranch}/.github/workflows/${w.file}`,
    };
  }

  /** `GET /orgs/{org}/teams/{team_slug}/memberships/{username}`: needs the installation's `members` permission. */
  function handleTeamMembership(ctx: RequestContext, m: RegExpExecArray): Reply {
    const denied = checkInstallationToken(ctx.authorization);
    if (denied !== undefined) return denied;
    if (ctx.method !== 'GET') return notFound(true);
    if (tokenPermissions.members === undefined) return { status: 403, body: { message: 'Resource not accessible by integration', documentation_url: DOCS } };
    const [org, team, user] = [m[1], m[2], m[3]].map((x) => decodeURIComponent(x ?? ''));
    const members = teams.get(`${org}/${team}`.toLowerCase());
    if (members === undefined) return notFound(true);
    const member = members.get((user ?? '').toLowerCase());
    if (member === undefined) return notFound(false);
    return {
      status: 200,
      body: { url: `${origin}/api/v3/teams/${team}/memberships/${member.login}`, role: 'member', state: member.state },
    };
  }

  function route(ctx: RequestContext): Reply {
    const appReply = handleAppRoute(ctx);
    if (appReply !== undefined) return appReply;
    const teamMatch = /^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/.exec(ctx.apiPath);
    if (teamMatch !== null) return handleTeamMembership(ctx, teamMatch);
    const repoMatch = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(ctx.apiPath);
    if (repoMatch === null) return notFound(true);
    const repo = repos.get(`${decodeURIComponent(repoMatch[1] ?? '')}/${decodeURIComponent(repoMatch[2] ?? '')}`.toLowerCase());
    // Auth comes before existence, as on GitHub: an unauthenticated caller learns nothing about repositories.
    const denied = checkInstallationToken(ctx.authorization);
    if (denied !== undefined) return denied;
    if (repo === undefined) return notFound(true);
    return handleRepoRoute(ctx, repo, repoMatch[3] ?? '');
  }

  function takeFailure(path: string): GitHubFailure | undefined {
    const failure = failures.find((f) => f.remaining > 0 && (f.path === undefined || f.path.test(path)));
    if (failure === undefined) return undefined;
    failure.remaining -= 1;
    return failure;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://emulator');
    const call: GitHubCall = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization,
      body: undefined,
      status: 0,
      unexpected: false,
    };
    calls.push(call);
    let parsed = true;
    try {
      call.body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      call.body = raw;
      parsed = false;
    }
    const reply: Reply = parsed
      ? answer(call)
      : { status: 400, body: { message: 'Problems parsing JSON', documentation_url: DOCS } };
    call.status = reply.status;
    call.unexpected = reply.unexpected === true;
    const headers: Record<string, string> = {
      'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
      'x-github-media-type': 'github.v3; format=json',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      ...reply.headers,
    };
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers).end();
      return;
    }
    res.writeHead(reply.status, { ...headers, 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(reply.body));
  }

  function answer(call: GitHubCall): Reply {
    const failure = takeFailure(call.path);
    if (failure !== undefined) {
      if (failure.handled) route(requestOf(call));
      return {
        status: failure.status,
        body: failure.body ?? { message: failure.status >= 500 ? 'Server Error' : 'Simulated failure' },
        headers: failure.headers,
      };
    }
    if (!call.path.startsWith('/api/v3/')) return notFound(true);
    return route(requestOf(call));
  }

  function requestOf(call: GitHubCall): RequestContext {
    return {
      method: call.method,
      apiPath: call.path.slice('/api/v3'.length).replace(/\/+$/, ''),
      query: call.query,
      authorization: call.authorization,
      body: call.body,
    };
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `emulator bug: ${String(err)}` }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  origin = `http://${host}`;

  return {
    apiUrl: `${origin}/api/v3`,
    host,
    get calls() {
      return [...calls];
    },
    registerApp({ appId, publicKeyPem }) {
      appKeys.set(String(appId), createPublicKey(publicKeyPem));
    },
    addRepo(repo, repoOpts) {
      ensureRepo(repo, repoOpts?.defaultBranch);
    },
    setPermission(repo, user, role) {
      ensureRepo(repo).roles.set(user.toLowerCase(), { login: user, role });
    },
    addCommit(repoName, input) {
      const repo = ensureRepo(repoName);
      const branch = input.branch ?? repo.defaultBranch;
      const sha =
        input.sha?.toLowerCase() ??
        createHash('sha1').update(`${repo.fullName}\n${input.message}\n${repo.commits.length}`).digest('hex');
      if (!/^[0-9a-f]{40}$/.test(sha)) throw new Error(`commit sha must be 40 hex chars, got "${sha}"`);
      const parent = repo.branches.get(branch.toLowerCase());
      repo.commits.push({ sha, input, parents: parent === undefined ? [] : [parent] });
      repo.branches.set(branch.toLowerCase(), sha);
      return sha;
    },
    addTeamMember(org, team, user, state = 'active') {
      const key = `${org}/${team}`.toLowerCase();
      const members = teams.get(key) ?? new Map();
      members.set(user.toLowerCase(), { login: user, state });
      teams.set(key, members);
    },
    addTeam(org, team) {
      const key = `${org}/${team}`.toLowerCase();
      if (!teams.has(key)) teams.set(key, new Map());
    },
    addWorkflow(repo, file, workflowOpts) {
      const state = ensureRepo(repo);
      state.workflows.set(file, { id: nextId++, file, inputs: workflowOpts?.inputs });
    },
    issueToken(forInstallation = installationId) {
      return mintToken(forInstallation).token;
    },
    comments(repo, issueNumber) {
      return comments.filter((c) => c.repoKey === repo.toLowerCase() && c.issueNumber === issueNumber).map(commentJson);
    },
    reactions(commentId) {
      return reactions.filter((r) => r.commentId === commentId).map(({ commentId: _c, ...r }) => r);
    },
    dispatches(repo) {
      return dispatches.filter((d) => repo === undefined || d.repo.toLowerCase() === repo.toLowerCase());
    },
    deployments(repo) {
      return deployments.filter((d) => repo === undefined || d.repoKey === repo.toLowerCase()).map(deploymentJson);
    },
    deploymentStatuses(deploymentId) {
      return statuses.filter((s) => s.deploymentId === deploymentId).map(statusJson);
    },
    commitStatuses(repo, sha) {
      return commitStatuses.filter((c) => c.repoKey === repo.toLowerCase() && (sha === undefined || c.sha === sha.toLowerCase())).map(commitStatusJson);
    },
    checkRuns(repo) {
      return checkRuns.list(repo);
    },
    setPermissions(permissions) {
      tokenPermissions = { ...permissions };
    },
    unexpectedCalls() {
      return calls.filter((c) => c.unexpected);
    },
    failNext(failure) {
      failures.push({ ...failure, remaining: failure.count });
    },
    waitFor(predicate, what, timeoutMs = 5000) {
      return pollUntil(predicate, what, timeoutMs, () => calls.slice(-10).map((c) => `${c.method} ${c.path} → ${c.status}`));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls every 10 ms; on timeout the error names what was awaited and shows the recent calls. */
async function pollUntil<T>(
  predicate: () => T | undefined | null | false,
  what: string,
  timeoutMs: number,
  recent: () => string[],
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = predicate();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      // A predicate may index into calls that have not arrived yet; keep polling and report the error on timeout.
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError === undefined ? '' : ` (last predicate error: ${String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}; recent GitHub calls:\n  ${recent().join('\n  ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
