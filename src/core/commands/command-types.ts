import type { ChatContent } from '../ports.js';

/** Who asked, and from where. */
export interface CommandContext {
  source: 'slack' | 'github';
  /** Slack user id or GitHub login. */
  user: string;
  /** Slack channel the command was typed in. */
  channel?: string;
  /** `owner/name` for GitHub comments: narrows to that repo's apps. */
  repo?: string;
}

/** What the asker sees in reply (ephemeral in Slack, a comment on GitHub). */
export interface CommandReply extends ChatContent {
  /** For GitHub: plain markdown without Slack link syntax. */
  markdown?: string;
}
