import type { Catalog, EnvTarget } from '../catalog.js';
import { shaFromTag } from './sha-from-tag.js';
import type { Logger } from '../logger.js';
import type { Clock, RepoHost } from '../ports.js';
import type { Stores } from '../store-ports.js';
import type { CommitRecord, ThreadRecord } from '../store-data.js';

export interface CommitTrackerDeps {
  catalog: Catalog;
  stores: Pick<Stores, 'commits' | 'threads' | 'flush'>;
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

  /** Commits live in the store (its history, with an index by sha prefix): the tracker keeps none in memory. */
  private put(c: CommitRecord): Promise<void> {
    return this.deps.stores.commits.put(c);
  }

  /** A push to a configured repo: records the default branch's commits and pairs waiting threads. */
  async recordPush(o: { repo: string; ref: string; defaultBranch: string; commits: PushedCommit[] }): Promise<number> {
    if (o.ref !== `refs/heads/${o.defaultBranch}`) return 0;
    const { stores } = this.deps;
    let recorded = 0;
    const shas: string[] = [];
    for (const c of o.commits) {
      const sha = c.id.toLowerCase();
      shas.push(sha);
      if ((await stores.commits.bySha(sha))?.source === 'api') continue;
      await this.put({
        sha,
        repo: o.repo.toLowerCase(),
        message: firstLine(c.message),
        authorName: c.author.name,
        authorLogin: c.author.username,
        url: c.url,
        at: c.timestamp ? Date.parse(c.timestamp) || this.deps.clock.now() : this.deps.clock.now(),
        source: 'push',
      });
      recorded++;
    }
    const paired = await this.pairAll(shas);
    await stores.flush();
    if (paired) this.deps.onChange();
    return recorded;
  }

  /**
   * Pairs the thread an observer hook is applying (the observer stores it) with its commit if it is known; otherwise
   * asks GitHub once. Returns true when the card changed.
   */
  async pair(thread: ThreadRecord, target: EnvTarget): Promise<boolean> {
    const sha = wantedSha(thread, target);
    if (!sha) return false;
    const commit = await this.find(target.app.repo, sha);
    // Through the port, so a database store gets the pairing too (the observer commits after its hooks).
    if (commit) return this.deps.stores.threads.setCommit(thread.key, { sha: commit.sha });
    if (!thread.commitLookedUp) void this.lookUp(thread, target, sha);
    return false;
  }

  /** The commit a thread carries, if paired. */
  async commitOf(thread: ThreadRecord): Promise<CommitRecord | undefined> {
    return thread.commitSha ? this.deps.stores.commits.bySha(thread.commitSha) : undefined;
  }

  private find(repo: string, sha: string): Promise<CommitRecord | undefined> {
    return this.deps.stores.commits.bySha(sha, repo.toLowerCase());
  }

  /** Pairs a stored thread through the store (not one an observer hook holds); true when this paired it. */
  private async pairStored(thread: ThreadRecord, target: EnvTarget): Promise<boolean> {
    const sha = wantedSha(thread, target);
    if (!sha) return false;
    const commit = await this.find(target.app.repo, sha);
    if (commit) return this.deps.stores.threads.setCommit(thread.key, { sha: commit.sha });
    if (!thread.commitLookedUp) void this.lookUp(thread, target, sha);
    return false;
  }

  /** Pairs threads still waiting for their commit; with `shas`, only those whose tag names one of them. */
  private async pairAll(shas?: string[]): Promise<boolean> {
    let changed = false;
    const prefixes = shas ? new Set(shas.map((s) => s.slice(0, 7))) : undefined;
    for (const thread of await this.deps.stores.threads.unpaired()) {
      if (thread.commitSha || !thread.tag) continue;
      if (prefixes && !prefixes.has(thread.tag.slice(0, 7).toLowerCase()) && !hasPattern(this.deps.catalog, thread)) continue;
      const target = this.deps.catalog.target(thread.app, thread.env);
      if (target && (await this.pairStored(thread, target))) changed = true;
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
      await this.deps.stores.threads.setCommit(thread.key, { lookedUp: true });
      if (commit) {
        await this.put({ ...commit, repo: commit.repo.toLowerCase() });
        await this.pairAll([commit.sha]);
      } else {
        this.deps.log.info({ repo: target.app.repo, sha, tag: thread.tag }, 'no commit on GitHub for the image tag');
      }
      await this.deps.stores.flush();
      this.deps.onChange();
    } catch (err) {
      // Not marked as looked up: the next change of the rollout tries again.
      this.deps.log.warn({ err, repo: target.app.repo, sha }, 'commit lookup failed');
    } finally {
      this.lookups.delete(key);
    }
  }
}

/** The sha a thread's tag names, when it still waits for its commit. */
function wantedSha(thread: ThreadRecord, target: EnvTarget): string | undefined {
  if (thread.commitSha || !thread.tag) return undefined;
  return shaFromTag(thread.tag, target.app.image.tagPattern);
}

/** Tags read through a tagPattern do not start with the sha, so the quick prefix filter cannot skip them. */
function hasPattern(catalog: Catalog, thread: ThreadRecord): boolean {
  return Boolean(catalog.app(thread.app)?.image.tagPattern);
}

function firstLine(message: string): string {
  return message.split(/\r?\n/, 1)[0]!.trim();
}
