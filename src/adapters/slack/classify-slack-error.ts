import type { ServiceErrorKind } from '../../core/ports.js';

/** What one Slack error code means to the core, and what an operator should do about it. */
export interface SlackErrorClass {
  kind?: ServiceErrorKind;
  fix?: string;
  permanent: boolean;
}

const READ_METHODS = new Set(['conversations.history', 'conversations.replies']);

/**
 * Slack answers to a read-back that will not change by asking again, so waiting for them would hold the thread
 * forever: this token can never read the conversation (no history scope, a token type or method that cannot, a
 * channel the bot cannot see or is not in, a thread that does not exist). The outbox posts the entry again: a possible
 * duplicate is better than a message never sent. Every other failure (429, internal_error, 5xx, a lost connection,
 * a rejected token) leaves the entry in doubt and is asked again later.
 */
const CANNOT_READ_BACK = new Set(['unknown_method', 'missing_scope', 'not_allowed_token_type', 'method_deprecated', 'channel_not_found', 'not_in_channel', 'thread_not_found']);

const PERMANENT = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'missing_scope', 'channel_not_found', 'not_in_channel', 'is_archived', 'no_permission']);
const AUTH = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked']);
const PERMISSION = new Set(['missing_scope', 'no_permission', 'not_allowed_token_type']);
const CHANNEL_UNUSABLE = new Set(['channel_not_found', 'not_in_channel', 'is_archived']);
const TRANSIENT = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/** Classifies Slack's `error` in an ok:false answer to `method`, with the operator's fix where there is one. */
export function classifySlackError(method: string, code: string): SlackErrorClass {
  const permanent = PERMANENT.has(code);
  if (READ_METHODS.has(method) && CANNOT_READ_BACK.has(code)) return { kind: 'cannot-read-back', fix: readBackFix(code), permanent };
  if (AUTH.has(code)) return { kind: 'auth', fix: 'check SLACK_BOT_TOKEN', permanent };
  if (CHANNEL_UNUSABLE.has(code)) return { kind: 'channel-unusable', fix: channelFix(code), permanent };
  if (PERMISSION.has(code)) return { kind: 'permission', fix: code === 'missing_scope' ? 'add the missing scope to the Slack app (see README) and reinstall it' : undefined, permanent };
  if (TRANSIENT.has(code)) return { kind: 'transient', permanent };
  return { permanent };
}

function readBackFix(code: string): string {
  if (code === 'not_in_channel' || code === 'channel_not_found') return 'invite the bot to the channel (/invite @rollout-chatops) so restarts can tell posted from not posted';
  if (code === 'thread_not_found') return 'the thread root is gone (deleted?); replies to it cannot be read back';
  return 'add the channels:history and groups:history scopes so restarts can tell posted from not posted';
}

function channelFix(code: string): string | undefined {
  if (code === 'not_in_channel') return 'invite the bot to the channel (/invite @rollout-chatops)';
  if (code === 'channel_not_found') return 'check slackChannel in the config: it must be a channel id (C...) the bot can see';
  return undefined;
}
