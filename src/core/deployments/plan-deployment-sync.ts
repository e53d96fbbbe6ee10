import type { CommitState, DeploymentState } from '../ports.js';
import { primaryTag, waitsForPromotion } from '../rollout/describe-state.js';
import type { DeploymentMark, PostedStatus, ThreadRecord } from '../store-data.js';
import { renderDeploymentStatus, type DeployStage } from './render-deployment-status.js';

/** The newer deploy of the same environment, when planning for one it replaced. */
export interface NewerDeploy {
  sha?: string;
  completed: boolean;
}

/** What to do on GitHub for one deploy thread; every part is absent when GitHub already shows it. */
export interface DeploymentSyncPlan {
  /** Create the deployment (none exists for this thread yet). */
  create?: { environment: string; description: string; payload: Record<string, string> };
  deploymentStatus?: PostedStatus & { state: DeploymentState };
  commitStatus?: PostedStatus & { state: CommitState };
}

/**
 * Converges a deploy thread's GitHub deployment and commit status on the thread's state: what to create and which
 * statuses differ from the last ones posted (`mark`). With `newer`, the thread is one that `newer` replaced in its
 * environment: superseded before it ended, or a completed deploy that a newer completed one replaced (inactive).
 */
export function planDeploymentSync(o: {
  thread: ThreadRecord;
  mark: DeploymentMark | undefined;
  /** The thread's Slack permalink, once its root is posted. */
  link?: string;
  /** The environment's `activeUrl`, sent as `environment_url` on success. */
  activeUrl?: string;
  newer?: NewerDeploy;
  /**
   * The ended deploy's report check run: its page becomes the deployment status's `log_url` and the description says
   * so (`of`: what it covers beyond this deploy, the chain's environments).
   */
  report?: { url: string; of?: string };
}): DeploymentSyncPlan {
  const { thread, mark, link, report } = o;
  if (!thread.commitSha) return {};
  const found = stageOf(thread, o.newer);
  if (!found) return {};
  const withReport = report !== undefined && (found.kind === 'completed' || found.kind === 'aborted');
  const note = withReport ? { tookMs: Math.max(0, (thread.finishedAt ?? thread.startedAt) - thread.startedAt), ...(report.of ? { of: report.of } : {}) } : undefined;
  const stage: DeployStage = note && (found.kind === 'completed' || found.kind === 'aborted') ? { ...found, report: note } : found;
  const words = renderDeploymentStatus(stage, thread.env);
  const plan: DeploymentSyncPlan = {};
  const exists = mark?.deploymentId !== undefined;
  // A deploy that was replaced before GitHub ever heard of it needs no deployment to say so.
  if (!exists && words.deployment.state === 'inactive') return {};
  if (!exists) {
    plan.create = {
      environment: thread.env,
      description: `${thread.app} ${primaryTagOf(thread)} to ${thread.env}`,
      payload: { tag: primaryTagOf(thread), rollout: `${thread.namespace}/${thread.rollout}`, thread: link ?? '', threadKey: thread.key },
    };
  }
  // The report stays the link once the deploy that ended is replaced (inactive); a deploy running again links its thread.
  const logUrl = report && (withReport || found.kind === 'replaced') ? report.url : link;
  const deployment: PostedStatus & { state: DeploymentState } = { ...words.deployment, ...(logUrl ? { link: logUrl } : {}) };
  if (deployment.state === 'success' && o.activeUrl) deployment.environmentUrl = o.activeUrl;
  if (!same(mark?.deployment, deployment)) plan.deploymentStatus = deployment;
  // A superseding deploy of the same commit owns the commit's status for this environment now.
  const ownsCommit = !(stage.kind === 'superseded' && o.newer?.sha === thread.commitSha);
  if (words.commit && ownsCommit) {
    const commit: PostedStatus & { state: CommitState } = { ...words.commit, ...(link ? { link } : {}) };
    if (!same(mark?.commit, commit)) plan.commitStatus = commit;
  }
  return plan;
}

function stageOf(thread: ThreadRecord, newer: NewerDeploy | undefined): DeployStage | undefined {
  if (thread.outcome === 'aborted') return { kind: 'aborted', reason: thread.lastState?.abortReason };
  if (thread.outcome === 'superseded') return { kind: 'superseded' };
  if (thread.outcome === 'completed') return newer?.completed ? { kind: 'replaced' } : { kind: 'completed' };
  const state = thread.lastState;
  if (!state) return undefined;
  if (waitsForPromotion(state)) return { kind: 'waiting' };
  const c = state.canary;
  if (!c || c.stepCount === 0) return { kind: 'rolling' };
  return { kind: 'rolling', step: { index: Math.min(c.stepIndex + 1, c.stepCount), count: c.stepCount, weight: c.setWeight } };
}

function primaryTagOf(thread: ThreadRecord): string {
  return thread.tag ?? (thread.lastState ? primaryTag(thread.lastState) : undefined) ?? thread.revision;
}

/**
 * The link is not compared: a status posted before the thread's root was in Slack goes without it, and posting the
 * same words again only to add it would read as a repeat on GitHub; the next status carries it.
 */
function same(a: PostedStatus | undefined, b: PostedStatus): boolean {
  return a !== undefined && a.state === b.state && a.description === b.description && a.environmentUrl === b.environmentUrl;
}
