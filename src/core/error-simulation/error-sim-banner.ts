import type { StoreData, ThreadRecord } from '../store-data.js';
import { esc, who } from '../text/mrkdwn.js';
import { slackTime } from '../text/slack-time.js';

/**
 * The card banner while errors are on: since when, by whom, when they switch off. Shown on the environment's current
 * thread only; undefined when errors are off (as far as the bot switched them).
 */
export function errorSimBanner(thread: ThreadRecord, data: StoreData): string | undefined {
  const envKey = `${thread.app}/${thread.env}`;
  const rec = data.errorSims?.[envKey];
  if (!rec || data.envs[envKey]?.threadKey !== thread.key) return undefined;
  const by = rec.adopted ? 'switched on outside the bot, found' : `by ${who(rec.by)}`;
  const drill = rec.drillId ? ' for a rollback drill' : '';
  const parts = [
    `🧪 *Errors ON*${drill}: the app fails on purpose since ${slackTime(rec.since)} (${by})`,
    `switching off at ${slackTime(rec.offAt)}, or \`/errors off ${thread.env}\``,
  ];
  if (rec.offError) parts.push(`⚠️ switching off failed: ${esc(rec.offError)}`);
  return parts.join(' · ');
}
