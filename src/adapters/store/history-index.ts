import type { Head, Loc } from './history-segments.js';

/** A finished deploy in the history, as the index knows it. */
export interface ThreadEntry {
  key: string;
  app: string;
  env: string;
  tag?: string;
  channel: string;
  rootTs?: string;
  startedAt: number;
  loc: Loc;
}

/**
 * A commit in the history: where its record is (the entry is its own Loc) and when it counts as made. One flat object
 * per commit, as every pushed commit has one (a webhook-heavy day indexes a hundred thousand).
 */
export interface CommitEntry extends Loc {
  sha: string;
  repo: string;
  t: number;
}

export interface AuditIndexEntry {
  at: number;
  app: string;
  env: string;
  loc: Loc;
}

/**
 * What the hot paths ask of the history, in memory: deploys by key, environment, tag and root message; commits by sha
 * and by their first 7 characters; confirmations by id; audit entries in order. A later line for the same key replaces
 * the earlier one (a deploy that came back to the hot state and left again).
 */
export class HistoryIndex {
  readonly threads = new Map<string, ThreadEntry>();
  private readonly ofEnv = new Map<string, ThreadEntry[]>();
  private readonly ofTag = new Map<string, ThreadEntry[]>();
  private readonly ofRoot = new Map<string, ThreadEntry>();
  readonly commits = new Map<string, CommitEntry>();
  /** Commits by their first 7 characters: the one commit, or a list when several share them (rare). */
  private readonly byPrefix = new Map<string, CommitEntry | CommitEntry[]>();
  readonly confirmations = new Map<string, { threadKey: string; loc: Loc }>();
  audit: AuditIndexEntry[] = [];
  /** Delivery claims that left the hot state, with when they were made. */
  readonly claims = new Map<string, number>();
  /** When each indexed thread and confirmation counts as made, for retention (by kind, keyed by id; a commit's is its entry's). */
  private readonly times = { th: new Map<string, number>(), cf: new Map<string, number>() };
  /** One string per repo name: every pushed commit names its repo, and there are few of them. */
  private readonly repos = new Map<string, string>();

  add(head: Head, loc: Loc): void {
    if (head.k === 'th' || head.k === 'cf') this.times[head.k].set(head.id, head.t);
    switch (head.k) {
      case 'th':
        return this.addThread({ key: head.id, app: head.app, env: head.env, tag: head.tag, channel: head.ch, rootTs: head.root, startedAt: head.st, loc });
      case 'cm': {
        let repo = this.repos.get(head.r);
        if (repo === undefined) this.repos.set(head.r, (repo = head.r));
        return this.addCommit({ sha: head.id, repo, t: head.t, seg: loc.seg, off: loc.off, len: loc.len });
      }
      case 'au':
        this.audit.push({ at: head.t, app: head.app, env: head.env, loc });
        return;
      case 'cf':
        this.confirmations.set(head.id, { threadKey: head.th, loc });
        return;
      case 'cl':
        this.claims.set(head.id, head.t);
        return;
    }
  }

  /**
   * Forgets what is older than `cutoff` (a commit in `keep` stays): the counts by kind. Nothing on disk changes here;
   * a segment whose records are all past the cutoff is deleted as a whole.
   */
  expire(cutoff: number, keep: Set<string>): Record<Head['k'], number> {
    const n = { th: 0, cm: 0, au: 0, cf: 0, cl: 0 };
    const old = (kind: 'th' | 'cm' | 'cf', id: string) => (this.timeOf(kind, id) ?? Infinity) < cutoff;
    for (const key of [...this.threads.keys()]) if (old('th', key)) {
      this.removeThread(key);
      this.times.th.delete(key);
      n.th++;
    }
    for (const sha of [...this.commits.keys()]) if (old('cm', sha) && !keep.has(sha)) {
      this.removeCommit(sha);
      n.cm++;
    }
    for (const id of [...this.confirmations.keys()]) if (old('cf', id)) {
      this.confirmations.delete(id);
      this.times.cf.delete(id);
      n.cf++;
    }
    const before = this.audit.length;
    this.audit = this.audit.filter((a) => a.at >= cutoff);
    n.au = before - this.audit.length;
    for (const [key, at] of [...this.claims]) if (at < cutoff) {
      this.claims.delete(key);
      n.cl++;
    }
    return n;
  }

  /** When an indexed thread, commit or confirmation counts as made. */
  timeOf(kind: 'th' | 'cm' | 'cf', id: string): number | undefined {
    return kind === 'cm' ? this.commits.get(id)?.t : this.times[kind].get(id);
  }

  envThreads(envKey: string): ThreadEntry[] {
    return this.ofEnv.get(envKey) ?? [];
  }

  tagThreads(app: string, tag: string): ThreadEntry[] {
    return this.ofTag.get(`${app} ${tag}`) ?? [];
  }

  rootThread(channel: string, rootTs: string): ThreadEntry | undefined {
    return this.ofRoot.get(`${channel} ${rootTs}`);
  }

  /** Commits whose sha starts with `sha` (7 characters or more). */
  commitsWithPrefix(sha: string): CommitEntry[] {
    const exact = this.commits.get(sha);
    if (exact) return [exact];
    if (sha.length < 7) return [];
    const at = this.byPrefix.get(sha.slice(0, 7));
    return (at === undefined ? [] : Array.isArray(at) ? at : [at]).filter((c) => c.sha.startsWith(sha));
  }

  private addThread(t: ThreadEntry): void {
    this.removeThread(t.key);
    this.threads.set(t.key, t);
    push(this.ofEnv, `${t.app}/${t.env}`, t);
    if (t.tag) push(this.ofTag, `${t.app} ${t.tag}`, t);
    if (t.rootTs) this.ofRoot.set(`${t.channel} ${t.rootTs}`, t);
  }

  private removeThread(key: string): void {
    const t = this.threads.get(key);
    if (!t) return;
    this.threads.delete(key);
    pull(this.ofEnv, `${t.app}/${t.env}`, t);
    if (t.tag) pull(this.ofTag, `${t.app} ${t.tag}`, t);
    if (t.rootTs && this.ofRoot.get(`${t.channel} ${t.rootTs}`) === t) this.ofRoot.delete(`${t.channel} ${t.rootTs}`);
  }

  private addCommit(c: CommitEntry): void {
    this.removeCommit(c.sha);
    this.commits.set(c.sha, c);
    const key = c.sha.slice(0, 7);
    const at = this.byPrefix.get(key);
    if (at === undefined) this.byPrefix.set(key, c);
    else if (Array.isArray(at)) at.push(c);
    else this.byPrefix.set(key, [at, c]);
  }

  private removeCommit(sha: string): void {
    const c = this.commits.get(sha);
    if (!c) return;
    this.commits.delete(sha);
    const key = sha.slice(0, 7);
    const at = this.byPrefix.get(key);
    if (at === c) this.byPrefix.delete(key);
    else if (Array.isArray(at)) {
      const i = at.indexOf(c);
      if (i >= 0) at.splice(i, 1);
      if (at.length === 1) this.byPrefix.set(key, at[0]!);
    }
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function pull<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (!list) return;
  const i = list.indexOf(value);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) map.delete(key);
}
