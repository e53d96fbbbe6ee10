import type { Catalog, EnvTarget } from '../catalog.js';
import { shaFromTag } from '../deploys/sha-from-tag.js';
import type { Logger } from '../logger.js';
import type { Clock, RepoHost, StateStore } from '../ports.js';
import type { CommitRecord, ThreadRecord } from '../store-data.js';

export interface CommitTrackerDeps {
  catalog: Catalog;
  store: StateStore;
  clock: Clock;
  log: Logger;
  /** GitHub, when the GitHub App is configured. */
  repoHost?: RepoHost;
  /** Told when a card changed. */
  onChange: () => void;
}

/** A pushed commit as the push webhook describes it. */
export interface PushedCommit {
  id: string;
  message: string;
  url: string;
  timestamp?: string;
  author: { name: string; username?: string };
}

/**
 * Pairs deploys with the commits they carry, whichever arrives first: a push records commits and pairs the threads
 * already running their tag; a thread whose tag names a commit no push showed gets the commit from GitHub by sha,
 * so the card names the source commit's author, never a bot that committed manifests.
 */
export class CommitTracker {
  private readonly lookups = new Set<string>();

  constructor(private readonly deps: CommitTrackerDeps) {}

  /** A push to a configured repo: records the default branch's commits and pairs waiting threads. */
  async recordPush(o: { repo: string; ref: string; defaultBranch: string; commits: PushedCommit[] }): Promise<number> {
    if (o.ref !== `refs/heads/${o.defaultBranch}`) return 0;
    const { data } = this.deps.store;
    let recorded = 0;
    for (const c of o.commits) {
      const sha = c.id.toLowerCase();
      if (data.commits[sha]?.source === 'api') continue;
      data.commits[sha] = {
        sha,
        repo: o.repo.toLowerCase(),
        message: firstLine(c.message),
        authorName: c.author.name,
        authorLogin: c.author.username,
        url: c.url,
        at: c.timestamp ? Date.parse(c.timestamp) || this.deps.clock.now() : this.deps.clock.now(),
        source: 'push',
      };
      recorded++;
    }
    const paired = this.pairAll();
    await this.deps.store.flush();
    if (paired) this.deps.onChange();
    return recorded;
  }

  /** Pairs a thread with its commit if it is known; otherwise asks GitHub once. Returns true when the card changed. */
  pair(thread: ThreadRecord, target: EnvTarget): boolean {
    if (thread.commitSha || !thread.tag) return false;
    const sha = shaFromTag(thread.tag, target.app.image.tagPattern);
    if (!sha) return false;
    const commit = this.find(target.app.repo, sha);
    if (commit) {
      thread.commitSha = commit.sha;
      thread.cardVersion++;
      return true;
    }
    if (!thread.commitLookedUp) void this.lookUp(thread, target, sha);
    return false;
  }

  /** The commit a thread carries, if paired. */
  commitOf(thread: ThreadRecord): CommitRecord | undefined {
    return thread.commitSha ? this.deps.store.data.commits[thread.commitSha] : undefined;
  }

  private find(repo: string, sha: string): CommitRecord | undefined {
    const r = repo.toLowerCase();
    const exact = this.deps.store.data.commits[sha];
    if (exact && exact.repo === r) return exact;
    for (const c of Object.values(this.deps.store.data.commits)) if (c.repo === r && c.sha.startsWith(sha)) return c;
    return undefined;
  }

  private pairAll(): boolean {
    let changed = false;
    for (const thread of Object.values(this.deps.store.data.threads)) {
      if (thread.commitSha) continue;
      const target = this.deps.catalog.target(thread.app, thread.env);
      if (target && this.pair(thread, target)) changed = true;
    }
    return changed;
  }

  private async lookUp(thread: ThreadRecord, target: EnvTarget, sha: string): Promise<void> {
    const host = this.deps.repoHost;
    const key = `${target.app.repo}@${sha}`;
    if (!host || this.lookups.has(key)) return;
    this.lookups.add(key);
    try {
      const commit = await host.getCommit(target.app.repo, sha);
      thread.commitLookedUp = true;
      if (commit) {
        this.deps.store.data.commits[commit.sha] = { ...commit, repo: commit.repo.toLowerCase() };
        this.pairAll();
      } else {
        this.deps.log.info({ repo: target.app.repo, sha, tag: thread.tag }, 'no commit on GitHub for the image tag');
      }
      await this.deps.store.flush();
      this.deps.onChange();
    } catch (err) {
      // Not marked as looked up: the next change of the rollout tries again.
      this.deps.log.warn({ err, repo: target.app.repo, sha }, 'commit lookup failed');
    } finally {
      this.lookups.delete(key);
    }
  }
}

function firstLine(message: string): string {
  return message.split(/\r?\n/, 1)[0]!.trim();
}
