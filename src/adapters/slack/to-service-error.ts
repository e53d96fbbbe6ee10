import { RateLimitedError, ServiceError } from '../../core/ports.js';
import { classifySlackError } from './classify-slack-error.js';

/**
 * Translates web-api errors into ours: a 429 says when to retry; anything else is a ServiceError with Slack's code,
 * classified for the core (kind, fix). An ok:false answer is `rejected` (Slack did nothing); after an HTTP error or a
 * lost connection nobody knows whether it acted.
 */
export function toServiceError(err: unknown, method: string): Error {
  const e = err as { code?: string; retryAfter?: number; data?: { error?: string }; statusCode?: number; message?: string };
  if (e?.code === 'slack_webapi_rate_limited_error') return new RateLimitedError('slack', (e.retryAfter ?? 1) * 1000, `${method} rate limited`);
  if (e?.code === 'slack_webapi_platform_error') {
    const code = e.data?.error ?? 'unknown_error';
    if (code === 'ratelimited') return new RateLimitedError('slack', 1000, `${method} rate limited`);
    return new ServiceError('slack', `${method} failed: ${code}`, { code, rejected: true, cause: err, ...classifySlackError(method, code) });
  }
  if (e?.code === 'slack_webapi_http_error') {
    const transient = (e.statusCode ?? 0) >= 500;
    return new ServiceError('slack', `${method} failed: HTTP ${e.statusCode}`, { code: `http_${e.statusCode}`, ...(transient ? { kind: 'transient' } : {}), cause: err });
  }
  return new ServiceError('slack', `${method} failed: ${e?.message ?? String(err)}`, { code: 'request_error', kind: 'transient', cause: err });
}
