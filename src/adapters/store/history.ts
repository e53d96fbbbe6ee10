import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../core/logger.js';
import type { AuditEntry, CommitRecord, Confirmation, ThreadRecord } from '../../core/store-data.js';
import { cloneRecord } from './clone-record.js';
import { HistoryIndex, type CommitEntry } from './history-index.js';
import { Segments, type Head, type Loc } from './history-segments.js';

const CACHE_SIZE = 1000;

/**
 * The history side of the embedded store: segments on disk, their index in memory, the lines queued for the next
 * append (readable at once), and a small cache of records read back.
 */
export class History {
  private pending: Array<{ head: Head; value: unknown }> = [];
  private readonly pendingCommits = new Map<string, CommitRecord>();
  private readonly pendingAudit = new Set<AuditEntry>();
  private readonly cache = new Map<string, unknown>();

  private constructor(
    readonly segments: Segments,
    readonly index: HistoryIndex,
    private readonly now: () => number,
    private readonly dir: string,
  ) {}

  static async open(dir: string, o: { log: Pick<Logger, 'warn'>; sync?: boolean; now: () => number }): Promise<History> {
    const index = new HistoryIndex();
    // What the last retention run dropped: older than its cutoff and already there when it ran (appended before its mark).
    const r = await readRetention(dir);
    const dropped = (head: Head, loc: Loc, segment: string) => head.t < r.cutoff && loc.off < (r.marks[segment] ?? 0);
    const segments = await Segments.open(dir, { log: o.log, sync: o.sync, onLine: (head, loc, segment) => dropped(head, loc, segment) || index.add(head, loc) });
    return new History(segments, index, o.now, dir);
  }

  queueThread(t: ThreadRecord): void {
    this.pending.push({ head: { k: 'th', id: t.key, t: t.finishedAt ?? t.startedAt, app: t.app, env: t.env, tag: t.tag, ch: t.channel, root: t.rootTs, st: t.startedAt }, value: t });
  }

  queueCommit(c: CommitRecord): void {
    this.pendingCommits.set(c.sha, c);
    this.pending.push({ head: { k: 'cm', id: c.sha, t: c.at, r: c.repo }, value: c });
  }

  queueAudit(a: AuditEntry): void {
    this.pendingAudit.add(a);
    this.pending.push({ head: { k: 'au', t: a.at, app: a.app, env: a.env }, value: a });
  }

  queueConfirmation(c: Confirmation): void {
    this.pending.push({ head: { k: 'cf', id: c.id, t: c.doneAt ?? c.requestedAt, th: c.threadKey }, value: c });
  }

  queueClaim(key: string, at: number): void {
    this.index.claims.set(key, at);
    this.pending.push({ head: { k: 'cl', id: key, t: at }, value: at });
  }

  /**
   * Appends everything queued to the segment of each record's month (almost always one: one write and one sync); what
   * could not be written stays queued.
   */
  async appendPending(): Promise<void> {
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    const byMonth = new Map<string, Array<{ head: Head; value: unknown }>>();
    for (const l of lines) {
      const name = Segments.nameFor(l.head.t);
      const list = byMonth.get(name);
      if (list) list.push(l);
      else byMonth.set(name, [l]);
    }
    const written: Array<{ head: Head; value: unknown; loc: Loc }> = [];
    try {
      for (const [name, group] of byMonth) {
        const locs = await this.segments.append(name, group);
        group.forEach((l, i) => written.push({ ...l, loc: locs[i]! }));
      }
    } catch (err) {
      const done = new Set(written.map((w) => w.value));
      this.pending = [...lines.filter((l) => !done.has(l.value)), ...this.pending];
      this.indexWritten(written);
      throw err;
    }
    this.indexWritten(written);
  }

  private indexWritten(written: Array<{ head: Head; value: unknown; loc: Loc }>): void {
    written.forEach((l) => {
      this.index.add(l.head, l.loc);
      if (l.head.k === 'cm' && this.pendingCommits.get(l.head.id) === l.value) this.pendingCommits.delete(l.head.id);
      if (l.head.k === 'au') this.pendingAudit.delete(l.value as AuditEntry);
    });
  }

  async read<T>(loc: Loc): Promise<T> {
    const key = `${loc.seg}:${loc.off}`;
    if (this.cache.has(key)) {
      const v = this.cache.get(key);
      this.cache.delete(key);
      this.cache.set(key, v);
      return cloneRecord(v) as T;
    }
    const v = await this.segments.read(loc);
    this.cache.set(key, v);
    if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    return cloneRecord(v) as T;
  }

  async thread(key: string): Promise<ThreadRecord | undefined> {
    const e = this.index.threads.get(key);
    return e ? this.read<ThreadRecord>(e.loc) : undefined;
  }

  /** By full sha or unique prefix (7+), optionally within a repo: queued commits first, then the index. */
  async commit(sha: string, repo?: string): Promise<CommitRecord | undefined> {
    const fits = (c: { sha: string; repo: string }) => c.sha.startsWith(sha) && (repo === undefined || c.repo === repo);
    const queued = this.pendingCommits.get(sha);
    if (queued && fits(queued)) return queued;
    const matches = new Set<string>();
    if (sha.length >= 7 && sha.length < 40) for (const c of this.pendingCommits.values()) if (fits(c)) matches.add(c.sha);
    let indexed: CommitEntry | undefined;
    for (const c of this.index.commitsWithPrefix(sha)) if (fits(c)) {
      matches.add(c.sha);
      indexed = c;
    }
    if (matches.size !== 1) return undefined;
    const [only] = matches;
    return this.pendingCommits.get(only!) ?? (indexed && this.read<CommitRecord>(indexed));
  }

  /** Audit entries newest first, filtered, at most `limit`: only the entries kept are read from disk. */
  async auditRecent(o: { app?: string; env?: string; since?: number; limit?: number }): Promise<AuditEntry[]> {
    const fits = (a: { at: number; app: string; env: string }) => (o.app === undefined || a.app === o.app) && (o.env === undefined || a.env === o.env) && (o.since === undefined || a.at >= o.since);
    const picked: Array<{ at: number; get: () => Promise<AuditEntry> }> = [];
    for (const a of this.pendingAudit) if (fits(a)) picked.push({ at: a.at, get: async () => a });
    for (const a of this.index.audit) if (fits(a)) picked.push({ at: a.at, get: () => this.read<AuditEntry>(a.loc) });
    picked.sort((a, b) => b.at - a.at);
    const kept = o.limit === undefined ? picked : picked.slice(0, o.limit);
    return Promise.all(kept.map((p) => p.get()));
  }

  async confirmation(id: string): Promise<Confirmation | undefined> {
    const e = this.index.confirmations.get(id);
    return e ? this.read<Confirmation>(e.loc) : undefined;
  }

  /** Confirmations of a thread that left the hot state. */
  async confirmationsOf(threadKey: string): Promise<Confirmation[]> {
    const out: Confirmation[] = [];
    for (const c of this.index.confirmations.values()) if (c.threadKey === threadKey) out.push(await this.read<Confirmation>(c.loc));
    return out;
  }

  /**
   * Retention: what is older than `cutoff` leaves the index (the cutoff is kept on disk first, so a restart does not
   * index it again), and every segment whose records are all older is deleted as a whole; nothing is rewritten.
   * Commits `keep` asks for (a deploy still kept points at them) are appended again, dated now, so they survive.
   * Returns what left, by kind.
   */
  async expire(cutoff: number, keep: Set<string>): Promise<Record<Head['k'], number>> {
    for (const sha of keep) {
      const e = this.index.commits.get(sha);
      if (!e || (this.index.timeOf('cm', sha) ?? Infinity) >= cutoff) continue;
      const c = await this.read<CommitRecord>(e);
      this.pending.push({ head: { k: 'cm', id: c.sha, t: this.now(), r: c.repo }, value: c });
    }
    await this.appendPending();
    await writeRetention(this.dir, { cutoff, marks: Object.fromEntries(this.segments.list().map((s) => [s.name, s.size])) });
    const n = this.index.expire(cutoff, keep);
    const doomed = this.segments.list().filter((s) => s.maxT < cutoff).map((s) => s.id);
    for (const key of [...this.cache.keys()]) if (doomed.includes(Number(key.split(':')[0]))) this.cache.delete(key);
    await this.segments.drop(doomed);
    // A deleted segment's name may come back (a commit dated that month): its new lines are not covered by the mark.
    await writeRetention(this.dir, { cutoff, marks: Object.fromEntries(this.segments.list().map((s) => [s.name, s.size])) });
    return n;
  }
}

const RETENTION_FILE = 'retention.json';

/** The last retention run: its cutoff and how long each segment was then. */
interface Retention {
  cutoff: number;
  marks: Record<string, number>;
}

async function readRetention(dir: string): Promise<Retention> {
  try {
    const v = JSON.parse(await readFile(path.join(dir, RETENTION_FILE), 'utf8')) as Partial<Retention>;
    return { cutoff: typeof v.cutoff === 'number' ? v.cutoff : 0, marks: typeof v.marks === 'object' && v.marks ? v.marks : {} };
  } catch {
    return { cutoff: 0, marks: {} };
  }
}

async function writeRetention(dir: string, r: Retention): Promise<void> {
  const file = path.join(dir, RETENTION_FILE);
  await writeFile(`${file}.tmp`, JSON.stringify(r));
  await rename(`${file}.tmp`, file);
}
