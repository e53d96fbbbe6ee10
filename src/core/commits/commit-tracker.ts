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
  /**
   * An index of the commit store, so pairing inside an observer hook needs no wait: every commit by full sha and by
   * its first 7 characters, loaded from the store once and fed with every commit this tracker puts there.
   */
  private commits: Map<string, CommitRecord> | undefined;
  private readonly byPrefix = new Map<string, CommitRecord[]>();
  private loading: Promise<void> | undefined;

  constructor(private readonly deps: CommitTrackerDeps) {
    void this.ready().catch((err: unknown) => deps.log.warn({ err }, 'loading the commit index failed, retrying when needed'));
  }

  /** Loads the index once (again after a failed load). */
  private ready(): Promise<void> {
    this.loading ??= this.deps.stores.commits.all().then(
      (all) => {
        this.commits = new Map();
        for (const c of all) this.indexCommit(c);
      },
      (err: unknown) => {
        this.loading = undefined;
        throw err;
      },
    );
    return this.loading;
  }

  private indexCommit(c: CommitRecord): void {
    if (!this.commits) return;
    this.commits.set(c.sha, c);
    const key = c.sha.slice(0, 7);
    const list = this.byPrefix.get(key);
    if (!list) this.byPrefix.set(key, [c]);
    else {
      const i = list.findIndex((x) => x.sha === c.sha);
      if (i >= 0) list[i] = c;
      else list.push(c);
    }
  }

  private async put(c: CommitRecord): Promise<void> {
    await this.deps.stores.commits.put(c);
    this.indexCommit(c);
  }

  /** A push to a configured repo: records the default branch's commits and pairs waiting threads. */
  async recordPush(o: { repo: string; ref: string; defaultBranch: string; commits: PushedCommit[] }): Promise<number> {
    if (o.ref !== `refs/heads/${o.defaultBranch}`) return 0;
    await this.ready();
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
    if (!this.commits) {
      // The index is still loading (just after start): pair through the store once it is there.
      void this.pairLater(thread.key, target);
      return false;
    }
    const commit = this.find(target.app.repo, sha);
    // Through the port, so a database store gets the pairing too (the observer commits after its hooks).
    if (commit) return this.deps.stores.threads.setCommit(thread.key, { sha: commit.sha });
    if (!thread.commitLookedUp) void this.lookUp(thread, target, sha);
    return false;
  }

  /** The commit a thread carries, if paired. */
  commitOf(thread: ThreadRecord): CommitRecord | undefined {
    return thread.commitSha ? this.commits?.get(thread.commitSha) : undefined;
  }

  private find(repo: string, sha: string): CommitRecord | undefined {
    const r = repo.toLowerCase();
    const exact = this.commits?.get(sha);
    if (exact && exact.repo === r) return exact;
    return this.byPrefix.get(sha.slice(0, 7))?.find((c) => c.repo === r && c.sha.startsWith(sha));
  }

  /** Pairs a stored thread through the store (not one an observer hook holds); true when this paired it. */
  private pairStored(thread: ThreadRecord, target: EnvTarget): Promise<boolean> {
    const sha = wantedSha(thread, target);
    if (!sha) return Promise.resolve(false);
    const commit = this.find(target.app.repo, sha);
    if (commit) return this.deps.stores.threads.setCommit(thread.key, { sha: commit.sha });
    if (!thread.commitLookedUp) void this.lookUp(thread, target, sha);
    return Promise.resolve(false);
  }

  private async pairLater(key: string, target: EnvTarget): Promise<void> {
    try {
      await this.ready();
      const thread = await this.deps.stores.threads.byKey(key);
      if (!thread || !(await this.pairStored(thread, target))) return;
      await this.deps.stores.flush();
      this.deps.onChange();
    } catch (err) {
      this.deps.log.warn({ err, thread: key }, 'commit pairing failed');
    }
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
        await this.ready();
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
