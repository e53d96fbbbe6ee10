import { isSlackUserId } from './is-slack-user-id.js';

/** Escapes text for Slack mrkdwn (only &, < and > are special). */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A Slack link `<url|label>`. */
export function link(url: string, label: string): string {
  return `<${url}|${esc(label)}>`;
}

/** A user mention when the id looks like a Slack user id, else the name as is. */
export function who(id: string): string {
  return isSlackUserId(id) ? `<@${id}>` : esc(id);
}

/** A section block with mrkdwn text. */
export function section(text: string): Record<string, unknown> {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

/** A context block with one mrkdwn element per line. */
export function context(lines: string[]): Record<string, unknown> {
  return { type: 'context', elements: lines.slice(0, 10).map((t) => ({ type: 'mrkdwn', text: t })) };
}
