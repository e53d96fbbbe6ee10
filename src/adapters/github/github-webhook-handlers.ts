import type { Catalog } from '../../core/catalog.js';
import type { Logger } from '../../core/logger.js';
import type { Clock } from '../../core/ports.js';
import type { Stores } from '../../core/store-ports.js';
import type { CommitTracker } from '../../core/commits/commit-tracker.js';
import { CommentCommands } from '../../core/github-comments/comment-commands.js';
import { commentCommandLines } from './comment-command-lines.js';
import type { ReadWebhook } from './github-webhook-payloads.js';

export interface GithubWebhookDeps {
  catalog: Catalog;
  /** Deliveries handled (claimed once, durably) and the installation id per repo. */
  stores: Pick<Stores, 'claims' | 'installations'>;
  clock: Clock;
  log: Logger;
  commits: CommitTracker;
  comments: CommentCommands;
  /** Counts deliveries by event and outcome. */
  count?: (event: string, outcome: string) => void;
  /** Work still running after the response, so shutdown can wait for it. */
  track: (work: Promise<unknown>) => void;
}

/** How many push delivery ids are remembered (GitHub redelivers within minutes; a push is idempotent anyway). */
const RECENT_PUSHES = 10_000;

/** A verified delivery whose payload was checked against its event's schema (guard-github-webhook.ts). */
export type GithubDelivery = { id: string } & ReadWebhook;

/**
 * What the bot does with a verified delivery: pushes record commits; new comments run commands. Every delivery is
 * handled once, even when GitHub or an admin redelivers it (the delivery id is stored before anything is done). Slow
 * work runs after the response. A rejection is answered with its `status` (500 when it has none).
 */
export function githubWebhookHandlers(deps: GithubWebhookDeps): (delivery: GithubDelivery) => Promise<void> {
  /** Claims a delivery, durably once it resolves: true for exactly one of any number of concurrent duplicates. */
  const claim = async (id: string, event: string): Promise<boolean> => {
    if (await deps.stores.claims.claim(`gh:${id}`, deps.clock.now())) return true;
    deps.count?.(event, 'duplicate');
    deps.log.info({ delivery: id, event }, 'webhook delivery already handled, ignored');
    return false;
  };
  // Pushes are idempotent (commits keyed by sha), so their delivery ids need no disk: the last 10,000 in memory are
  // enough. They leave in the order they came (a ring), not by taking a Set's first entry: that walks past every
  // entry deleted since the Set last rehashed, thousands per push under load.
  const recentPushes = new Set<string>();
  const pushRing: string[] = [];
  let ringAt = 0;
  const claimPush = async (id: string): Promise<boolean> => {
    // Taken in memory before the await, so a concurrent duplicate is caught too.
    const fresh = !recentPushes.has(id);
    if (fresh) {
      recentPushes.add(id);
      if (pushRing.length < RECENT_PUSHES) pushRing.push(id);
      else {
        recentPushes.delete(pushRing[ringAt]!);
        pushRing[ringAt] = id;
        ringAt = (ringAt + 1) % RECENT_PUSHES;
      }
    }
    if (fresh && !(await deps.stores.claims.seen(`gh:${id}`))) return true;
    deps.count?.('push', 'duplicate');
    return false;
  };
  /** Keeps the repo's installation id; written only when it changed (every push carries it, and it rarely changes). */
  const remember = async (repo: string, installation: { id: number } | null | undefined) => {
    if (!installation?.id) return;
    const key = repo.toLowerCase();
    if ((await deps.stores.installations.get(key)) !== installation.id) await deps.stores.installations.set(key, installation.id);
  };

  const onPush = async (id: string, p: Extract<ReadWebhook, { kind: 'push' }>['payload']): Promise<void> => {
    const repo = p.repository.full_name;
    if (deps.catalog.appsForRepo(repo).length === 0) return deps.count?.('push', 'ignored');
    if (!(await claimPush(id))) return;
    await remember(repo, p.installation);
    // Recording commits is idempotent (keyed by sha), so GitHub gets its answer without waiting for the disk.
    const work = deps.commits.recordPush({
      repo,
      ref: p.ref,
      defaultBranch: p.repository.default_branch ?? p.repository.master_branch ?? 'main',
      commits: p.commits.map((c) => ({ id: c.id, message: c.message, url: c.url, timestamp: c.timestamp, author: { name: c.author.name, username: c.author.username } })),
    });
    deps.count?.('push', 'ok');
    deps.track(work.then((recorded) => deps.log.debug({ repo, ref: p.ref, recorded }, 'push recorded')).catch((err: unknown) => deps.log.error({ err, repo }, 'recording a push failed')));
  };

  const onComment = async (id: string, p: Extract<ReadWebhook, { kind: 'issue_comment.created' }>['payload']): Promise<void> => {
    const repo = p.repository.full_name;
    if (deps.catalog.appsForRepo(repo).length === 0) return deps.count?.('issue_comment', 'ignored');
    // Only plain text counts: a command inside code, a quote or an HTML comment is an example, not an order.
    const { lines, tooLong } = commentCommandLines(p.comment.body ?? '');
    if (!tooLong && !CommentCommands.holdsCommand(lines)) return deps.count?.('issue_comment', 'ignored');
    const user = p.comment.user;
    const isBot = user?.type === 'Bot' || (user?.login ?? '').endsWith('[bot]') || p.sender?.type === 'Bot';
    if (isBot) return deps.count?.('issue_comment', 'ignored');
    const failed = (err: unknown) => deps.comments.failed({ deliveryId: id, repo, issueNumber: p.issue.number, commentId: p.comment.id, user: user?.login ?? 'unknown', lines }, err);
    // The claims are on disk before anything is done, so a redelivery after a crash is still caught. A comment is
    // acted on once, whatever delivery carries it: a replay of its signed bytes under a new delivery id is caught by
    // the second claim. The edit time is part of its key, so an edited comment would count as a new command.
    try {
      if (!(await claim(id, 'issue_comment'))) return;
      if (!(await claim(`comment:${p.comment.id}:${p.comment.updated_at}`, 'issue_comment'))) return;
      await remember(repo, p.installation);
    } catch (err) {
      // The store could not take the claim: the commenter is told the command failed (and the log says why).
      deps.track(failed(err));
      return;
    }
    deps.count?.('issue_comment', 'ok');
    // Answer GitHub now; the command (ECR checks, patches, comments) runs after the response.
    deps.track(
      deps.comments
        .handle({
          deliveryId: id,
          repo,
          issueNumber: p.issue.number,
          isPullRequest: Boolean(p.issue.pull_request),
          commentId: p.comment.id,
          commentUrl: p.comment.html_url,
          user: user?.login ?? 'unknown',
          userIsBot: isBot,
          lines,
          tooLong,
          createdAt: Date.parse(p.comment.created_at),
        })
        // Whatever failed, the commenter gets an answer (and the log says what it was).
        .catch(failed),
    );
  };

  return async (d) => {
    if (d.kind === 'push') return onPush(d.id, d.payload);
    if (d.kind === 'issue_comment.created') return onComment(d.id, d.payload);
  };
}
