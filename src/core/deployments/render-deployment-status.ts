import { formatDuration } from '../text/duration.js';
import type { CommitState, DeploymentState } from '../ports.js';

/** Where a deploy stands, as GitHub is told it. */
export type DeployStage =
  | { kind: 'rolling'; step?: { index: number; count: number; weight: number } }
  | { kind: 'waiting' }
  | { kind: 'completed'; report?: ReportNote }
  | { kind: 'aborted'; reason?: string; report?: ReportNote }
  | { kind: 'superseded' }
  | { kind: 'replaced' };

/** An ended deploy whose report check run exists (its page is the status's `log_url`). */
export interface ReportNote {
  /** How long the deploy took. */
  tookMs: number;
  /** What the report covers when more than this deploy: the chain's environments (`qa → staging`). */
  of?: string;
}

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
      return {
        deployment: { state: 'success', description: stage.report ? cut(`completed in ${formatDuration(stage.report.tookMs)} · ${reportWords(stage.report)}`) : 'completed' },
        commit: { state: 'success', description: cut(`deployed to ${env}`) },
      };
    case 'aborted': {
      // The report is named before the reason: a long reason is what gets cut.
      const aborted = stage.report ? `aborted after ${formatDuration(stage.report.tookMs)} (${reportWords(stage.report)})` : 'aborted';
      return {
        deployment: { state: 'failure', description: cut(stage.reason ? `${aborted}: ${stage.reason}` : aborted) },
        commit: { state: 'failure', description: cut(stage.reason ? `aborted in ${env}: ${stage.reason}` : `aborted in ${env}`) },
      };
    }
    case 'superseded':
      return { deployment: { state: 'inactive', description: 'superseded by a newer revision' }, commit: { state: 'error', description: cut(`superseded in ${env} before it completed`) } };
    case 'replaced':
      return { deployment: { state: 'inactive', description: 'replaced by a newer deploy' } };
  }
}

function reportWords(r: ReportNote): string {
  return r.of ? `report of ${r.of} in the log link` : 'report in the log link';
}

/** Cuts `text` to what GitHub accepts, marking the cut. */
function cut(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= GITHUB_DESCRIPTION_MAX ? oneLine : `${oneLine.slice(0, GITHUB_DESCRIPTION_MAX - 1)}…`;
}
