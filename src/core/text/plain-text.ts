/**
 * The plain-text form of a mrkdwn message, for the `text` Slack shows in notifications and screen readers when the
 * message has blocks: links become their label (a date its fallback), and the `*bold*`, `_italic_`, `~strike~` and
 * backtick markers are dropped. Mentions (`<@U1>`) stay, since notifications render them.
 */
export function plainText(mrkdwn: string): string {
  return mrkdwn
    .replace(/<(@[UW][A-Z0-9]+)>/g, '\u0000$1\u0001')
    .replace(/<#[A-Z0-9]+\|([^>]*)>/g, '#$1')
    .replace(/<![^>|]*\|([^>]*)>/g, '$1')
    .replace(/<[^>|]+\|([^>]*)>/g, '$1')
    .replace(/<([^>]+)>/g, '$1')
    .replace(/\u0000/g, '<')
    .replace(/\u0001/g, '>')
    .replace(/`+/g, '')
    .replace(/(^|[\s(])[*_~]+(?=\S)/g, '$1')
    .replace(/(\S)[*_~]+(?=[\s).,:;!?]|$)/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
