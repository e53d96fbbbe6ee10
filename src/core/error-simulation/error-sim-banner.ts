import type { ErrorSimRecord, ThreadRecord } from '../store-data.js';
import { esc, who } from '../text/mrkdwn.js';
import { slackTime } from '../text/slack-time.js';

/**
 * The card banner while errors are on: since when, by whom, when they switch off. Shown on the environment's current
 * thread only (`currentThreadKey`); undefined when errors are off (`sim` absent, as far as the bot switched them).
 */
export function errorSimBanner(thread: ThreadRecord, o: { sim: ErrorSimRecord | undefined; currentThreadKey: string | undefined }): string | undefined {
  const rec = o.sim;
  if (!rec || o.currentThreadKey !== thread.key) return undefined;
  const by = rec.adopted ? 'switched on outside the bot, found' : `by ${who(rec.by)}`;
  const drill = rec.drillId ? ' for a rollback drill' : '';
  const parts = [
    `🧪 *Errors ON*${drill}: the app fails on purpose since ${slackTime(rec.since)} (${by})`,
    `switching off at ${slackTime(rec.offAt)}, or \`/errors off ${thread.env}\``,
  ];
  if (rec.offError) parts.push(`⚠️ switching off failed: ${esc(rec.offError)}`);
  return parts.join(' · ');
}
