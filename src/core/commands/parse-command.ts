/** A command people type, parsed. The same shapes come from Slack slash commands, thread replies and PR comments. */
export type Command =
  | { verb: 'promote'; env: string; app?: string; full: boolean; dryRun: boolean; force: boolean }
  | { verb: 'status'; env?: string; app?: string }
  | { verb: 'history'; env?: string; app?: string }
  | { verb: 'abort'; env?: string; app?: string }
  | { verb: 'retry'; env?: string; app?: string }
  | { verb: 'drill'; env: string; app?: string }
  | { verb: 'errors'; action: 'on' | 'off' | 'status'; env: string; app?: string }
  | { verb: 'lock'; env: string; app?: string; reason?: string }
  | { verb: 'unlock'; env: string; app?: string }
  | { verb: 'report'; env: string; app?: string }
  | { verb: 'reject'; env: string; app?: string; reason?: string }
  | { verb: 'help'; topic?: 'promote' | 'rollout' | 'errors' };

/** Parsing failed: what was wrong, and the help to show with it. */
export interface ParseError {
  error: string;
  topic: 'promote' | 'rollout' | 'errors';
}

export type ParseResult = { ok: true; command: Command } | { ok: false; problem: ParseError };

const PROMOTE_FLAGS = new Set(['--full', '--dry-run', '--force']);
/** The shape config-schema.ts allows for names, checked here so a typo never reaches a lookup or an echo unbounded. */
const ENV_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** What the parser knows of the config: the app names (in `lock`, a word after the env is an app only if it names one). */
export interface ParseOptions {
  apps?: readonly string[];
}

/** A lock's or rejection's reason is kept and echoed: at most this many characters. */
const MAX_REASON = 200;

/**
 * Parses the text after a slash command: `command` is `/promote`, `/rollout` or `/errors`, `text` the rest.
 * Unknown words and flags are errors that come back with the help for that command; no input makes it throw.
 */
export function parseCommand(command: string, text: string, o: ParseOptions = {}): ParseResult {
  const name = String(command ?? '').replace(/^\//, '').toLowerCase();
  const words = String(text ?? '').trim().split(/\s+/u).filter(Boolean);
  if (name === 'promote') return parsePromote(words);
  const sub = words[0]?.toLowerCase();
  if (name === 'rollout' && (sub === 'lock' || sub === 'reject')) return parseReasoned(sub, String(text ?? '').trim().replace(/^\S+\s*/u, ''), o);
  if (name === 'rollout') return parseRollout(words);
  if (name === 'errors') return parseErrors(words);
  return fail(`unknown command \`/${shown(name)}\``, 'rollout');
}

function parsePromote(words: string[]): ParseResult {
  const topic = 'promote' as const;
  if (isHelp(words[0])) return ok({ verb: 'help', topic });
  const flags = words.filter((w) => w.startsWith('-'));
  const args = words.filter((w) => !w.startsWith('-'));
  const unknown = flags.filter((f) => !PROMOTE_FLAGS.has(f.toLowerCase()));
  if (unknown.length) return fail(`unknown option ${listed(unknown)} (options: --full, --dry-run, --force)`, topic);
  const [envWord, app, ...extra] = args;
  if (envWord === undefined) return fail('which environment? e.g. `/promote staging`', topic);
  if (extra.length) return fail(`too many words: ${listed(extra)}`, topic);
  const names = checkNames(envWord, app, topic);
  if (!names.ok) return names.result;
  const lower = new Set(flags.map((f) => f.toLowerCase()));
  return ok({ verb: 'promote', env: names.env!, app, full: lower.has('--full'), dryRun: lower.has('--dry-run'), force: lower.has('--force') });
}

function parseRollout(words: string[]): ParseResult {
  const topic = 'rollout' as const;
  const [sub, ...rest] = words;
  if (sub === undefined || isHelp(sub)) return ok({ verb: 'help', topic });
  const flags = rest.filter((w) => w.startsWith('-'));
  if (flags.length) return fail(`unknown option ${listed(flags)}`, topic);
  if (rest.length > 2) return fail(`too many words: ${listed(rest.slice(2))}`, topic);
  const verb = sub.toLowerCase();
  if (verb !== 'status' && verb !== 'history' && verb !== 'abort' && verb !== 'retry' && verb !== 'drill' && verb !== 'unlock' && verb !== 'report') return fail(`unknown subcommand ${listed([sub])}`, topic);
  const names = checkNames(rest[0], rest[1], topic);
  if (!names.ok) return names.result;
  const { env, app } = names;
  switch (verb) {
    case 'status':
    case 'history':
      return ok({ verb, env, app });
    case 'abort':
    case 'retry':
      // Without an environment, the channel's own environment is meant (resolved by the command service).
      return ok({ verb, env, app });
    case 'drill':
    case 'unlock':
    case 'report':
      if (!env) return fail(`which environment? e.g. \`/rollout ${verb} qa\``, topic);
      return ok({ verb, env, app });
  }
}

/**
 * `/rollout lock|reject <env> [app] [reason]`: the word after the environment is an app only if it names a configured
 * app; the rest of the line is the reason, quotes optional (`db migration` and `"db migration"` are the same).
 */
function parseReasoned(verb: 'lock' | 'reject', rest: string, o: ParseOptions): ParseResult {
  const topic = 'rollout' as const;
  const [envWord, afterEnv = ''] = splitFirst(rest);
  if (!envWord) return fail(`which environment? e.g. \`/rollout ${verb} staging ${verb === 'lock' ? 'db migration' : 'not before the release notes'}\``, topic);
  const [maybeApp, afterApp = ''] = splitFirst(afterEnv);
  const isApp = maybeApp !== undefined && (o.apps ?? []).includes(maybeApp);
  const names = checkNames(envWord, isApp ? maybeApp : undefined, topic);
  if (!names.ok) return names.result;
  const reason = unquote(isApp ? afterApp : afterEnv);
  if ([...reason].length > MAX_REASON) return fail(`the reason is too long (at most ${MAX_REASON} characters)`, topic);
  return ok({ verb, env: names.env!, ...(names.app ? { app: names.app } : {}), ...(reason ? { reason } : {}) });
}

/** The first word of a text and the rest after its spaces. */
function splitFirst(text: string): [string | undefined, string | undefined] {
  const m = /^(\S+)\s*([^]*)$/u.exec(text.trim());
  return m ? [m[1], m[2]] : [undefined, undefined];
}

/** A reason as typed, without one pair of surrounding quotes (straight or curly) and with its spaces folded. */
function unquote(text: string): string {
  const t = text.trim().replace(/\s+/gu, ' ');
  const m = /^(["'“‘])([^]*)(["'”’])$/u.exec(t);
  return (m ? m[2]! : t).trim();
}

function parseErrors(words: string[]): ParseResult {
  const topic = 'errors' as const;
  const [action, ...rest] = words;
  if (action === undefined || isHelp(action)) return ok({ verb: 'help', topic });
  const a = action.toLowerCase();
  if (a !== 'on' && a !== 'off' && a !== 'status') return fail(`unknown action ${listed([action])} (on, off or status)`, topic);
  const flags = rest.filter((w) => w.startsWith('-'));
  if (flags.length) return fail(`unknown option ${listed(flags)}`, topic);
  if (rest.length === 0) return fail(`which environment? e.g. \`/errors ${a} qa\``, topic);
  if (rest.length > 2) return fail(`too many words: ${listed(rest.slice(2))}`, topic);
  const names = checkNames(rest[0], rest[1], topic);
  if (!names.ok) return names.result;
  return ok({ verb: 'errors', action: a, env: names.env!, app: names.app });
}

/**
 * Parses a GitHub comment, given as its lines of plain text (the GitHub adapter takes them out of the Markdown, so
 * code, quotes and HTML comments never get here): the first line that starts with a command (`/promote staging`,
 * `/rollout status qa`, `/errors on qa`). Returns undefined when no line holds a command (ordinary conversation).
 */
export function parseCommentCommand(lines: readonly string[], o: ParseOptions = {}): ParseResult | undefined {
  for (const raw of lines) {
    const m = /^\/(promote|rollout|errors)(?:\s+([^]*))?$/iu.exec(raw.trim());
    if (m) return parseCommand(m[1]!, m[2] ?? '', o);
  }
  return undefined;
}

function isHelp(word: string | undefined): boolean {
  return word !== undefined && ['help', '--help', '-h'].includes(word.toLowerCase());
}

/** Checks the environment and app words against the shapes names may have. */
function checkNames(envWord: string | undefined, app: string | undefined, topic: ParseError['topic']): { ok: true; env?: string; app?: string } | { ok: false; result: ParseResult } {
  const env = envWord?.toLowerCase();
  if (env !== undefined && !ENV_NAME.test(env)) return { ok: false, result: fail(`${listed([envWord!])} is not an environment name (lower-case letters, digits and dashes)`, topic) };
  if (app !== undefined && !APP_NAME.test(app)) return { ok: false, result: fail(`${listed([app])} is not an app name (letters, digits, dots, dashes or underscores)`, topic) };
  return { ok: true, env, app };
}

/** User words as code, at most three of them, each cut short: the answer echoes input without growing with it. */
function listed(words: string[]): string {
  const shownWords = words.slice(0, 3).map((w) => `\`${shown(w)}\``);
  return `${shownWords.join(', ')}${words.length > 3 ? ` and ${words.length - 3} more` : ''}`;
}

/** A word safe to echo inside a code span: no backticks, mention or link brackets, controls or bidi overrides. */
function shown(word: string): string {
  const clean = word.replace(/[`<>&\p{Cc}\p{Cf}]/gu, '');
  const chars = [...clean];
  return chars.length > 30 ? `${chars.slice(0, 30).join('')}…` : clean;
}

function ok(command: Command): ParseResult {
  return { ok: true, command };
}

function fail(error: string, topic: ParseError['topic']): ParseResult {
  return { ok: false, problem: { error, topic } };
}

/** Help text for a command, with an example of every form. */
export function helpText(topic?: 'promote' | 'rollout' | 'errors'): string {
  const promote = [
    '*`/promote <env> [app] [--full] [--dry-run] [--force]`*: promote the paused rollout of an environment, after checking its image tag in ECR.',
    '  e.g. `/promote staging` · `/promote qa voting01` · `/promote staging --dry-run` · `/promote qa --full`',
    '  I post a confirmation in the deploy thread; an approver confirms by typing `promote` there or pressing Promote within 10 minutes.',
    '  `--full` skips the remaining steps · `--dry-run` shows the exact patches and sends nothing · `--force` (approvers) promotes a tag not yet proven in the previous environment.',
  ];
  const rollout = [
    '*`/rollout status [env] [app]`*: the current state of each environment. e.g. `/rollout status` · `/rollout status qa`',
    '*`/rollout history [env] [app]`*: the last 10 deploys per environment. e.g. `/rollout history staging`',
    '*`/rollout abort [env] [app]`*: abort the rollout in progress (back to stable); without env, this channel\'s environment. e.g. `/rollout abort qa`',
    '*`/rollout retry [env] [app]`*: retry an aborted rollout; without env, this channel\'s environment. e.g. `/rollout retry qa`',
    '*`/rollout drill <env> [app]`*: a timed rollback drill on a canary in progress. e.g. `/rollout drill qa`',
    '*`/rollout lock <env> [app] [reason]`*: (approvers) refuse promotions and chain dispatches until unlocked; `--force` by an approver overrides. e.g. `/rollout lock staging db migration`',
    '*`/rollout unlock <env> [app]`*: (approvers) lift the lock. e.g. `/rollout unlock staging`',
    '*`/rollout reject <env> [app] [reason]`*: (approvers) refuse the requests waiting in the environment\'s deploy thread. e.g. `/rollout reject prod not before the release notes`',
    '*`/rollout report <env> [app]`*: a report of the environment\'s current or last deploy (timeline, how long it took and waited), in its thread. e.g. `/rollout report staging`',
    '*`/rollout help`*: this help.',
  ];
  const errors = ['*`/errors on|off|status <env> [app]`*: switch the app\'s error simulation for rollback drills. e.g. `/errors on qa` · `/errors status qa`'];
  const sections = topic === 'promote' ? promote : topic === 'errors' ? errors : topic === 'rollout' ? [...rollout, ...promote, ...errors] : [...promote, ...rollout, ...errors];
  return sections.join('\n');
}
