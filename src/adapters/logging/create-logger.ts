import { pino } from 'pino';
import type { Logger } from '../../core/logger.js';
import type { LogLevel } from '../../config/env-schema.js';

/** The process logger: pino, JSON lines on stdout, errors serialised with their stack. */
export function createLogger(level: LogLevel): Logger & pino.Logger {
  return pino({ name: 'rollout-chatops', level, serializers: { err: pino.stdSerializers.err } });
}

/** Bolt's Logger interface over ours, so Bolt's lines are structured too. */
export function boltLogger(log: Logger) {
  let level = 'info';
  const child = log.child({ component: 'slack' });
  const join = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg: unknown[]) => child.debug({ detail: join(msg) }, 'bolt'),
    info: (...msg: unknown[]) => child.info({ detail: join(msg) }, 'bolt'),
    warn: (...msg: unknown[]) => {
      const detail = join(msg);
      // The commonest operator mistake gets its fix spelled out.
      if (/verify the request data|signature/i.test(detail)) {
        child.warn({ detail, fix: "SLACK_SIGNING_SECRET must be the Slack app's Signing Secret (Basic Information page), not a token; otherwise the request was forged or is older than 5 minutes" }, 'slack request signature rejected');
      } else child.warn({ detail }, 'bolt');
    },
    error: (...msg: unknown[]) => child.error({ detail: join(msg) }, 'bolt'),
    setLevel: (l: string) => {
      level = l;
    },
    getLevel: () => level as never,
    setName: () => {},
  };
}
