import type { CheckRunContent } from '../ports.js';
import { buildDeployReport } from '../reports/build-deploy-report.js';
import { renderChainReportMarkdown, renderDeployReportMarkdown, type ReportCommit } from '../reports/render-deploy-report-markdown.js';
import type { DeploymentMark, ThreadRecord } from '../store-data.js';
import { hashText } from '../text/hash-text.js';

/** Where a report check run is kept in the thread's deployment mark. */
export type ReportSlot = 'report' | 'chainReport';

/** One report check run to write: what it says, and the digest that says whether GitHub shows it already. */
export interface ReportCheckPlan {
  slot: ReportSlot;
  check: CheckRunContent;
  digest: string;
}

/** The prefix of every report check run's name: people see it in the commit's and the pull request's Checks. */
export const REPORT_CHECK_PREFIX = 'rollout-chatops report: ';

/**
 * The report check runs a deploy thread that ended (completed or aborted) should have on its commit, leaving out the
 * ones GitHub already shows as they are (same digest): its own report, and, when it is the deploy that completed the
 * last environment of its tag's chain (`chain`, from pickChainThreads, ends with it), the whole chain's report.
 * Nothing for a deploy still running, superseded, or without a GitHub deployment, nor one GitHub refused to write.
 */
export function planReportChecks(o: {
  thread: ThreadRecord;
  mark: DeploymentMark;
  /** The tag's deploys through the chain, in chain order; empty when this is no chain's end. */
  chain: ThreadRecord[];
  /** The thread's Slack permalink (`details_url`), once its root is posted. */
  link?: string;
  commit?: ReportCommit;
  /** Several apps deploy from this repo: the names say which app. */
  appInName: boolean;
  now: number;
}): ReportCheckPlan[] {
  const { thread, mark, link } = o;
  if (mark.deploymentId === undefined || (thread.outcome !== 'completed' && thread.outcome !== 'aborted')) return [];
  const context = { ...(link ? { link } : {}), ...(o.commit ? { commit: o.commit } : {}) };
  const app = o.appInName ? `${thread.app} ` : '';
  const report = buildDeployReport(thread, o.now);
  const plans: ReportCheckPlan[] = [];
  const add = (slot: ReportSlot, check: CheckRunContent) => {
    const digest = hashText(JSON.stringify(check));
    const known = mark[slot];
    if (known?.refused) return;
    if (known?.id === undefined || known.digest !== digest) plans.push({ slot, check, digest });
  };
  const times = { startedAt: thread.startedAt, ...(thread.finishedAt !== undefined ? { completedAt: thread.finishedAt } : {}) };
  add('report', {
    name: `${REPORT_CHECK_PREFIX}${app}${thread.env}`,
    externalId: thread.key,
    conclusion: thread.outcome === 'completed' ? 'success' : 'failure',
    ...(link ? { detailsUrl: link } : {}),
    ...times,
    ...renderDeployReportMarkdown(report, context),
  });
  if (thread.outcome === 'completed' && thread.tag && o.chain.length > 1 && o.chain.at(-1)?.key === thread.key) {
    const reports = o.chain.map((t) => buildDeployReport(t, o.now));
    add('chainReport', {
      name: `${REPORT_CHECK_PREFIX}${app}${reports.map((r) => r.env).join(' → ')}`,
      externalId: `${thread.key}#chain`,
      conclusion: 'success',
      ...(link ? { detailsUrl: link } : {}),
      startedAt: Math.min(...o.chain.map((t) => t.startedAt)),
      ...(thread.finishedAt !== undefined ? { completedAt: thread.finishedAt } : {}),
      ...renderChainReportMarkdown({ app: thread.app, tag: thread.tag, reports, ...context }),
    });
  }
  return plans;
}
