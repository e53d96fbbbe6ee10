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
    warn: (...msg: unknown[]) => child.warn({ detail: join(msg) }, 'bolt'),
    error: (...msg: unknown[]) => child.error({ detail: join(msg) }, 'bolt'),
    setLevel: (l: string) => {
      level = l;
    },
    getLevel: () => level as never,
    setName: () => {},
  };
}
