import type { Catalog } from '../catalog.js';
import type { CommandService } from '../commands/command-service.js';
import { helpText, parseCommentCommand, type Command } from '../commands/parse-command.js';
import { resolveTargets } from '../commands/resolve-target.js';
import type { Logger } from '../logger.js';
import { leastOf, permits } from '../policy/permission.js';
import type { RepoHost, RepoPermission } from '../ports.js';
import { slackToMarkdown } from '../render/to-markdown.js';

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
  body: string;
}

export interface CommentCommandsDeps {
  catalog: Catalog;
  commands: CommandService;
  repoHost: RepoHost;
  log: Logger;
  /** Mirrors what happened into the environment's current Slack deploy thread (if it has one). */
  mirror: (o: { app: string; env: string; key: string; text: string }) => Promise<void>;
}

/**
 * Runs commands typed in GitHub comments through the same pipeline as Slack: 👀 on receipt, the commenter's repo
 * permission checked against the environment's `approvers.githubPermission`, the answer as a comment, and the action
 * mirrored into the Slack deploy thread. A comment with no command is conversation, and is left alone.
 */
export class CommentCommands {
  constructor(private readonly deps: CommentCommandsDeps) {}

  /** Whether a comment holds a command at all (cheap; decides if the webhook needs more work). */
  static holdsCommand(body: string): boolean {
    return parseCommentCommand(body) !== undefined;
  }

  async handle(c: IncomingComment): Promise<void> {
    if (c.userIsBot) return;
    const parsed = parseCommentCommand(c.body);
    if (!parsed) return;
    const { repoHost, log } = this.deps;
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
    const reply = await this.deps.commands.run(command, { source: 'github', user: c.user, repo: c.repo });
    await this.answer(c, reply.markdown ?? slackToMarkdown(reply.text));
    const link = c.commentUrl ? `<${c.commentUrl}|${where}>` : where;
    for (const t of resolved.targets) {
      await this.deps.mirror({ app: t.app.name, env: t.env.name, key: `gh:${c.deliveryId}`, text: `💬 GitHub: @${c.user} ran \`${commandText(command)}\` on ${link}` });
    }
  }

  private async answer(c: IncomingComment, body: string): Promise<void> {
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
    default:
      return ['/rollout', c.verb, c.env, c.app].filter(Boolean).join(' ');
  }
}
