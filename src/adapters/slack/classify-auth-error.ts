import { ServiceError } from '../../core/ports.js';

/**
 * What a failed `auth.test` at start-up means. `rejected`: Slack refused the bot token (invalid_auth, not_authed,
 * token_revoked, account_inactive: the `auth` kind toServiceError gives them), so the bot must not start, and `problem`
 * is the operator's one line naming SLACK_BOT_TOKEN and its fix. `unreachable`: anything else (network, 5xx, a wrong
 * SLACK_API_URL); the bot goes on and the outbox waits until Slack answers.
 */
export function classifyAuthError(err: unknown): { kind: 'rejected'; problem: string } | { kind: 'unreachable' } {
  if (err instanceof ServiceError && err.kind === 'auth') {
    return { kind: 'rejected', problem: `SLACK_BOT_TOKEN: Slack rejected the token (${err.code}); copy the Bot User OAuth Token (xoxb-...) from the Slack app's OAuth page` };
  }
  return { kind: 'unreachable' };
}
