import type { Catalog, EnvTarget } from '../catalog.js';
import { SerialLanes } from '../error-simulation/serial-lanes.js';
import type { Logger } from '../logger.js';
import type { Clock, RepoHost } from '../ports.js';
import type { DeploymentMark, ThreadRecord } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import { planDeploymentSync, type NewerDeploy } from './plan-deployment-sync.js';

export interface DeploymentServiceDeps {
  catalog: Catalog;
  stores: Pick<Stores, 'threads' | 'deployments' | 'flush'>;
  repoHost: RepoHost;
  clock: Clock;
  log: Logger;
  permalink: (channel: string, ts: string) => string;
  /** Runs GitHub work outside the observer's serial path; shutdown waits for it. */
  track: (work: Promise<unknown>) => void;
}

const FIX = 'give the GitHub App "Deployments: write" and "Commit statuses: write" (app.yml) and accept the new permissions on the installation; the next change of the rollout tries again';

/**
 * Mirrors each deploy thread whose commit is known as a GitHub deployment (its status following the rollout) and a
 * commit status per environment. What was created and posted is kept per thread, so a restart or a second delivery
 * posts nothing twice; a failure is logged with its fix and tried again on the next change, never holding the thread.
 */
export class DeploymentService {
  private readonly lanes = new SerialLanes();

  constructor(private readonly deps: DeploymentServiceDeps) {}

  /** The thread hook: brings the environment's deploys on GitHub up to date, in the background. */
  onThreadChanged(o: { thread: ThreadRecord; target: EnvTarget }): void {
    const { thread, target } = o;
    this.deps.track(this.lanes.run(target.key, () => this.syncEnv(target, thread.key)));
  }

  /** Resolves once the GitHub work queued so far has settled. */
  settled(): Promise<void> {
    return this.lanes.settled();
  }

  private async syncEnv(target: EnvTarget, currentKey: string): Promise<void> {
    const { threads, deployments } = this.deps.stores;
    const current = await threads.byKey(currentKey);
    if (!current) return;
    const newer: NewerDeploy = { sha: current.commitSha, completed: current.outcome === 'completed' };
    // The deploys this one replaced first, so the newer deploy's commit status is the last word on a shared commit.
    for (const [key, mark] of await deployments.all()) {
      if (key === currentKey || mark.app !== target.app.name || mark.env !== target.env.name) continue;
      if (mark.deployment?.state === 'inactive' || mark.deployment?.state === 'failure') continue;
      const older = await threads.byKey(key);
      if (older && older.startedAt <= current.startedAt) await this.syncThread(older, target, mark, newer);
    }
    if (current.commitSha) await this.syncThread(current, target, await deployments.get(currentKey));
  }

  private async syncThread(thread: ThreadRecord, target: EnvTarget, known: DeploymentMark | undefined, newer?: NewerDeploy): Promise<void> {
    const { repoHost, stores, log, clock } = this.deps;
    const link = thread.rootTs ? this.deps.permalink(thread.channel, thread.rootTs) : undefined;
    const plan = planDeploymentSync({ thread, mark: known, link, activeUrl: target.env.activeUrl, newer });
    if (!plan.create && !plan.deploymentStatus && !plan.commitStatus) return;
    const repo = known?.repo ?? target.app.repo;
    const sha = known?.sha ?? thread.commitSha!;
    let mark: DeploymentMark = known ?? { app: thread.app, env: thread.env, repo, sha };
    const save = async (next: DeploymentMark) => {
      mark = next;
      await stores.deployments.set(thread.key, next);
      await stores.flush();
    };
    const context = { app: thread.app, env: thread.env, thread: thread.key, repo, sha };
    try {
      if (plan.create) {
        // A creation whose answer was lost (a crash in between) is looked up before creating another.
        let found = mark.creatingAt !== undefined ? await repoHost.findDeployment({ repo, sha, environment: plan.create.environment, threadKey: thread.key }) : undefined;
        if (!found) {
          await save({ ...mark, creatingAt: clock.now() });
          found = await repoHost.createDeployment({ repo, sha, ...plan.create });
        }
        const { creatingAt: _, ...rest } = mark;
        await save({ ...rest, deploymentId: found.id });
      }
      if (plan.deploymentStatus && mark.deploymentId !== undefined) {
        const s = plan.deploymentStatus;
        await repoHost.createDeploymentStatus({ repo, deploymentId: mark.deploymentId, state: s.state, description: s.description, environmentUrl: s.environmentUrl, logUrl: s.link });
        await save({ ...mark, deployment: s });
      }
    } catch (err) {
      log.warn({ err, ...context, fix: FIX }, 'GitHub deployment update failed');
    }
    if (!plan.commitStatus) return;
    try {
      const s = plan.commitStatus;
      await repoHost.createCommitStatus({ repo, sha, context: `rollout-chatops/${thread.env}`, state: s.state, description: s.description, targetUrl: s.link });
      await save({ ...mark, commit: s });
    } catch (err) {
      log.warn({ err, ...context, fix: FIX }, 'GitHub commit status update failed');
    }
  }
}
