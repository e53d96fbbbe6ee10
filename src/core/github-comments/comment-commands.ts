import type { Catalog, EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-types.js';
import { helpText, parseCommentCommand, type Command, type ParseResult } from '../commands/parse-command.js';
import { resolveTargets } from '../commands/resolve-target.js';
import type { Logger } from '../logger.js';
import { changesSomething, githubApproval, isListedGithubUser } from '../policy/github-approvers.js';
import { leastOf, permits } from '../policy/permission.js';
import type { Clock, RepoHost, RepoPermission } from '../ports.js';
import { renderFailure } from '../commands/render-failure.js';
import { slackToMarkdown } from '../text/to-markdown.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';

/** A comment written longer ago than this is not acted on: a command is meant now, and a replay is refused by age. */
export const MAX_COMMENT_AGE_MS = 10 * 60_000;

/** A new comment on an issue or PR of a configured repo. */
export interface IncomingComment {
  deliveryId: string;
  repo: string;
  issueNumber: number;
  isPullRequest: boolean;
  commentId: number;
  commentUrl?: string;
  user: string;
  userIsBot: boolean;
  /**
   * The comment's lines of plain text, as the GitHub adapter read them from its Markdown: code blocks, indented
   * code, HTML comments and block quotes are already left out, so a command shown there never gets here.
   */
  lines: string[];
  /** The part of the comment holding commands was too long to read (the adapter's parse bound). */
  tooLong?: boolean;
  /** When the comment was written (ms since the epoch, from GitHub's `created_at`). */
  createdAt: number;
}

export interface CommentCommandsDeps {
  catalog: Catalog;
  /** The command pipeline Slack uses too (the composition root hands in the command service). */
  commands: { run(command: Command, ctx: CommandContext): Promise<CommandReply> };
  /** Where an environment's deploy thread is (to point a commenter at it). */
  kernel: Pick<ThreadKernel, 'current'>;
  repoHost: RepoHost;
  clock: Clock;
  log: Logger;
  /** Link to a Slack message, for pointing at an environment's deploy thread. */
  permalink: (channel: string, ts: string) => string;
  /** Mirrors what happened into the environment's current Slack deploy thread (if it has one). */
  mirror: (o: { app: string; env: string; key: string; text: string }) => Promise<void>;
}

/**
 * Runs commands typed in GitHub comments through the same pipeline as Slack: 👀 on receipt, the commenter's repo
 * permission checked against the environment's `approvers.githubPermission`, changing commands held to the
 * environment's GitHub approvers (or sent to Slack where only Slack approvers are named), the answer as a comment,
 * and the action mirrored into the Slack deploy thread. A comment with no command is conversation, and is left alone.
 */
/** The adapter reads commands from at most this much of a comment (its Markdown parse bound). */
export const MAX_COMMENT_COMMAND_CHARS = 8_192;

export class CommentCommands {
  constructor(private readonly deps: CommentCommandsDeps) {}

  /** Whether a comment holds a command at all (cheap; decides if the webhook needs more work). */
  static holdsCommand(lines: readonly string[]): boolean {
    return parseCommentCommand(lines) !== undefined;
  }

  async handle(c: IncomingComment): Promise<void> {
    if (c.userIsBot) return;
    const parsed: ParseResult | undefined = c.tooLong
      ? { ok: false, problem: { error: `this comment is too long for me to read commands from (over ${Math.round(MAX_COMMENT_COMMAND_CHARS / 1024)} KB up to its last command); put the command in a short comment of its own`, topic: 'rollout' } }
      : parseCommentCommand(c.lines, { apps: this.appNames() });
    if (!parsed) return;
    const { repoHost, log } = this.deps;
    const age = this.deps.clock.now() - c.createdAt;
    if (!(age <= MAX_COMMENT_AGE_MS)) {
      log.warn({ repo: c.repo, comment: c.commentId, ageMs: age, delivery: c.deliveryId }, 'comment command too old, ignored');
      await this.answer(c, `⌛ @${c.user}, this comment was written ${Number.isFinite(age) ? `${Math.round(age / 60_000)} minutes` : 'too long'} before it reached me, too old to act on (commands count for ${MAX_COMMENT_AGE_MS / 60_000} minutes). Nothing was done; write the command again in a new comment.`);
      return;
    }
    await repoHost.react(c.repo, c.commentId, 'eyes').catch((err: unknown) => log.warn({ err, repo: c.repo, comment: c.commentId }, 'reaction failed'));
    const where = c.isPullRequest ? `PR #${c.issueNumber}` : `issue #${c.issueNumber}`;

    if (!parsed.ok) {
      await this.answer(c, `❓ ${parsed.problem.error}\n\n${slackToMarkdown(helpText(parsed.problem.topic))}`);
      return;
    }
    const command = parsed.command;
    if (command.verb === 'help') {
      await this.answer(c, slackToMarkdown(helpText(command.topic)));
      return;
    }
    const single = command.verb !== 'status' && command.verb !== 'history';
    const resolved = resolveTargets(this.deps.catalog, { env: command.env, app: command.app, repo: c.repo, single });
    if (!resolved.ok) {
      await this.answer(c, `❓ ${slackToMarkdown(resolved.error)}`);
      return;
    }
    const required = leastOf(resolved.targets.map((t) => (t.env.approvers?.githubPermission ?? 'write') as RepoPermission));
    let actual: RepoPermission;
    try {
      actual = await repoHost.permission(c.repo, c.user);
    } catch (err) {
      log.error({ err, repo: c.repo, user: c.user }, 'permission check failed');
      await this.answer(c, `⚠️ I could not check your permission on ${c.repo} (${(err as Error).message}), so I did nothing. Try again in a moment.`);
      return;
    }
    const envs = resolved.targets.map((t) => t.env.name).join(', ');
    if (!permits(actual, required)) {
      await this.answer(c, `🚫 @${c.user}, \`${commandText(command)}\` in ${envs} needs **${required}** permission on ${c.repo}; you have **${actual}**. Nothing was done.`);
      return;
    }
    if (changesSomething(command)) {
      for (const t of resolved.targets) {
        const refusal = await this.approverRefusal(c, command, t);
        if (refusal) {
          await this.answer(c, refusal);
          return;
        }
      }
    }
    const reply = await this.deps.commands.run(command, { source: 'github', user: c.user, repo: c.repo });
    await this.answer(c, reply.markdown ?? slackToMarkdown(reply.text));
    const link = c.commentUrl ? `<${c.commentUrl}|${where}>` : where;
    try {
      for (const t of resolved.targets) {
        await this.deps.mirror({ app: t.app.name, env: t.env.name, key: `gh:${c.deliveryId}`, text: `💬 GitHub: @${c.user} ran \`${commandText(command)}\` on ${link}` });
      }
    } catch (err) {
      // The command ran and was answered: only the note in Slack is missing.
      log.error({ err, repo: c.repo, comment: c.commentId }, 'mirroring a comment command into slack failed');
    }
  }

  /**
   * Reading or handling the comment threw before its command changed anything (handle() answers everything after):
   * the commenter is told so in a reply comment.
   */
  async failed(c: Pick<IncomingComment, 'deliveryId' | 'repo' | 'issueNumber' | 'commentId' | 'user' | 'lines'>, err: unknown): Promise<void> {
    this.deps.log.error({ err, repo: c.repo, comment: c.commentId, delivery: c.deliveryId }, 'comment command failed');
    const parsed = parseCommentCommand(c.lines, { apps: this.appNames() });
    const what = `@${c.user}, ${parsed?.ok ? `\`${commandText(parsed.command)}\`` : 'your command'}`;
    await this.answer(c, slackToMarkdown(renderFailure({ what, error: err })));
  }

  /** Why this commenter may not run a changing command in the environment, or undefined when they may. */
  private async approverRefusal(c: IncomingComment, command: Command, t: EnvTarget): Promise<string | undefined> {
    const approval = githubApproval(t);
    const what = `\`${commandText(command)}\``;
    const name = `${t.app.name} ${t.env.name}`;
    if (approval.kind === 'anyone') return undefined;
    if (approval.kind === 'slack-only') {
      const thread = await this.deps.kernel.current(t);
      const place = thread?.rootTs
        ? `Confirm it in the [Slack deploy thread](${this.deps.permalink(thread.channel, thread.rootTs)})`
        : `Confirm it in Slack (channel ${t.env.slackChannel}; no deploy thread yet)`;
      return `🔒 @${c.user}, ${name} takes ${what} from its Slack approvers only, so nothing was done here. ${place}: an approver there confirms it.`;
    }
    if (isListedGithubUser(approval, c.user)) return undefined;
    for (const team of approval.teams) {
      try {
        if (await this.deps.repoHost.isTeamMember({ repo: c.repo, org: team.org, team: team.team, user: c.user })) return undefined;
      } catch (err) {
        this.deps.log.error({ err, repo: c.repo, user: c.user, team: `${team.org}/${team.team}` }, 'team membership check failed');
        return `⚠️ I could not check whether @${c.user} is in ${team.org}/${team.team} (${(err as Error).message}), so I did nothing. Try again in a moment.`;
      }
    }
    const who = [...approval.users.map((u) => `@${u}`), ...approval.teams.map((x) => `@${x.org}/${x.team}`)].join(', ');
    return `🚫 @${c.user}, ${what} in ${name} by comment is for ${who} only. Nothing was done.`;
  }

  /** The configured app names: in `lock`, a word after the environment is an app only if it names one. */
  private appNames(): string[] {
    return this.deps.catalog.config.apps.map((a) => a.name);
  }

  private async answer(c: Pick<IncomingComment, 'repo' | 'issueNumber'>, body: string): Promise<void> {
    try {
      await this.deps.repoHost.comment(c.repo, c.issueNumber, body);
    } catch (err) {
      this.deps.log.error({ err, repo: c.repo, issue: c.issueNumber }, 'comment reply failed');
    }
  }
}

/** The command as people type it, for echoing. */
export function commandText(c: Command): string {
  switch (c.verb) {
    case 'promote':
      return ['/promote', c.env, c.app, c.full && '--full', c.dryRun && '--dry-run', c.force && '--force'].filter(Boolean).join(' ');
    case 'errors':
      return ['/errors', c.action, c.env, c.app].filter(Boolean).join(' ');
    case 'help':
      return '/rollout help';
    case 'lock':
    case 'reject':
      return [`/rollout ${c.verb}`, c.env, c.app, c.reason && `"${c.reason.replace(/[`<>&\p{Cc}]/gu, '')}"`].filter(Boolean).join(' ');
    default:
      return ['/rollout', c.verb, c.env, c.app].filter(Boolean).join(' ');
  }
}
