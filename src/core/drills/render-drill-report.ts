import { formatDuration } from '../text/duration.js';
import type { DrillRecord } from '../store-data.js';
import { esc, who } from '../text/mrkdwn.js';
import { slackTime } from '../text/slack-time.js';

/**
 * The drill report posted in the deploy thread: the timeline (errors on → analysis failed → aborted → stable restored,
 * then errors off), each step's time since errors went on, and the verdict. Steps that did not happen say so.
 */
export function renderDrillReport(d: DrillRecord): string {
  const passed = d.status === 'passed';
  const t0 = d.errorsOnAt ?? d.startedAt;
  const since = (at: number) => `+${formatDuration(Math.max(0, at - t0))}`;
  const step = (label: string, at: number | undefined, detail?: string) =>
    at === undefined ? `• —  ${label}: not seen` : `• ${slackTime(at, '{time_secs}')}  ${label} (${since(at)})${detail ? `: ${esc(detail)}` : ''}`;

  const lines = [
    `🧯 *Rollback drill report* · ${esc(d.app)} · ${esc(d.env)} · ${passed ? '✅ *PASSED*' : '❌ *FAILED*'}`,
    `Started by ${who(d.startedBy)} at ${slackTime(d.startedAt, '{time_secs}')}`,
    '*Timeline*',
    d.errorsOnAt === undefined ? '• —  errors on: not switched on' : `• ${slackTime(d.errorsOnAt, '{time_secs}')}  errors on${d.errorsWereOn ? ' (they were already on)' : ''}`,
    step('analysis failed', d.analysisFailedAt, d.analysisMessage),
    step('aborted', d.abortedAt, d.abortReason),
    step('stable restored', d.stableAt),
  ];
  if (d.completedAt !== undefined) lines.push(step('rollout completed (no rollback)', d.completedAt));
  lines.push(d.errorsOffAt !== undefined ? step('errors off', d.errorsOffAt) : `• ⚠️ errors off: failed${d.errorsOffError ? ` (${esc(d.errorsOffError)})` : ''}; their TTL still switches them off`);

  const durations: string[] = [];
  if (d.analysisFailedAt !== undefined) durations.push(`to detect ${formatDuration(d.analysisFailedAt - t0)}`);
  if (d.abortedAt !== undefined) durations.push(`to abort ${formatDuration(d.abortedAt - t0)}`);
  if (d.stableAt !== undefined) durations.push(`to stable ${formatDuration(d.stableAt - t0)}`);
  if (d.errorsOffAt !== undefined) durations.push(`errors on for ${formatDuration(d.errorsOffAt - t0)}`);
  if (durations.length) lines.push(`*Durations*: ${durations.join(' · ')}`);
  lines.push(`*Verdict*: ${passed ? '✅' : '❌'} ${esc(d.verdict ?? (passed ? 'passed' : 'failed'))}`);
  return lines.join('\n');
}
