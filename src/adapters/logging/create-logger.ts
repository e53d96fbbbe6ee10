import { pino } from 'pino';
import type { Logger } from '../../core/logger.js';
import type { LogLevel } from '../../config/env-schema.js';

/** Fields that hold what someone sent us: a request body or a webhook payload. They are never logged. */
const BODY_KEYS = new Set(['payload', 'body', 'rawBody', 'event']);
const OMITTED = '[omitted]';
/** Marks the loggers createLogger made (and, through pino's prototype chain, their children) as pino underneath. */
const PINO_BACKED = Symbol('rollout-chatops.pino-backed');

/** The process logger: ours for the bot, and a pino logger for the libraries that take one (Probot). */
export type ProcessLogger = pino.Logger & Logger & { readonly [PINO_BACKED]: true };

/**
 * The process logger: pino, JSON lines on stdout (or `destination`), errors serialised with their stack. No line
 * carries a request body or a webhook payload: @octokit/webhooks puts the whole delivery on its errors (`err.event`,
 * again under `err.errors[]`), which Probot logs, so one forged 1 MB webhook used to write 3 MB of log.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): ProcessLogger {
  const options: pino.LoggerOptions = {
    name: 'rollout-chatops',
    level,
    serializers: { err: serializeError },
    redact: { paths: ['payload', 'body', 'rawBody', 'req.body', 'request.body', 'event.payload'], censor: OMITTED },
  };
  const logger = destination ? pino(options, destination) : pino(options);
  return Object.assign(logger, { [PINO_BACKED]: true as const });
}

/**
 * A pino child of `log` for a library that logs through pino (Probot), carrying `bindings`, when `log` came from
 * createLogger; a silent pino logger otherwise (tests hand the app loggers that are not pino, and drop those lines).
 */
export function pinoChildOf(log: Logger, bindings: pino.Bindings): pino.Logger {
  return isProcessLogger(log) ? log.child(bindings) : pino({ level: 'silent' });
}

function isProcessLogger(log: Logger): log is ProcessLogger {
  return PINO_BACKED in log;
}

/** pino's error serialiser, then every body or payload field anywhere in the error (its causes and aggregated errors) dropped. */
function serializeError(err: unknown): unknown {
  return scrub(pino.stdSerializers.err(err as Error), 0);
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > 6) return OMITTED;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // `event: 'push'` is a name worth keeping; `event: { payload }` or a long `body` string is what someone sent.
    const sent = BODY_KEYS.has(k) && ((typeof v === 'object' && v !== null) || (typeof v === 'string' && v.length > 200));
    out[k] = sent ? OMITTED : scrub(v, depth + 1);
  }
  return out;
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
