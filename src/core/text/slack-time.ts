/**
 * A time Slack shows in each reader's own time zone (`<!date^…^{time_secs}|…>`), with a UTC fallback that
 * GitHub comments and notifications show instead.
 */
export function slackTime(ms: number, format: '{time}' | '{time_secs}' = '{time}'): string {
  const iso = new Date(ms).toISOString();
  const fallback = `${iso.slice(11, format === '{time}' ? 16 : 19)} UTC`;
  return `<!date^${Math.floor(ms / 1000)}^${format}|${fallback}>`;
}
