/**
 * The page's "GitHub" panel: GitHub's Environments view of the sandbox repo, read from the GitHub emulator, i.e. what
 * the bot told GitHub (deployments, their statuses, and the `rollout-chatops/<env>` commit statuses).
 */
import type { GitHubEmulator } from '../emulators/github-emulator.js';

/** One environment as the panel shows it. */
export interface GitHubEnvironmentView {
  env: string;
  /** The environment's latest deployment, if the bot made one. */
  deployment?: { id: number; tag: string; sha: string; state: string; description: string; at: string; environmentUrl?: string };
  /** The latest `rollout-chatops/<env>` commit status on the repo. */
  commitStatus?: { sha: string; state: string; description: string; at: string };
}

/** Every environment of `envs`, in their order, with its latest deployment and commit status on `repo`. */
export function buildGitHubView(o: { github: GitHubEmulator; repo: string; envs: readonly string[] }): { repo: string; environments: GitHubEnvironmentView[] } {
  const deployments = o.github.deployments(o.repo);
  const statuses = o.github.commitStatuses(o.repo);
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
    }
    const s = statuses.filter((x) => x.context === `rollout-chatops/${env}`).at(-1);
    if (s) view.commitStatus = { sha: s.sha, state: s.state, description: s.description ?? '', at: s.created_at };
    return view;
  });
  return { repo: o.repo, environments };
}
