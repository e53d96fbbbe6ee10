import { rolloutName, type Catalog, type EnvTarget } from '../catalog.js';
import { memberEnvKey } from '../rollout-threads/deploy-group.js';
import type { Clock } from '../ports.js';
import type { ThreadRecord } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import { describePhase, describeProgress, primaryTag } from '../rollout/describe-state.js';
import { esc, who } from '../text/mrkdwn.js';
import { relativeTime } from '../text/relative-time.js';
import { slackToMarkdown } from '../text/to-markdown.js';
import { helpText, type Command } from './parse-command.js';
import { resolveTargets } from './resolve-target.js';
import type { CommandContext, CommandReply } from './command-types.js';

export type { CommandContext, CommandReply };

/** Handles a verb for one environment; registered by the features that own it (promotion, error simulation, drills). */
export type VerbHandler = (o: { command: Command; target: EnvTarget; ctx: CommandContext }) => Promise<CommandReply>;

export interface CommandServiceDeps {
  catalog: Catalog;
  stores: Pick<Stores, 'threads' | 'envs'>;
  clock: Clock;
  /** Link to a message, for pointing at threads. */
  permalink: (channel: string, ts: string) => string;
  /** Author line of a thread's commit, when known (GitHub pairing). */
  authorOf?: (thread: ThreadRecord) => string | undefined | Promise<string | undefined>;
  /** What holds an environment (a lock or a freeze window now), as `/rollout status` shows it under its line. */
  holdLine?: (target: EnvTarget) => Promise<string | undefined>;
}

/**
 * The one command pipeline for Slack and GitHub: resolves the environment, then answers help, status and history itself
 * and hands promote, abort, retry, drill and errors to the feature that registered for the verb.
 */
export class CommandService {
  private readonly handlers = new Map<string, VerbHandler>();

  constructor(private readonly deps: CommandServiceDeps) {}

  /** Registers the handler of a verb (`promote`, `abort`, `retry`, `drill`, `errors`). */
  register(verb: string, handler: VerbHandler): void {
    this.handlers.set(verb, handler);
  }

  async run(command: Command, ctx: CommandContext): Promise<CommandReply> {
    if (command.verb === 'help') return { text: helpText(command.topic) };
    const single = command.verb !== 'status' && command.verb !== 'history';
    let env = command.env;
    if (!env && (command.verb === 'abort' || command.verb === 'retry')) {
      // Typed in an environment's own channel: that environment.
      const wantedApp = command.app;
      const here = this.deps.catalog.targets.filter((t) => t.env.slackChannel === ctx.channel && (!wantedApp || t.app.name === wantedApp));
      if (here.length !== 1) return { text: `❓ which environment? e.g. \`/rollout ${command.verb} qa\`${here.length > 1 ? ` (this channel has ${here.map((t) => `${t.app.name} ${t.env.name}`).join(', ')})` : ''}` };
      env = here[0]!.env.name;
      command = { ...command, env, app: here[0]!.app.name };
    }
    const resolved = resolveTargets(this.deps.catalog, { env, app: command.app, repo: ctx.repo, single });
    if (!resolved.ok) return { text: `❓ ${resolved.error}` };
    if (command.verb === 'status') return this.status(resolved.targets);
    if (command.verb === 'history') return this.history(resolved.targets);
    const target = resolved.targets[0]!;
    const handler = this.handlers.get(command.verb);
    if (!handler) return { text: `🚧 \`${command.verb}\` is not yet enabled for ${target.app.name} ${target.env.name}.` };
    return handler({ command, target, ctx });
  }

  /** The configured app names (the parser needs them: in `lock`, a word after the env is an app only if it names one). */
  appNames(): string[] {
    return this.deps.catalog.config.apps.map((a) => a.name);
  }

  /** The current thread of an environment, if any (for `/rollout status`). */
  private currentThread(target: EnvTarget): Promise<ThreadRecord | undefined> {
    return this.deps.stores.threads.current(target.key);
  }

  private async status(targets: EnvTarget[]): Promise<CommandReply> {
    const lines: string[] = [];
    const md: string[] = [];
    for (const t of targets) {
      const rec = await this.deps.stores.envs.get(t.key);
      const thread = await this.currentThread(t);
      const state = thread?.lastState ?? rec.baseline;
      const name = `${t.app.name} · ${t.env.name}`;
      const hold = await this.deps.holdLine?.(t);
      const held = () => {
        if (hold) lines.push(`    ${hold}`);
        if (hold) md.push(`  ${slackToMarkdown(hold)}`);
      };
      if (this.deps.catalog.isGroup(t)) {
        await this.groupStatus(t, thread, lines, md);
        held();
        continue;
      }
      if (!state) {
        const why = rec.missingNoticed ? `rollout \`${t.env.namespace}/${rolloutName(t)}\` not found` : 'not seen yet';
        lines.push(`*${esc(name)}*: ${why}`);
        md.push(`**${name}**: ${why}`);
        held();
        continue;
      }
      const facts = [describePhase(state), primaryTag(state) ? `tag \`${primaryTag(state)}\`` : undefined, describeProgress(state), `revision ${state.revision}`].filter(Boolean).join(' · ');
      const link = thread?.rootTs ? ` · <${this.deps.permalink(thread.channel, thread.rootTs)}|thread>` : '';
      lines.push(`*${esc(name)}*: ${esc(facts)}${link}`);
      md.push(`**${name}**: ${facts}`);
      held();
    }
    return { text: lines.join('\n'), markdown: md.join('\n') };
  }

  /** A several-rollout environment: a line per rollout, each from its own current revision (or what was seen first). */
  private async groupStatus(t: EnvTarget, lead: ThreadRecord | undefined, lines: string[], md: string[]): Promise<void> {
    const name = `${t.app.name} · ${t.env.name}`;
    const link = lead?.rootTs ? ` · <${this.deps.permalink(lead.channel, lead.rootTs)}|thread>` : '';
    lines.push(`*${esc(name)}*${link}`);
    md.push(`**${name}**`);
    for (const r of this.deps.catalog.rollouts(t)) {
      const rec = await this.deps.stores.envs.get(memberEnvKey(this.deps.catalog, t, r.rollout));
      const thread = rec.threadKey ? await this.deps.stores.threads.byKey(rec.threadKey) : undefined;
      const state = thread?.lastState ?? rec.baseline;
      const facts = state
        ? [describePhase(state), primaryTag(state) ? `tag \`${primaryTag(state)}\`` : undefined, describeProgress(state), `revision ${state.revision}`].filter(Boolean).join(' · ')
        : rec.missingNoticed ? `rollout \`${t.env.namespace}/${r.rollout}\` not found` : 'not seen yet';
      lines.push(`    • \`${esc(r.rollout)}\`: ${esc(facts)}`);
      md.push(`  - \`${r.rollout}\`: ${facts}`);
    }
  }

  private async history(targets: EnvTarget[]): Promise<CommandReply> {
    const now = this.deps.clock.now();
    const lines: string[] = [];
    for (const t of targets) {
      const threads = await this.deps.stores.threads.ofEnv(t.key, { limit: 10 });
      lines.push(`*${esc(t.app.name)} · ${esc(t.env.name)}*${threads.length ? '' : ': no deploys recorded yet'}`);
      for (const th of threads) {
        const tag = th.tag ?? (th.lastState ? primaryTag(th.lastState) : undefined) ?? `revision ${th.revision}`;
        const author = await this.deps.authorOf?.(th);
        const outcome = outcomeOf(th);
        const link = th.rootTs ? ` · <${this.deps.permalink(th.channel, th.rootTs)}|thread>` : '';
        const label = th.group || th.groupOf ? `${esc(th.rollout)} ` : '';
        lines.push(`• ${label}\`${esc(shortTag(tag))}\` · ${relativeTime(th.startedAt, now)}${author ? ` · ${esc(author)}` : ''} · ${outcome}${link}`);
      }
    }
    return { text: lines.join('\n') };
  }
}

function shortTag(tag: string): string {
  return tag.length > 24 ? `${tag.slice(0, 24)}…` : tag;
}

function outcomeOf(th: ThreadRecord): string {
  const promoted = [...new Set(th.actions.filter((a) => a.what.startsWith('promoted')).map((a) => who(a.who)))];
  const by = promoted.length ? ` (promoted by ${promoted.join(', ')})` : '';
  const others = th.actions.filter((a) => !a.what.startsWith('promoted') || a.what.includes('override')).map((a) => `${esc(a.what)} by ${who(a.who)}`);
  const extra = others.length ? ` · ${others.join(', ')}` : '';
  switch (th.outcome) {
    case 'completed':
      return `completed${by}${extra}`;
    case 'aborted':
      return `aborted${th.lastState?.abortReason ? `: ${esc(th.lastState.abortReason)}` : ''}${extra}`;
    case 'superseded':
      return `superseded${extra}`;
    default:
      return `in progress${th.lastState ? ` (${esc(describePhase(th.lastState))})` : ''}${by}${extra}`;
  }
}
