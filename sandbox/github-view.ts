/**
 * The page's "GitHub" panel: GitHub's Environments view of the sandbox repo, read from the GitHub emulator, i.e. what
 * the bot told GitHub (deployments, their statuses, the `rollout-chatops/<env>` commit statuses, and the deploy reports
 * it wrote as check runs).
 */
import type { GitHubCheckRun, GitHubEmulator } from '../emulators/github-emulator.js';

/** A report check run as the panel shows it: its conclusion, and its Markdown to unfold. */
export interface GitHubReportView {
  id: number;
  name: string;
  conclusion: string;
  title: string;
  /** `output.text`: the Markdown report (the timeline). */
  text: string;
  at: string;
}

/** One environment as the panel shows it. */
export interface GitHubEnvironmentView {
  env: string;
  /** The environment's latest deployment, if the bot made one. */
  deployment?: { id: number; tag: string; sha: string; state: string; description: string; at: string; environmentUrl?: string };
  /** The latest `rollout-chatops/<env>` commit status on the repo. */
  commitStatus?: { sha: string; state: string; description: string; at: string };
  /** The report of the latest deployment's deploy (check run `rollout-chatops report: <env>` on its commit), once it ended. */
  report?: GitHubReportView;
}

const REPORT = 'rollout-chatops report: ';

/**
 * Every environment of `envs`, in their order, with its latest deployment, commit status and report on `repo`; and the
 * latest chain report (`rollout-chatops report: dev → qa → staging`), if one was written.
 */
export function buildGitHubView(o: { github: GitHubEmulator; repo: string; envs: readonly string[] }): { repo: string; environments: GitHubEnvironmentView[]; chainReport?: GitHubReportView } {
  const deployments = o.github.deployments(o.repo);
  const statuses = o.github.commitStatuses(o.repo);
  const runs = o.github.checkRuns(o.repo).filter((r) => r.name.startsWith(REPORT));
  const environments = o.envs.map((env): GitHubEnvironmentView => {
    const view: GitHubEnvironmentView = { env };
    const d = deployments.filter((x) => x.environment === env).at(-1);
    if (d) {
      const last = o.github.deploymentStatuses(d.id).at(-1);
      const payload = (typeof d.payload === 'object' && d.payload !== null ? d.payload : {}) as Record<string, unknown>;
      view.deployment = {
        id: d.id,
        tag: typeof payload.tag === 'string' ? payload.tag : '',
        sha: d.sha,
        state: last?.state ?? 'pending',
        description: last?.description ?? d.description ?? '',
        at: last?.created_at ?? d.created_at,
        ...(last?.environment_url ? { environmentUrl: last.environment_url } : {}),
      };
      const report = runs.filter((r) => r.name === `${REPORT}${env}` && r.head_sha === d.sha && r.external_id === payload.threadKey).at(-1);
      if (report) view.report = reportView(report);
    }
    const s = statuses.filter((x) => x.context === `rollout-chatops/${env}`).at(-1);
    if (s) view.commitStatus = { sha: s.sha, state: s.state, description: s.description ?? '', at: s.created_at };
    return view;
  });
  const chain = runs.filter((r) => r.name.includes(' → ')).at(-1);
  return { repo: o.repo, environments, ...(chain ? { chainReport: reportView(chain) } : {}) };
}

function reportView(r: GitHubCheckRun): GitHubReportView {
  return { id: r.id, name: r.name, conclusion: r.conclusion ?? r.status, title: r.output.title ?? '', text: r.output.text ?? '', at: r.completed_at ?? r.started_at };
}
