import { existsSync, readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { Config } from './config-schema.js';
import { EnvVars } from './env-schema.js';
import { formatIssues } from './format-issues.js';
import type { Settings } from './settings.js';

/** Result of loading: either settings, or every problem found, one line each. */
export type LoadResult = { ok: true; settings: Settings } | { ok: false; problems: string[] };

/**
 * Reads and validates the environment and the config file. Lists every problem at once, each line naming the
 * variable or the config path, so an operator fixes them in one go.
 */
export function loadSettings(env: Record<string, string | undefined> = process.env): LoadResult {
  const problems: string[] = [];
  let parsedEnv = EnvVars.safeParse(env);
  if (!parsedEnv.success) {
    // Report the bad variables, then go on with their defaults so every other problem is listed too.
    problems.push(...formatIssues(parsedEnv.error.issues));
    const rest = { ...env };
    for (const issue of parsedEnv.error.issues) delete rest[String(issue.path[0])];
    parsedEnv = EnvVars.safeParse(rest);
    if (!parsedEnv.success) return { ok: false, problems };
  }
  const e = parsedEnv.data;

  // Slack: a bot token always; a signing secret unless Socket Mode carries the traffic.
  if (!e.SLACK_BOT_TOKEN) problems.push('SLACK_BOT_TOKEN: required (the bot token, xoxb-...)');
  if (e.SLACK_APP_TOKEN && !e.SLACK_APP_TOKEN.startsWith('xapp-')) problems.push('SLACK_APP_TOKEN: must be an app-level token starting with xapp-');
  if (!e.SLACK_APP_TOKEN && !e.SLACK_SIGNING_SECRET) problems.push('SLACK_SIGNING_SECRET: required (or set SLACK_APP_TOKEN for Socket Mode)');
  let slackApiUrl = e.SLACK_API_URL ?? 'https://slack.com/api/';
  if (!isHttpUrl(slackApiUrl)) problems.push(`SLACK_API_URL: must be an http(s) URL (got "${slackApiUrl}")`);
  if (!slackApiUrl.endsWith('/')) slackApiUrl += '/';

  // GitHub App: all or nothing.
  let github: Settings['github'];
  const ghVars = [e.APP_ID, e.PRIVATE_KEY ?? e.PRIVATE_KEY_PATH, e.WEBHOOK_SECRET];
  if (ghVars.some((v) => v !== undefined)) {
    if (!e.APP_ID) problems.push('APP_ID: required when the GitHub App is configured (WEBHOOK_SECRET or PRIVATE_KEY is set)');
    else if (!/^\d+$/.test(e.APP_ID)) problems.push(`APP_ID: must be the numeric GitHub App id (got "${e.APP_ID}")`);
    if (!e.WEBHOOK_SECRET) problems.push('WEBHOOK_SECRET: required when the GitHub App is configured');
    let privateKey: string | undefined;
    if (e.PRIVATE_KEY) privateKey = e.PRIVATE_KEY.replace(/\\n/g, '\n');
    else if (e.PRIVATE_KEY_PATH) {
      try { privateKey = readFileSync(e.PRIVATE_KEY_PATH, 'utf8'); } catch (err) {
        problems.push(`PRIVATE_KEY_PATH: cannot read ${e.PRIVATE_KEY_PATH} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    } else problems.push('PRIVATE_KEY: required when the GitHub App is configured (or PRIVATE_KEY_PATH)');
    if (privateKey !== undefined && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey)) {
      problems.push(`${e.PRIVATE_KEY ? 'PRIVATE_KEY' : 'PRIVATE_KEY_PATH'}: is not a PEM private key (expected -----BEGIN RSA PRIVATE KEY-----)`);
    }
    let baseUrl: string | undefined;
    if (e.GHE_PROTOCOL && !['http', 'https'].includes(e.GHE_PROTOCOL)) problems.push(`GHE_PROTOCOL: must be http or https (got "${e.GHE_PROTOCOL}")`);
    if (e.GHE_HOST) baseUrl = `${e.GHE_PROTOCOL ?? 'https'}://${e.GHE_HOST}/api/v3`;
    if (e.APP_ID && e.WEBHOOK_SECRET && privateKey) github = { appId: e.APP_ID, privateKey, webhookSecret: e.WEBHOOK_SECRET, baseUrl };
  } else if (e.GHE_HOST) {
    problems.push('APP_ID: required when GHE_HOST is set (with PRIVATE_KEY and WEBHOOK_SECRET)');
  }

  // Kubernetes: an explicit kubeconfig, the default one, or in-cluster.
  let kubeconfig = e.KUBECONFIG;
  if (kubeconfig) {
    const missing = kubeconfig.split(path.delimiter).filter((p) => p && !existsSync(p));
    if (missing.length) problems.push(`KUBECONFIG: file not found: ${missing.join(', ')}`);
  } else if (!e.KUBERNETES_SERVICE_HOST) {
    const fallback = path.join(homedir(), '.kube', 'config');
    if (existsSync(fallback)) kubeconfig = fallback;
    else problems.push('KUBECONFIG: required outside a Kubernetes pod (no ~/.kube/config found)');
  }

  const region = e.AWS_REGION ?? e.AWS_DEFAULT_REGION;
  if (!region) problems.push('AWS_REGION: required (the region of the ECR registry, e.g. us-east-1)');
  const ecrEndpoint = e.AWS_ENDPOINT_URL_ECR ?? e.AWS_ENDPOINT_URL;
  if (ecrEndpoint && !isHttpUrl(ecrEndpoint)) problems.push(`AWS_ENDPOINT_URL_ECR: must be an http(s) URL (got "${ecrEndpoint}")`);
  if (Boolean(e.AWS_ACCESS_KEY_ID) !== Boolean(e.AWS_SECRET_ACCESS_KEY)) {
    problems.push(e.AWS_ACCESS_KEY_ID ? 'AWS_SECRET_ACCESS_KEY: required with AWS_ACCESS_KEY_ID' : 'AWS_ACCESS_KEY_ID: required with AWS_SECRET_ACCESS_KEY');
  }
  const credentials = e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY ? { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY, sessionToken: e.AWS_SESSION_TOKEN } : undefined;

  let database: Settings['database'];
  if (e.DATABASE_URL) {
    let url: URL | undefined;
    try {
      url = new URL(e.DATABASE_URL);
    } catch {
      url = undefined;
    }
    if (!url || !['postgres:', 'postgresql:'].includes(url.protocol) || !url.hostname) problems.push('DATABASE_URL: must be postgres://user:password@host:port/database');
    else database = { url: e.DATABASE_URL, holder: e.POD_NAME ?? `${hostname()}-${process.pid}` };
  }

  const config = readConfigFile(e.ROLLOUT_CHATOPS_CONFIG, problems);
  if (problems.length > 0 || !config) return { ok: false, problems };

  return {
    ok: true,
    settings: {
      configPath: e.ROLLOUT_CHATOPS_CONFIG,
      dataDir: e.DATA_DIR,
      database,
      port: e.PORT,
      host: e.HOST,
      logLevel: e.LOG_LEVEL,
      slack: { botToken: e.SLACK_BOT_TOKEN!, signingSecret: e.SLACK_SIGNING_SECRET, appToken: e.SLACK_APP_TOKEN, apiUrl: slackApiUrl },
      github,
      kubernetes: { kubeconfig },
      aws: { region: region!, ecrEndpoint, credentials },
      config,
    },
  };
}

/** Reads and validates the YAML config; pushes problems (by config path) and returns undefined when invalid. */
export function readConfigFile(file: string, problems: string[]): Config | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push(`ROLLOUT_CHATOPS_CONFIG: ${code === 'ENOENT' ? `file not found: ${file}` : `cannot read ${file} (${code ?? (err as Error).message})`}`);
    return undefined;
  }
  return parseConfigText(text, file, problems);
}

/** Parses config YAML text; `source` names the file in YAML syntax errors. */
export function parseConfigText(text: string, source: string, problems: string[]): Config | undefined {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const pos = err.linePos?.[0];
      const message = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      problems.push(`${source}${pos ? `:${pos.line}:${pos.col}` : ''}: ${message}`);
    }
    return undefined;
  }
  const raw: unknown = doc.toJS() ?? {};
  const parsed = Config.safeParse(raw);
  if (!parsed.success) {
    problems.push(...formatIssues(parsed.error.issues));
    return undefined;
  }
  return parsed.data;
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
