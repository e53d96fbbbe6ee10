/** A command people type, parsed. The same shapes come from Slack slash commands, thread replies and PR comments. */
export type Command =
  | { verb: 'promote'; env: string; app?: string; full: boolean; dryRun: boolean; force: boolean }
  | { verb: 'status'; env?: string; app?: string }
  | { verb: 'history'; env?: string; app?: string }
  | { verb: 'abort'; env?: string; app?: string }
  | { verb: 'retry'; env?: string; app?: string }
  | { verb: 'drill'; env: string; app?: string }
  | { verb: 'errors'; action: 'on' | 'off' | 'status'; env: string; app?: string }
  | { verb: 'help'; topic?: 'promote' | 'rollout' | 'errors' };

/** Parsing failed: what was wrong, and the help to show with it. */
export interface ParseError {
  error: string;
  topic: 'promote' | 'rollout' | 'errors';
}

export type ParseResult = { ok: true; command: Command } | { ok: false; problem: ParseError };

const PROMOTE_FLAGS = new Set(['--full', '--dry-run', '--force']);

/**
 * Parses the text after a slash command: `command` is `/promote`, `/rollout` or `/errors`, `text` the rest.
 * Unknown words and flags are errors that come back with the help for that command.
 */
export function parseCommand(command: string, text: string): ParseResult {
  const name = command.replace(/^\//, '').toLowerCase();
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (name === 'promote') return parsePromote(words);
  if (name === 'rollout') return parseRollout(words);
  if (name === 'errors') return parseErrors(words);
  return { ok: false, problem: { error: `unknown command /${name}`, topic: 'rollout' } };
}

function parsePromote(words: string[]): ParseResult {
  const topic = 'promote' as const;
  if (words.length === 0 || words[0] === 'help') return words.length === 0 ? fail('which environment? e.g. `/promote staging`', topic) : ok({ verb: 'help', topic });
  const flags = words.filter((w) => w.startsWith('-'));
  const args = words.filter((w) => !w.startsWith('-'));
  const unknown = flags.filter((f) => !PROMOTE_FLAGS.has(f.toLowerCase()));
  if (unknown.length) return fail(`unknown option ${unknown.join(', ')} (options: --full, --dry-run, --force)`, topic);
  if (args.length > 2) return fail(`too many words: \`${args.slice(2).join(' ')}\``, topic);
  const lower = new Set(flags.map((f) => f.toLowerCase()));
  return ok({ verb: 'promote', env: args[0]!.toLowerCase(), app: args[1], full: lower.has('--full'), dryRun: lower.has('--dry-run'), force: lower.has('--force') });
}

function parseRollout(words: string[]): ParseResult {
  const topic = 'rollout' as const;
  const [sub, ...rest] = words;
  if (!sub || sub === 'help') return ok({ verb: 'help', topic });
  const flags = rest.filter((w) => w.startsWith('-'));
  if (flags.length) return fail(`unknown option ${flags.join(', ')}`, topic);
  if (rest.length > 2) return fail(`too many words: \`${rest.slice(2).join(' ')}\``, topic);
  const env = rest[0]?.toLowerCase();
  const app = rest[1];
  switch (sub.toLowerCase()) {
    case 'status':
      return ok({ verb: 'status', env, app });
    case 'history':
      return ok({ verb: 'history', env, app });
    case 'abort':
    case 'retry':
      // Without an environment, the channel's own environment is meant (resolved by the command service).
      return ok({ verb: sub.toLowerCase() as 'abort' | 'retry', env, app });
    case 'drill': {
      if (!env) return fail('which environment? e.g. `/rollout drill qa`', topic);
      return ok({ verb: 'drill', env, app });
    }
    default:
      return fail(`unknown subcommand \`${sub}\``, topic);
  }
}

function parseErrors(words: string[]): ParseResult {
  const topic = 'errors' as const;
  const [action, ...rest] = words;
  if (!action || action === 'help') return ok({ verb: 'help', topic });
  const a = action.toLowerCase();
  if (a !== 'on' && a !== 'off' && a !== 'status') return fail(`unknown action \`${action}\` (on, off or status)`, topic);
  if (rest.length === 0) return fail(`which environment? e.g. \`/errors ${a} qa\``, topic);
  if (rest.length > 2) return fail(`too many words: \`${rest.slice(2).join(' ')}\``, topic);
  return ok({ verb: 'errors', action: a, env: rest[0]!.toLowerCase(), app: rest[1] });
}

/**
 * Parses a GitHub comment: the first line that starts with a command (`/promote staging`, `/rollout status qa`,
 * `/errors on qa`). Returns undefined when the comment holds no command at all (ordinary conversation).
 */
export function parseCommentCommand(body: string): ParseResult | undefined {
  for (const raw of body.split(/\r?\n/)) {
    const line = raw.trim();
    const m = /^\/(promote|rollout|errors)(?:\s+(.*))?$/i.exec(line);
    if (m) return parseCommand(m[1]!, m[2] ?? '');
  }
  return undefined;
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
    '*`/rollout help`*: this help.',
  ];
  const errors = ['*`/errors on|off|status <env> [app]`*: switch the app\'s error simulation for rollback drills. e.g. `/errors on qa` · `/errors status qa`'];
  const sections = topic === 'promote' ? promote : topic === 'errors' ? errors : topic === 'rollout' ? [...rollout, ...promote, ...errors] : [...promote, ...rollout, ...errors];
  return sections.join('\n');
}
