import { z } from 'zod';
import { parseDuration } from '../text/duration.js';

/** A config duration (`30s`, `10m`, `1h`), parsed into milliseconds. */
export const Duration = z.string({ error: (iss) => (iss.input === undefined ? 'required' : 'must be a duration like 30s, 10m or 1h') })
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: `must be a duration like 30s, 10m or 1h (got "${text}")` });
      return z.NEVER;
    }
    return ms;
  });

const required = (what: string) => ({ error: (iss: { input?: unknown }) => (iss.input === undefined ? 'required' : `must be ${what}`) });
const Text = z.string(required('a string')).min(1, 'must not be empty');

/** GitHub repository permission levels, least to most. */
export const GITHUB_PERMISSIONS = ['read', 'triage', 'write', 'maintain', 'admin'] as const;
export type GithubPermission = (typeof GITHUB_PERMISSIONS)[number];

/** Who may promote, abort, retry or toggle errors in an environment. */
export const Approvers = z.strictObject({
  /** Slack user ids allowed to act; absent means anyone who can post in the channel. */
  slackUsers: z.array(Text).optional(),
  /** Least repo permission for PR comment commands (default write). */
  githubPermission: z.enum(GITHUB_PERMISSIONS).default('write'),
  /**
   * GitHub logins who may promote, abort, retry, drill or toggle errors here by PR comment (besides githubTeams).
   * Where neither is listed but slackUsers is, comments cannot change this environment: they point to the Slack thread.
   */
  githubUsers: z.array(z.string(required('a GitHub login')).regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'must be a GitHub login like octocat')).optional(),
  /** `org/team` slugs whose active members may act here by PR comment (checked with GitHub's team membership API). */
  githubTeams: z.array(z.string(required('org/team')).regex(/^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be org/team-slug like acme/sre')).optional(),
  /**
   * How many different approvers must confirm one promotion, abort or retry (default 1: today's rule, an approver may
   * confirm their own request). 2 or more needs `slackUsers` listing at least that many people.
   */
  required: z.number(required('a whole number')).int('must be a whole number').min(1, 'must be at least 1').default(1),
  /** With `required` ≥ 2: whether the requester's own confirmation counts toward it (default false). */
  requesterCounts: z.boolean(required('true or false')).default(false),
}).superRefine((a, ctx) => {
  const listed = new Set(a.slackUsers ?? []).size;
  if (a.required >= 2 && listed < a.required) ctx.addIssue({ code: 'custom', path: ['required'], message: `needs slackUsers with at least ${a.required} users (${listed} listed)` });
});

/** The app's error-simulation endpoint: GET → {"enabled":bool}; POST toggles. */
export const ErrorSimulation = z.strictObject({
  url: z.url({ error: 'must be an http(s) URL' }),
  /** Errors switch off by themselves after this long (default 15m). */
  ttl: Duration.default(15 * 60_000),
});

/** How a proven tag is brought to this environment: a workflow_dispatch of the app's repo. */
export const Deploy = z.strictObject({
  /** Workflow file name (or id) of the app's repo, dispatched with inputs `environment` and `image_tag`. */
  workflow: Text,
  /** Git ref to run the workflow on (default: the repo's default branch, `main`). */
  ref: Text.default('main'),
  /** Dispatch by itself once the tag completed in the previous environment. */
  auto: z.boolean().default(false),
});

/** A point in time written as an ISO 8601 date (`2026-12-20T00:00:00Z`; a YAML 1.1 timestamp works too), in ms. */
const Instant = z.union([z.string(), z.date()], required('an ISO 8601 date like 2026-12-20T00:00:00Z')).transform((v, ctx) => {
  const ms = v instanceof Date ? v.getTime() : /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `must be an ISO 8601 date like 2026-12-20T00:00:00Z (got "${String(v)}")` });
    return z.NEVER;
  }
  return ms;
});

/**
 * A window in which promotions and chain dispatches are refused (an approver's `--force` overrides, recorded): either
 * recurring (`cron` + `duration`) or dated (`from` + `to`). `isCron` judges the cron expression (configSchema's deps).
 */
const freezeWindow = (isCron?: (expression: string) => boolean) => z.strictObject({
  /** When a recurring window starts, as a cron expression (`0 16 * * 5`: Fridays 16:00). */
  cron: (isCron ? Text.refine((c) => isCron(c), 'is not a valid cron expression') : Text).optional(),
  /** How long a recurring window lasts from each `cron` start (`64h`). */
  duration: Duration.optional(),
  /** IANA time zone of `cron` (default UTC). */
  timezone: Text.optional(),
  /** Start of a dated window (inclusive). */
  from: Instant.optional(),
  /** End of a dated window (exclusive). */
  to: Instant.optional(),
  /** Why, as the refusal and `/rollout status` say it (`weekend freeze`). */
  reason: Text,
}).superRefine((f, ctx) => {
  const recurring = f.cron !== undefined || f.duration !== undefined;
  const dated = f.from !== undefined || f.to !== undefined;
  if (recurring && dated) ctx.addIssue({ code: 'custom', message: 'give either cron + duration or from + to, not both' });
  else if (recurring && (f.cron === undefined || f.duration === undefined)) ctx.addIssue({ code: 'custom', path: [f.cron === undefined ? 'cron' : 'duration'], message: 'required with ' + (f.cron === undefined ? 'duration' : 'cron') });
  else if (dated && (f.from === undefined || f.to === undefined)) ctx.addIssue({ code: 'custom', path: [f.from === undefined ? 'from' : 'to'], message: 'required with ' + (f.from === undefined ? 'to' : 'from') });
  else if (!recurring && !dated) ctx.addIssue({ code: 'custom', message: 'needs cron + duration or from + to' });
  else if (dated && f.from! >= f.to!) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  if (f.timezone !== undefined && f.cron === undefined) ctx.addIssue({ code: 'custom', path: ['timezone'], message: 'only applies to a cron window' });
});
/** A freeze window's shape (configSchema checks its cron expression too). */
export const FreezeWindow = freezeWindow();
export type FreezeWindow = z.infer<typeof FreezeWindow>;

/** One environment of an app: a namespace, a Rollout in it, and the Slack channel that gets its threads. */
export const Environment = z.strictObject({
  /** How people name the environment in commands (`/promote staging`). */
  name: z.string(required('a string')).regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes'),
  /** Kubernetes namespace of the Rollout. */
  namespace: Text,
  /** Argo Rollouts Rollout name (or `rollouts`, for several). */
  rollout: Text.optional(),
  /**
   * Instead of `rollout`: several Rollouts deployed from one commit (a backend and a frontend). One thread per deploy
   * shows them all; `/promote` verifies each tag in its own ECR repository and promotes every paused one at once.
   */
  rollouts: z.array(z.strictObject({
    /** Argo Rollouts Rollout name. */
    rollout: Text,
    /** ECR repository of this rollout's image (default: the app's `image.ecrRepository`). */
    ecrRepository: Text.optional(),
  }), required('a list')).min(1, 'must list at least one rollout').optional(),
  /**
   * Kubeconfig context of the cluster the Rollout runs in; checked at start against KUBECONFIG. Absent: the current
   * context (in-cluster config inside a pod). Each distinct cluster gets its own watches.
   */
  cluster: Text.optional(),
  /** Slack channel id that gets this environment's threads. */
  slackChannel: z.string(required('a Slack channel id')).regex(/^[CGD][A-Z0-9]+$/, 'must be a Slack channel id like C0123ABCD'),
  /** Warn once when a deploy takes longer (default 5m without steps, 10m canary/blue-green). */
  timeout: Duration.optional(),
  errorSimulation: ErrorSimulation.optional(),
  deploy: Deploy.optional(),
  /** Blue-green preview URL shown when the preview is ready. */
  previewUrl: z.url({ error: 'must be an http(s) URL' }).optional(),
  /** Blue-green active URL shown next to the preview. */
  activeUrl: z.url({ error: 'must be an http(s) URL' }).optional(),
  approvers: Approvers.optional(),
  /** Windows in which promotions and chain dispatches are refused (`/rollout lock` is the ad-hoc kind). */
  freezes: z.array(FreezeWindow, required('a list')).optional(),
});

/** The app's container image in ECR. */
export const Image = z.strictObject({
  /** ECR repository every promotion verifies the tag in. */
  ecrRepository: Text,
  /** Optional regex with a named group `sha`; by default a tag pairs with a commit when it starts with the commit's short sha. */
  tagPattern: z.string().optional().superRefine((p, ctx) => {
    if (p === undefined) return;
    try {
      const re = new RegExp(p);
      if (!/\(\?<sha>/.test(re.source)) ctx.addIssue({ code: 'custom', message: 'must contain a named group (?<sha>...)' });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `is not a valid regular expression (${(err as Error).message})` });
    }
  }),
});

/** One application: a repo, an image, and its environments in promotion order. */
export const App = z.strictObject({
  /** Unique; how people name the app in commands. */
  name: z.string(required('a string')).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be letters, digits, dots, dashes or underscores'),
  /** `owner/name` of the GitHub repo whose pushes and PR comments belong to this app. */
  repo: z.string(required('owner/name')).regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/name'),
  image: Image,
  /** Listed in promotion order: dev -> qa -> staging. */
  environments: z.array(Environment, required('a list')).min(1, 'must list at least one environment'),
});

/** What the schema needs from outside the core: whether a cron expression is valid (node-cron knows). */
export interface ConfigSchemaDeps {
  isCron: (expression: string) => boolean;
}

/**
 * The whole YAML config file. The model lives in the core (it is the core's vocabulary); src/config builds it with
 * node-cron's validator and reads the file.
 */
export function configSchema(deps: ConfigSchemaDeps) {
  // The same App, with each freeze window's cron expression judged by `isCron`.
  const Environments = z.array(Environment.extend({ freezes: z.array(freezeWindow(deps.isCron), required('a list')).optional() }), required('a list'));
  const CheckedApp = App.extend({ environments: Environments.min(1, 'must list at least one environment') });
  return z.strictObject({
  apps: z.array(CheckedApp, required('a list')).min(1, 'must list at least one app'),
  /** One reminder when a rollout waits for promotion this long, one more at 4x (default 30m). */
  reminders: z.strictObject({ after: Duration.default(30 * 60_000) }).default({ after: 30 * 60_000 }),
  /** Optional daily summary. */
  digest: z.strictObject({
    cron: z.string(required('a cron expression')).refine((c) => deps.isCron(c), 'is not a valid cron expression'),
    channel: z.string(required('a Slack channel id')).regex(/^[CGD][A-Z0-9]+$/, 'must be a Slack channel id like C0123ABCD'),
    /** IANA time zone for the cron expression (default UTC). */
    timezone: Text.optional(),
  }).optional(),
  /** Deploy records older than this are pruned (default 90 days). */
  retention: z.strictObject({ days: z.number().int().positive().default(90) }).default({ days: 90 }),
}).superRefine((cfg, ctx) => {
  const appNames = new Map<string, number>();
  const rollouts = new Map<string, string>();
  cfg.apps.forEach((app, i) => {
    if (appNames.has(app.name)) ctx.addIssue({ code: 'custom', path: ['apps', i, 'name'], message: `duplicate app name "${app.name}" (also apps[${appNames.get(app.name)}])` });
    else appNames.set(app.name, i);
    const envNames = new Set<string>();
    app.environments.forEach((env, j) => {
      if (envNames.has(env.name)) ctx.addIssue({ code: 'custom', path: ['apps', i, 'environments', j, 'name'], message: `duplicate environment "${env.name}" in app ${app.name}` });
      envNames.add(env.name);
      const at = ['apps', i, 'environments', j];
      if (env.rollout === undefined && env.rollouts === undefined) ctx.addIssue({ code: 'custom', path: [...at, 'rollout'], message: 'required (or rollouts, for several)' });
      if (env.rollout !== undefined && env.rollouts !== undefined) ctx.addIssue({ code: 'custom', path: [...at, 'rollouts'], message: 'give either rollout or rollouts, not both' });
      const names = env.rollouts ? env.rollouts.map((r, k) => ({ name: r.rollout, path: [...at, 'rollouts', k, 'rollout'] })) : env.rollout !== undefined ? [{ name: env.rollout, path: [...at, 'rollout'] }] : [];
      for (const { name, path } of names) {
        // The same namespace/rollout may run in several clusters (one environment each).
        const ref = `${env.namespace}/${name}`;
        const key = `${env.cluster ?? ''}|${ref}`;
        const other = rollouts.get(key);
        if (other) ctx.addIssue({ code: 'custom', path, message: `rollout ${ref} is already configured as ${other}${env.cluster ? ` in cluster ${env.cluster}` : ''}` });
        else rollouts.set(key, `${app.name}/${env.name}`);
      }
    });
  });
});

}

export type Config = z.infer<ReturnType<typeof configSchema>>;
export type AppConfig = z.infer<typeof App>;
export type EnvironmentConfig = z.infer<typeof Environment>;

/** One Rollout of an environment, with the ECR repository its tags are verified in. */
export interface RolloutMember {
  rollout: string;
  ecrRepository: string;
}

/** The Rollouts of an environment (one for `rollout`, several for `rollouts`), each with its ECR repository. */
export function rolloutsOf(app: Pick<AppConfig, 'image'>, env: Pick<EnvironmentConfig, 'rollout' | 'rollouts'>): RolloutMember[] {
  if (env.rollouts) return env.rollouts.map((r) => ({ rollout: r.rollout, ecrRepository: r.ecrRepository ?? app.image.ecrRepository }));
  return env.rollout !== undefined ? [{ rollout: env.rollout, ecrRepository: app.image.ecrRepository }] : [];
}
