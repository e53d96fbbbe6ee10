import { z } from 'zod';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const opt = z.string().trim().min(1).optional().catch(undefined);

/** The environment variables the bot reads (interface section 2). Empty strings count as unset. */
export const EnvVars = z.object({
  /** Path of the YAML config file. */
  ROLLOUT_CHATOPS_CONFIG: z.string().trim().min(1).default('./rollout-chatops.yml').catch('./rollout-chatops.yml'),
  /** `postgres://…`: the shared PostgreSQL store (several replicas); absent: the embedded store under DATA_DIR. */
  DATABASE_URL: opt,
  /** This replica's name, as the leader lease records its holder (the pod name, from the downward API). */
  POD_NAME: opt,
  /** Folder of the embedded store. */
  DATA_DIR: z.string().trim().min(1).default('./data').catch('./data'),
  PORT: z.string().trim().optional().transform((v, ctx) => {
    if (v === undefined || v === '') return 3000;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      ctx.addIssue({ code: 'custom', message: `must be a port number 0-65535 (got "${v}")` });
      return z.NEVER;
    }
    return n;
  }),
  HOST: z.string().trim().min(1).default('0.0.0.0').catch('0.0.0.0'),
  LOG_LEVEL: z.string().trim().optional().transform((v, ctx) => {
    if (v === undefined || v === '') return 'info' as LogLevel;
    const level = v.toLowerCase();
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      ctx.addIssue({ code: 'custom', message: `must be one of ${LOG_LEVELS.join(', ')} (got "${v}")` });
      return z.NEVER;
    }
    return level as LogLevel;
  }),
  SLACK_SIGNING_SECRET: opt,
  SLACK_BOT_TOKEN: opt,
  SLACK_APP_TOKEN: opt,
  SLACK_API_URL: opt,
  APP_ID: opt,
  PRIVATE_KEY: opt,
  PRIVATE_KEY_PATH: opt,
  WEBHOOK_SECRET: opt,
  GHE_HOST: opt,
  GHE_PROTOCOL: opt,
  KUBECONFIG: opt,
  KUBERNETES_SERVICE_HOST: opt,
  AWS_REGION: opt,
  AWS_DEFAULT_REGION: opt,
  AWS_ENDPOINT_URL_ECR: opt,
  AWS_ACCESS_KEY_ID: opt,
  AWS_SECRET_ACCESS_KEY: opt,
  AWS_SESSION_TOKEN: opt,
  AWS_ENDPOINT_URL: opt,
});
export type EnvVars = z.infer<typeof EnvVars>;
