import type { Catalog, EnvTarget } from '../catalog.js';
import { shaFromTag } from './sha-from-tag.js';
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
  /** Commits by the first 7 characters of their sha (built lazily from the store, kept current as commits arrive). */
  private index: Map<string, CommitRecord[]> | undefined;

  constructor(private readonly deps: CommitTrackerDeps) {}

  private byPrefix(): Map<string, CommitRecord[]> {
    if (!this.index) {
      this.index = new Map();
      for (const c of Object.values(this.deps.store.data.commits)) this.indexCommit(c);
    }
    return this.index;
  }

  private indexCommit(c: CommitRecord): void {
    const key = c.sha.slice(0, 7);
    const list = this.index?.get(key);
    if (!this.index) return;
    if (!list) this.index.set(key, [c]);
    else {
      const i = list.findIndex((x) => x.sha === c.sha);
      if (i >= 0) list[i] = c;
      else list.push(c);
    }
  }

  /** A push to a configured repo: records the default branch's commits and pairs waiting threads. */
  async recordPush(o: { repo: string; ref: string; defaultBranch: string; commits: PushedCommit[] }): Promise<number> {
    if (o.ref !== `refs/heads/${o.defaultBranch}`) return 0;
    const { data } = this.deps.store;
    let recorded = 0;
    const shas: string[] = [];
    for (const c of o.commits) {
      const sha = c.id.toLowerCase();
      shas.push(sha);
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
      this.indexCommit(data.commits[sha]!);
      recorded++;
    }
    const paired = this.pairAll(shas);
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

  private usesPattern(thread: ThreadRecord): boolean {
    return hasPattern(this.deps.catalog, thread);
  }

  /** The commit a thread carries, if paired. */
  commitOf(thread: ThreadRecord): CommitRecord | undefined {
    return thread.commitSha ? this.deps.store.data.commits[thread.commitSha] : undefined;
  }

  private find(repo: string, sha: string): CommitRecord | undefined {
    const r = repo.toLowerCase();
    const exact = this.deps.store.data.commits[sha];
    if (exact && exact.repo === r) return exact;
    return this.byPrefix().get(sha.slice(0, 7))?.find((c) => c.repo === r && c.sha.startsWith(sha));
  }

  /** Pairs threads still waiting for their commit; with `shas`, only those whose tag names one of them. */
  private pairAll(shas?: string[]): boolean {
    let changed = false;
    const prefixes = shas ? new Set(shas.map((s) => s.slice(0, 7))) : undefined;
    for (const thread of Object.values(this.deps.store.data.threads)) {
      if (thread.commitSha || !thread.tag) continue;
      if (prefixes && !prefixes.has(thread.tag.slice(0, 7).toLowerCase()) && !this.usesPattern(thread)) continue;
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
        this.indexCommit(this.deps.store.data.commits[commit.sha]!);
        this.pairAll([commit.sha]);
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

/** Tags read through a tagPattern do not start with the sha, so the quick prefix filter cannot skip them. */
function hasPattern(catalog: Catalog, thread: ThreadRecord): boolean {
  return Boolean(catalog.app(thread.app)?.image.tagPattern);
}

function firstLine(message: string): string {
  return message.split(/\r?\n/, 1)[0]!.trim();
}
