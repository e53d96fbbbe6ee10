import type { CommitState, DeploymentState } from '../ports.js';

/** Where a deploy stands, as GitHub is told it. */
export type DeployStage =
  | { kind: 'rolling'; step?: { index: number; count: number; weight: number } }
  | { kind: 'waiting' }
  | { kind: 'completed' }
  | { kind: 'aborted'; reason?: string }
  | { kind: 'superseded' }
  | { kind: 'replaced' };

/** GitHub's limit for a deployment or commit status description. */
export const GITHUB_DESCRIPTION_MAX = 140;

/**
 * The words of a deploy's GitHub deployment status and commit status (context `rollout-chatops/<env>`): the deployment
 * follows every step; the commit status says pending once, then how it ended. `commit` is undefined for a stage that
 * says nothing new about the commit (a completed deploy later replaced stays a success).
 */
export function renderDeploymentStatus(stage: DeployStage, env: string): {
  deployment: { state: DeploymentState; description: string };
  commit?: { state: CommitState; description: string };
} {
  const pending = { state: 'pending' as const, description: cut(`deploying to ${env}`) };
  switch (stage.kind) {
    case 'rolling':
      return {
        deployment: { state: 'in_progress', description: stage.step ? `step ${stage.step.index}/${stage.step.count}, weight ${stage.step.weight}%` : 'rolling out' },
        commit: pending,
      };
    case 'waiting':
      return { deployment: { state: 'in_progress', description: 'waiting for promotion' }, commit: pending };
    case 'completed':
      return { deployment: { state: 'success', description: 'completed' }, commit: { state: 'success', description: cut(`deployed to ${env}`) } };
    case 'aborted':
      return {
        deployment: { state: 'failure', description: cut(stage.reason ? `aborted: ${stage.reason}` : 'aborted') },
        commit: { state: 'failure', description: cut(stage.reason ? `aborted in ${env}: ${stage.reason}` : `aborted in ${env}`) },
      };
    case 'superseded':
      return { deployment: { state: 'inactive', description: 'superseded by a newer revision' }, commit: { state: 'error', description: cut(`superseded in ${env} before it completed`) } };
    case 'replaced':
      return { deployment: { state: 'inactive', description: 'replaced by a newer deploy' } };
  }
}

/** Cuts `text` to what GitHub accepts, marking the cut. */
function cut(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= GITHUB_DESCRIPTION_MAX ? oneLine : `${oneLine.slice(0, GITHUB_DESCRIPTION_MAX - 1)}…`;
}
