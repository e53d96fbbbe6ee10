import { formatDuration } from '../text/duration.js';
import { context, esc, section, who } from '../text/mrkdwn.js';
import { slackTime } from '../text/slack-time.js';
import type { DeployReport, TimelineEntry } from './build-deploy-report.js';

/** A Slack context block holds at most 10 elements; the timeline fills them, the rest is counted. */
const MAX_LINES = 10;
const OUTCOME: Record<DeployReport['outcome'], string> = { completed: '✅ completed', aborted: '❌ aborted', superseded: '⏭️ superseded', 'in progress': '⏳ in progress' };

/**
 * A deploy report as a Slack message: a one-line summary (outcome, how long it took, how long people kept it waiting,
 * who promoted it) in a section, and the timeline collapsed into a small-print context block below it.
 */
export function renderDeployReport(r: DeployReport): { text: string; blocks: unknown[] } {
  const name = `${esc(r.app)} ${esc(r.env)}`;
  const tag = r.tag ? ` \`${esc(r.tag)}\`` : '';
  const took = r.outcome === 'in progress' ? `running for ${formatDuration(r.tookMs)}` : `took ${formatDuration(r.tookMs)}`;
  const waited = r.waitedMs > 0 ? `, ${formatDuration(r.waitedMs)} of it waiting for people` : ', no waiting for people';
  const promoted = r.promotedBy.length ? ` · promoted by ${[...new Set(r.promotedBy)].map(who).join(', ')}` : '';
  const summary = `📋 *Deploy report* ${name} · revision ${esc(r.revision)}${tag}: ${OUTCOME[r.outcome]}, ${took}${waited}${promoted}.`;
  const lines = r.timeline.map(line);
  const shown = lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES - 2), `… ${lines.length - MAX_LINES + 1} more`, lines.at(-1)!] : lines;
  return { text: summary, blocks: [section(summary), context(shown)] };
}

function line(e: TimelineEntry): string {
  const when = e.at !== undefined ? `${slackTime(e.at, '{time_secs}')} ` : '· ';
  const by = e.who ? ` (${who(e.who)})` : '';
  return `${when}${esc(e.text)}${by}`;
}

/**
 * The report of a tag's whole way through the chain (dev → qa → staging): one summary line per environment (how long
 * it took, how long people kept it waiting, who promoted it), the total from the first start to the last completion,
 * and each environment's timeline collapsed below its line.
 */
export function renderChainReport(o: { app: string; tag: string; reports: DeployReport[] }): { text: string; blocks: unknown[] } {
  const first = Math.min(...o.reports.map((r) => r.startedAt));
  const last = Math.max(...o.reports.map((r) => r.finishedAt ?? r.startedAt + r.tookMs));
  const waited = o.reports.reduce((n, r) => n + r.waitedMs, 0);
  const path = o.reports.map((r) => esc(r.env)).join(' → ');
  const summary = `📋 *Deploy report* ${esc(o.app)} \`${esc(o.tag)}\` through ${path}: ${formatDuration(last - first)} from the first start to the last completion, ${waited > 0 ? `${formatDuration(waited)} of it waiting for people` : 'no waiting for people'}.`;
  const blocks: unknown[] = [section(summary)];
  for (const r of o.reports) {
    const promoted = r.promotedBy.length ? ` · promoted by ${[...new Set(r.promotedBy)].map(who).join(', ')}` : '';
    blocks.push(section(`*${esc(r.env)}* · revision ${esc(r.revision)}: ${OUTCOME[r.outcome]}, took ${formatDuration(r.tookMs)}${r.waitedMs > 0 ? `, waited ${formatDuration(r.waitedMs)}` : ''}${promoted}`));
    const lines = r.timeline.map(line);
    blocks.push(context(lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES - 2), `… ${lines.length - MAX_LINES + 1} more`, lines.at(-1)!] : lines));
  }
  return { text: summary, blocks: blocks.slice(0, 50) };
}
