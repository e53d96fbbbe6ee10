import { slackToMarkdown } from '../text/to-markdown.js';

/** A command's answer in the form its source reads: Slack mrkdwn, plus GitHub Markdown for a comment. */
export function replyFor(ctx: { source: 'slack' | 'github' }, text: string): { text: string; markdown?: string } {
  return ctx.source === 'github' ? { text, markdown: slackToMarkdown(text) } : { text };
}
