import { describe, expect, it } from 'vitest';
import { toServiceError } from '../../src/adapters/slack/to-service-error.js';
import { RateLimitedError, ServiceError } from '../../src/core/ports.js';

const refusal = (error: string) => ({ code: 'slack_webapi_platform_error', data: { error } });

function classified(err: unknown, method: string) {
  const e = toServiceError(err, method);
  if (!(e instanceof ServiceError)) throw new Error(`not a ServiceError: ${String(e)}`);
  return { code: e.code, kind: e.kind, rejected: e.rejected, permanent: e.permanent, fix: e.fix };
}

describe('toServiceError (Slack)', () => {
  it.each([
    ['missing_scope', 'conversations.history', 'channels:history'],
    ['not_allowed_token_type', 'conversations.replies', 'channels:history'],
    ['unknown_method', 'conversations.history', 'channels:history'],
    ['method_deprecated', 'conversations.history', 'channels:history'],
    ['channel_not_found', 'conversations.history', 'invite the bot'],
    ['not_in_channel', 'conversations.replies', 'invite the bot'],
    ['thread_not_found', 'conversations.replies', 'thread root is gone'],
  ])('calls %s from %s a read-back that can never work, with its fix', (code, method, fix) => {
    const e = classified(refusal(code), method);
    expect(e).toMatchObject({ code, kind: 'cannot-read-back', rejected: true });
    expect(e.fix).toContain(fix);
  });

  it.each([
    ['not_in_channel', 'channel-unusable', 'invite the bot to the channel'],
    ['channel_not_found', 'channel-unusable', 'check slackChannel'],
    ['invalid_auth', 'auth', 'SLACK_BOT_TOKEN'],
    ['token_revoked', 'auth', 'SLACK_BOT_TOKEN'],
    ['missing_scope', 'permission', 'add the missing scope'],
  ])('classifies %s from chat.postMessage as %s, with its fix', (code, kind, fix) => {
    const e = classified(refusal(code), 'chat.postMessage');
    expect(e).toMatchObject({ code, kind, rejected: true, permanent: true });
    expect(e.fix).toContain(fix);
  });

  it('keeps a rejected token a failure to retry on a read-back, not one that can never work', () => {
    expect(classified(refusal('invalid_auth'), 'conversations.history')).toMatchObject({ kind: 'auth', fix: 'check SLACK_BOT_TOKEN' });
  });

  it('calls an ok:false internal_error rejected and transient, with no fix', () => {
    expect(classified(refusal('internal_error'), 'chat.postMessage')).toEqual({ code: 'internal_error', kind: 'transient', rejected: true, permanent: false, fix: undefined });
  });

  it('does not call an HTTP error or a lost connection rejected: Slack may have acted', () => {
    expect(classified({ code: 'slack_webapi_http_error', statusCode: 503 }, 'chat.postMessage')).toMatchObject({ code: 'http_503', kind: 'transient', rejected: false });
    expect(classified(new Error('socket hang up'), 'chat.postMessage')).toMatchObject({ code: 'request_error', kind: 'transient', rejected: false });
  });

  it('turns a 429 and an ok:false ratelimited into RateLimitedError', () => {
    const e = toServiceError({ code: 'slack_webapi_rate_limited_error', retryAfter: 30 }, 'conversations.history');
    expect(e).toBeInstanceOf(RateLimitedError);
    expect((e as RateLimitedError).retryAfterMs).toBe(30_000);
    expect(toServiceError(refusal('ratelimited'), 'chat.postMessage')).toBeInstanceOf(RateLimitedError);
  });
});
