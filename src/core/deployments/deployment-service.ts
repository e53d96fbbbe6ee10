import type { Catalog, EnvTarget } from '../catalog.js';
import type { Logger } from '../logger.js';
import { ServiceError, type Clock, type RepoHost, type Timer } from '../ports.js';
import type { DeploymentMark, ThreadRecord } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import { pickChainThreads } from '../reports/pick-chain-threads.js';
import type { CheckRunMark } from './deployment-mark.js';
import { ensureReportCheck } from './ensure-report-check.js';
import { LatestPerKey } from './latest-per-key.js';
import { planDeploymentSync, type NewerDeploy } from './plan-deployment-sync.js';
import { planReportChecks, REPORT_CHECK_PREFIX, type ReportSlot } from './plan-report-checks.js';
import { deployView } from '../rollout-threads/deploy-group.js';

export interface DeploymentServiceDeps {
  catalog: Catalog;
  stores: Pick<Stores, 'threads' | 'envs' | 'deployments' | 'commits' | 'flush'>;
  repoHost: RepoHost;
  clock: Clock;
  log: Logger;
  permalink: (channel: string, ts: string) => string;
  /** Runs GitHub work outside the observer's serial path; shutdown waits for it. */
  track: (work: Promise<unknown>) => void;
}

const CHECKS_FIX = 'give the GitHub App "Checks: write" (app.yml) and accept the new permission on the installation; until then deployment statuses link the Slack thread, and the next deploy writes its report';
const FIX = 'give the GitHub App "Deployments: write" and "Commit statuses: write" (app.yml) and accept the new permissions on the installation; the next change of the rollout tries again';

/**
 * Mirrors each deploy thread whose commit is known as a GitHub deployment (its status following the rollout) and a
 * commit status per environment; once a deploy ends, its report (and, at the chain's end, the chain's) as a check run
 * on the commit, linked from the final deployment status. What was created and posted is kept per thread, so a restart
 * or a second delivery posts nothing twice; a failure is logged with its fix and tried again (after a backoff when it
 * may pass, else on the next change), never holding the thread.
 */
export class DeploymentService {
  /**
   * One sync per environment at a time, a few environments at once; a change while its sync waits joins it (the sync
   * reads the current state). GitHub takes about one write a second (Octokit's limiter), so under a fleet's load
   * changes arrive faster than they can be mirrored: each environment then writes its latest state, once.
   */
  private readonly lanes = new LatestPerKey(4);
  /** Per environment: the deploys (their threads' keys) changed since its last sync, in the order they changed. */
  private readonly dirty = new Map<string, Set<string>>();
  /**
   * Per environment, after GitHub failed (a 5xx, the network): the deploys to try again, the timer that will, and how
   * often in a row it failed. Any sync of the environment meanwhile takes those deploys along.
   */
  private readonly retries = new Map<string, { keys: string[]; timer?: Timer; failures: number }>();
  /** Only the leader mirrors (start() when it leads, stop() when it stops): its observer's first look syncs every deploy. */
  private stopped = true;

  constructor(private readonly deps: DeploymentServiceDeps) {}

  /** The thread hook: brings the environment's deploys on GitHub up to date, in the background. */
  onThreadChanged(o: { thread: ThreadRecord; target: EnvTarget }): void {
    // A rollout of a several-rollout deploy is mirrored as its deploy: one GitHub deployment, the lead's.
    this.sync(o.target, [o.thread.groupOf ?? o.thread.key]);
  }

  start(): void {
    this.stopped = false;
  }

  /**
   * Stops mirroring: the syncs waiting for their turn are dropped (the next leader's first look at the cluster syncs
   * every deploy again), the retries cancelled; a sync running finishes. Shutdown does not wait for GitHub's pace.
   */
  stop(): void {
    this.stopped = true;
    this.dirty.clear();
    this.lanes.drop();
    for (const r of this.retries.values()) r.timer?.cancel();
    this.retries.clear();
  }

  private sync(target: EnvTarget, keys: string[]): void {
    if (this.stopped) return;
    let dirty = this.dirty.get(target.key);
    if (!dirty) this.dirty.set(target.key, (dirty = new Set()));
    for (const key of keys) dirty.add(key);
    this.deps.track(this.lanes.run(target.key, () => this.syncDirty(target)));
  }

  /**
   * Syncs what changed in the environment: a deploy never mirrored yet first (it is created, as it was when it ran),
   * then the environment's current deploy, always last, which also brings the deploys it replaced up to date. When
   * GitHub failed on the way in a way that may pass (a 5xx, the network; not a refusal, which waits for the permission
   * and the next change), tries again after 30 s, doubling up to 10 min: a deploy that ended has no next change.
   */
  private async syncDirty(target: EnvTarget): Promise<void> {
    const retry = this.retries.get(target.key) ?? { keys: [], failures: 0 };
    const keys = [...new Set([...retry.keys, ...(this.dirty.get(target.key) ?? [])])];
    this.dirty.delete(target.key);
    if (keys.length === 0 || this.stopped) return;
    const failed: Failed = { transient: false };
    try {
      const { envs, deployments } = this.deps.stores;
      const current = (await envs.get(target.key)).threadKey ?? keys.at(-1)!;
      // A deploy never mirrored is created first, as it was when it ran; the current deploy's sync then brings every
      // deploy it replaced up to date, those that changed even if their last status ended them (a report may be due).
      for (const key of keys) {
        if (this.stopped) return;
        if (key !== current && !(await deployments.get(key))) await this.syncEnv(target, key, failed);
      }
      if (this.stopped) return;
      await this.syncEnv(target, current, failed, new Set(keys));
    } catch (err) {
      // The store or a read failed before GitHub was asked: that too may pass.
      this.deps.log.warn({ err, app: target.app.name, env: target.env.name }, 'GitHub deployment sync failed');
      failed.transient = true;
    }
    retry.timer?.cancel();
    if (!failed.transient || this.stopped) return void this.retries.delete(target.key);
    retry.failures++;
    retry.keys = [...new Set([...keys, ...(failed.keys ?? [])])];
    // A sync of the environment already under way when it fires takes the keys along, and arms the next if it fails.
    retry.timer = this.deps.clock.setTimer(Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (retry.failures - 1)), () => this.lanes.busy(target.key) || this.sync(target, []));
    this.retries.set(target.key, retry);
  }

  /** Resolves once the GitHub work queued so far has settled. */
  settled(): Promise<void> {
    return this.lanes.settled();
  }

  private async syncEnv(target: EnvTarget, currentKey: string, failed: Failed, changed: ReadonlySet<string> = new Set()): Promise<void> {
    const { threads, deployments } = this.deps.stores;
    const found = await threads.byKey(currentKey);
    if (!found) return;
    const current = await deployView(this.deps.stores, this.deps.catalog, found);
    const newer: NewerDeploy = { sha: current.commitSha, completed: current.outcome === 'completed' };
    // The deploys this one replaced first, so the newer deploy's commit status is the last word on a shared commit.
    for (const [key, mark] of await deployments.all()) {
      if (this.stopped) return;
      if (key === currentKey || mark.app !== target.app.name || mark.env !== target.env.name) continue;
      if ((mark.deployment?.state === 'inactive' || mark.deployment?.state === 'failure') && !changed.has(key)) continue;
      const stored = await threads.byKey(key);
      const older = stored && (await deployView(this.deps.stores, this.deps.catalog, stored));
      if (older && older.startedAt <= current.startedAt) await this.syncThread({ thread: older, target, known: mark, newer, failed });
    }
    if (current.commitSha) await this.syncThread({ thread: current, target, known: await deployments.get(currentKey), failed });
  }

  private async syncThread(o: { thread: ThreadRecord; target: EnvTarget; known: DeploymentMark | undefined; newer?: NewerDeploy; failed: Failed }): Promise<void> {
    const { thread, target, known, newer } = o;
    const { repoHost, stores, clock } = this.deps;
    const warn = (err: unknown, fields: Record<string, unknown>, msg: string) => {
      if (err instanceof ServiceError && err.kind === 'transient') {
        o.failed.transient = true;
        (o.failed.keys ??= new Set()).add(thread.key);
      }
      this.deps.log.warn({ err, ...fields }, msg);
    };
    const link = thread.rootTs ? this.deps.permalink(thread.channel, thread.rootTs) : undefined;
    const base = { thread, link, activeUrl: target.env.activeUrl, newer };
    // A report already written keeps its link in every later status of the deploy (inactive, once replaced, too).
    let plan = planDeploymentSync({ ...base, mark: known, report: known && reportLink(thread, known) });
    // An ended deploy's sync also brings its reports up to date: its own sync, or the first one as a replaced deploy
    // when it ended while its environment waited for GitHub (a report written once is kept up to date by its own).
    const ended = thread.outcome === 'completed' || thread.outcome === 'aborted';
    const reports = ended && (!newer || known?.report === undefined);
    if (!plan.create && !plan.deploymentStatus && !plan.commitStatus && !reports) return;
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
    } catch (err) {
      warn(err, { ...context, fix: FIX }, 'GitHub deployment update failed');
    }
    if (reports && mark.deploymentId !== undefined) {
      // The reports first, so the final deployment status already links them.
      await this.writeReports({ thread, target, mark, link, save: (slot, m) => save({ ...mark, [slot]: m }), context, warn });
      plan = planDeploymentSync({ ...base, mark, report: reportLink(thread, mark) });
    }
    try {
      if (plan.deploymentStatus && mark.deploymentId !== undefined) {
        const s = plan.deploymentStatus;
        await repoHost.createDeploymentStatus({ repo, deploymentId: mark.deploymentId, state: s.state, description: s.description, environmentUrl: s.environmentUrl, logUrl: s.link });
        await save({ ...mark, deployment: s });
      }
    } catch (err) {
      warn(err, { ...context, fix: FIX }, 'GitHub deployment update failed');
    }
    if (!plan.commitStatus) return;
    try {
      const s = plan.commitStatus;
      await repoHost.createCommitStatus({ repo, sha, context: `rollout-chatops/${thread.env}`, state: s.state, description: s.description, targetUrl: s.link });
      await save({ ...mark, commit: s });
    } catch (err) {
      warn(err, { ...context, fix: FIX }, 'GitHub commit status update failed');
    }
  }

  /**
   * Writes the ended deploy's report check runs that GitHub does not show as they are: its own, and the chain's when it
   * completed the chain's last environment. A failure is logged with its fix; the deployment's statuses go on.
   */
  private async writeReports(o: { thread: ThreadRecord; target: EnvTarget; mark: DeploymentMark; link?: string; save: (slot: ReportSlot, m: CheckRunMark) => Promise<void>; context: Record<string, string>; warn: Warn }): Promise<void> {
    const { thread, target, mark } = o;
    const { stores, catalog, repoHost, clock } = this.deps;
    const isLast = !catalog.next(target);
    const chain = thread.tag && isLast && thread.outcome === 'completed'
      ? pickChainThreads({ target, isLast, tag: thread.tag, threads: await stores.threads.withTag(thread.app, thread.tag) })
      : [];
    const c = await stores.commits.bySha(mark.sha, mark.repo.toLowerCase());
    const commit = c ? { sha: c.sha, message: c.message, author: c.authorLogin ? `${c.authorName} (@${c.authorLogin})` : c.authorName, url: c.url } : { sha: mark.sha };
    const appInName = catalog.appsForRepo(mark.repo).length > 1;
    const plans = planReportChecks({ thread, mark, chain, ...(o.link ? { link: o.link } : {}), commit, appInName, now: clock.now() });
    for (const want of plans) {
      try {
        await ensureReportCheck({ repoHost, repo: mark.repo, sha: mark.sha, known: mark[want.slot], want, now: clock.now(), save: (m) => o.save(want.slot, m) });
      } catch (err) {
        // Refused (401/403): the permission is missing. Anything else (5xx, the network) is tried again on the next change.
        const refused = err instanceof ServiceError && err.permanent;
        o.warn(err, { ...o.context, check: want.check.name, ...(refused ? { fix: CHECKS_FIX } : {}) }, 'GitHub report check run failed');
      }
    }
  }
}

/** What a sync tells its caller: whether GitHub failed in a way that trying again may fix. */
interface Failed {
  transient: boolean;
  /** The deploys whose sync failed so (one reached as a replaced deploy is tried again directly). */
  keys?: Set<string>;
}


type Warn = (err: unknown, fields: Record<string, unknown>, msg: string) => void;

const RETRY_FIRST_MS = 30_000;
const RETRY_MAX_MS = 10 * 60_000;

/** The ended deploy's report page for its final status: the chain's in the chain's last environment, else its own. */
function reportLink(thread: ThreadRecord, mark: DeploymentMark): { url: string; of?: string } | undefined {
  const chain = thread.outcome === 'completed' ? mark.chainReport : undefined;
  if (chain?.url) return { url: chain.url, of: chain.name.slice(REPORT_CHECK_PREFIX.length) };
  return mark.report?.url ? { url: mark.report.url } : undefined;
}
