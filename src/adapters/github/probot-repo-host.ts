import type { Probot } from 'probot';
import type { CheckRunContent, CheckRunRef, CommitState, DeploymentState, RepoHost, RepoPermission } from '../../core/ports.js';
import type { KeyedStore } from '../../core/store-ports.js';
import { ServiceError } from '../../core/ports.js';
import type { CommitRecord } from '../../core/store-data.js';

type Octo = Awaited<ReturnType<Probot['auth']>>;

/** GitHub through Probot's Octokit, authenticated as the app's installation on each repo. */
export class ProbotRepoHost implements RepoHost {
  /** `installations`: the installation id per repo (lower case), as webhooks told it or GitHub answered. */
  constructor(private readonly probot: Probot, private readonly installations: KeyedStore<number>) {}

  /**
   * One client per installation, kept: each carries its own rate limiters and timers (Bottleneck) and refreshes its
   * installation token by itself, so a new one per call piled up (about a thousand at a thousand deploys).
   */
  private readonly clients = new Map<number, Promise<Octo>>();

  private client(id: number): Promise<Octo> {
    let c = this.clients.get(id);
    if (!c) {
      c = this.probot.auth(id);
      this.clients.set(id, c);
      c.catch(() => this.clients.delete(id));
    }
    return c;
  }

  /** An installation client for a repo; learns the installation id from GitHub when no webhook told it yet. */
  private async octokit(repo: string): Promise<Octo> {
    const key = repo.toLowerCase();
    let id = await this.installations.get(key);
    if (!id) {
      const [owner, name] = split(repo);
      try {
        const app = await this.probot.auth();
        const { data } = await app.rest.apps.getRepoInstallation({ owner, repo: name });
        id = data.id;
      } catch (err) {
        throw wrap(err, `the GitHub App is not installed on ${repo} (or APP_ID/PRIVATE_KEY are wrong)`);
      }
      await this.installations.set(key, id);
    }
    return this.client(id);
  }

  async getCommit(repo: string, sha: string): Promise<CommitRecord | undefined> {
    const [owner, name] = split(repo);
    const gh = await this.octokit(repo);
    try {
      const { data } = await gh.rest.repos.getCommit({ owner, repo: name, ref: sha });
      return {
        sha: data.sha.toLowerCase(),
        repo,
        message: (data.commit.message ?? '').split(/\r?\n/, 1)[0]!.trim(),
        authorName: data.commit.author?.name ?? data.author?.login ?? 'unknown',
        authorLogin: data.author?.login ?? undefined,
        url: data.html_url,
        at: Date.parse(data.commit.author?.date ?? '') || Date.now(),
        source: 'api',
      };
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 404 || status === 422) return undefined;
      throw wrap(err, `cannot read commit ${sha} of ${repo}`);
    }
  }

  async permission(repo: string, user: string): Promise<RepoPermission> {
    const [owner, name] = split(repo);
    const gh = await this.octokit(repo);
    try {
      const { data } = await gh.rest.repos.getCollaboratorPermissionLevel({ owner, repo: name, username: user });
      const role = (data as { role_name?: string }).role_name;
      if (role === 'maintain' || role === 'triage') return role;
      return (['admin', 'write', 'read', 'none'].includes(data.permission) ? data.permission : 'none') as RepoPermission;
    } catch (err) {
      if ((err as { status?: number }).status === 404) return 'none';
      throw wrap(err, `cannot read ${user}'s permission on ${repo}`);
    }
  }

  async isTeamMember(o: { repo: string; org: string; team: string; user: string }): Promise<boolean> {
    const gh = await this.octokit(o.repo);
    try {
      const { data } = await gh.rest.teams.getMembershipForUserInOrg({ org: o.org, team_slug: o.team, username: o.user });
      return data.state === 'active';
    } catch (err) {
      // GitHub answers 404 for a non-member and for a team it does not show this installation.
      if ((err as { status?: number }).status === 404) return false;
      const status = (err as { status?: number }).status;
      throw wrap(err, status === 403 ? `cannot read team ${o.org}/${o.team} (the GitHub App needs the organization permission "Members: read")` : `cannot read ${o.user}'s membership of ${o.org}/${o.team}`);
    }
  }

  async react(repo: string, commentId: number, content: 'eyes' | '+1' | '-1' | 'rocket' | 'confused'): Promise<void> {
    const [owner, name] = split(repo);
    const gh = await this.octokit(repo);
    await gh.rest.reactions.createForIssueComment({ owner, repo: name, comment_id: commentId, content }).catch((err: unknown) => {
      throw wrap(err, `cannot react on ${repo}`);
    });
  }

  async comment(repo: string, issueNumber: number, body: string): Promise<void> {
    const [owner, name] = split(repo);
    const gh = await this.octokit(repo);
    await gh.rest.issues.createComment({ owner, repo: name, issue_number: issueNumber, body }).catch((err: unknown) => {
      throw wrap(err, `cannot comment on ${repo}#${issueNumber}`);
    });
  }

  async dispatchWorkflow(o: { repo: string; workflow: string; ref: string; inputs: Record<string, string> }): Promise<void> {
    const [owner, name] = split(o.repo);
    const gh = await this.octokit(o.repo);
    await gh.rest.actions.createWorkflowDispatch({ owner, repo: name, workflow_id: o.workflow, ref: o.ref, inputs: o.inputs }).catch((err: unknown) => {
      throw wrap(err, `cannot dispatch ${o.workflow} on ${o.repo}`);
    });
  }

  async createDeployment(o: { repo: string; sha: string; environment: string; description: string; payload: Record<string, string> }): Promise<{ id: number }> {
    const [owner, name] = split(o.repo);
    const gh = await this.octokit(o.repo);
    try {
      const { data, status } = await gh.rest.repos.createDeployment({
        owner, repo: name, ref: o.sha, environment: o.environment, description: o.description, payload: o.payload,
        auto_merge: false, required_contexts: [], transient_environment: false,
      });
      // 202 is GitHub's answer to an auto-merge it ran instead; with auto_merge false it means no deployment was made.
      // Carries the status, so it is not mistaken for a failure that trying again may fix.
      if (status !== 201 || !('id' in data)) throw Object.assign(new Error(`GitHub answered ${status} without a deployment`), { status });
      return { id: data.id };
    } catch (err) {
      throw wrap(err, `cannot create a deployment of ${o.sha.slice(0, 7)} to ${o.environment} on ${o.repo} (the GitHub App needs the permission "Deployments: write")`);
    }
  }

  async findDeployment(o: { repo: string; sha: string; environment: string; threadKey: string }): Promise<{ id: number } | undefined> {
    const [owner, name] = split(o.repo);
    const gh = await this.octokit(o.repo);
    try {
      const { data } = await gh.rest.repos.listDeployments({ owner, repo: name, sha: o.sha, environment: o.environment, per_page: 100 });
      const found = data.find((d) => (d.payload as { threadKey?: unknown } | null)?.threadKey === o.threadKey);
      return found ? { id: found.id } : undefined;
    } catch (err) {
      throw wrap(err, `cannot list deployments of ${o.sha.slice(0, 7)} on ${o.repo}`);
    }
  }

  async createDeploymentStatus(o: { repo: string; deploymentId: number; state: DeploymentState; description: string; environmentUrl?: string; logUrl?: string }): Promise<void> {
    const [owner, name] = split(o.repo);
    const gh = await this.octokit(o.repo);
    await gh.rest.repos.createDeploymentStatus({
      owner, repo: name, deployment_id: o.deploymentId, state: o.state, description: o.description,
      ...(o.environmentUrl ? { environment_url: o.environmentUrl } : {}),
      ...(o.logUrl ? { log_url: o.logUrl } : {}),
    }).catch((err: unknown) => {
      throw wrap(err, `cannot post the ${o.state} status of deployment ${o.deploymentId} on ${o.repo} (the GitHub App needs the permission "Deployments: write")`);
    });
  }

  async createCommitStatus(o: { repo: string; sha: string; context: string; state: CommitState; description: string; targetUrl?: string }): Promise<void> {
    const [owner, name] = split(o.repo);
    const gh = await this.octokit(o.repo);
    await gh.rest.repos.createCommitStatus({
      owner, repo: name, sha: o.sha, context: o.context, state: o.state, description: o.description,
      ...(o.targetUrl ? { target_url: o.targetUrl } : {}),
    }).catch((err: unknown) => {
      throw wrap(err, `cannot set the commit status ${o.context} of ${o.sha.slice(0, 7)} on ${o.repo} (the GitHub App needs the permission "Commit statuses: write")`);
    });
  }

  async createCheckRun(o: { repo: string; sha: string; check: CheckRunContent }): Promise<CheckRunRef> {
    const [owner, name] = split(o.repo);
    const gh = await this.octokit(o.repo);
    try {
      const { data } = await gh.rest.checks.create({ owner, repo: name, head_sha: o.sha, ...checkRunBody(o.check) });
      return { id: data.id, url: data.html_url ?? '' };
    } catch (err) {
      throw wrap(err, `cannot create the check run "${o.check.name}" on ${o.sha.slice(0, 7)} of ${o.repo}${CHECKS_HINT}`);
    }
  }

  async updateCheckRun(o: { repo: string; id: number; check: CheckRunContent }): Promise<CheckRunRef> {
    const [owner, name] = split(o.repo);
    const gh = await this.octokit(o.repo);
    try {
      const { data } = await gh.rest.checks.update({ owner, repo: name, check_run_id: o.id, ...checkRunBody(o.check) });
      return { id: data.id, url: data.html_url ?? '' };
    } catch (err) {
      throw wrap(err, `cannot update the check run ${o.id} ("${o.check.name}") of ${o.repo}${CHECKS_HINT}`);
    }
  }

  async findCheckRun(o: { repo: string; sha: string; name: string; externalId: string }): Promise<CheckRunRef | undefined> {
    const [owner, name] = split(o.repo);
    const gh = await this.octokit(o.repo);
    try {
      // `filter: all`: the default (`latest`) would hide an older run of the same name, which may be ours.
      const runs = await gh.paginate(gh.rest.checks.listForRef, { owner, repo: name, ref: o.sha, check_name: o.name, filter: 'all', per_page: 100 });
      const found = runs.find((r) => r.external_id === o.externalId);
      return found ? { id: found.id, url: found.html_url ?? '' } : undefined;
    } catch (err) {
      throw wrap(err, `cannot list the check runs of ${o.sha.slice(0, 7)} on ${o.repo}${CHECKS_HINT}`);
    }
  }
}

const CHECKS_HINT = ' (the GitHub App needs the permission "Checks: write")';

/** A completed check run's fields, as both creation and update take them. */
function checkRunBody(c: CheckRunContent) {
  return {
    name: c.name,
    external_id: c.externalId,
    status: 'completed' as const,
    conclusion: c.conclusion,
    ...(c.detailsUrl ? { details_url: c.detailsUrl } : {}),
    ...(c.startedAt !== undefined ? { started_at: new Date(c.startedAt).toISOString() } : {}),
    ...(c.completedAt !== undefined ? { completed_at: new Date(c.completedAt).toISOString() } : {}),
    output: { title: c.title, summary: c.summary, text: c.text },
  };
}

function split(repo: string): [string, string] {
  const [owner, name] = repo.split('/');
  return [owner!, name!];
}

function wrap(err: unknown, what: string): ServiceError {
  const status = (err as { status?: number }).status;
  // No answer, GitHub's trouble, or "not now": trying again may work. A 4xx otherwise will not change by itself.
  const transient = status === undefined || status >= 500 || status === 408 || status === 429;
  return new ServiceError('github', `${what}${status ? ` (HTTP ${status})` : ''}: ${(err as Error).message}`, { code: status ? `http_${status}` : 'request_error', permanent: status === 401 || status === 403, cause: err, ...(transient ? { kind: 'transient' as const } : {}) });
}
