import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import { emptyStoreData, upgradeStoreData, type AuditEntry, type CommitRecord, type StoreData, type ThreadRecord } from '../../core/store-data.js';
import type { StateStore } from './state-store.js';

/** The store file could not be opened; the message says what is wrong and what to do. The file is left untouched. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
}

/** File name of the store inside DATA_DIR: what is in flight (threads in progress, the outbox, marks). */
export const STORE_FILE = 'rollout-chatops.json';
/** Finished deploys and old audit entries: rewritten rarely. */
export const ARCHIVE_FILE = 'rollout-chatops-archive.json';
/** Commits seen in pushes or fetched by sha: rewritten at most every few seconds (GitHub can always be asked again). */
export const COMMITS_FILE = 'rollout-chatops-commits.json';

/** What goes to the archive file. */
interface ArchiveData {
  version: 1;
  /** Audit entries before this time are in the archive; the hot file keeps the rest. */
  auditCutoff: number;
  threads: Record<string, ThreadRecord>;
  audit: AuditEntry[];
  /** Older builds kept commits here; they are read and then live in the commits file. */
  commits: Record<string, CommitRecord>;
}

export interface StoreOptions {
  /** Time source (ms); the composition root passes the injected clock. */
  now?: () => number;
  /** Least time between two archive rewrites (default 60 s). */
  archiveEveryMs?: number;
  /** How long a finished deploy stays in the hot file (default 10 min). */
  hotForMs?: number;
  /** Least time between two writes of the hot file (default 100 ms); callers still await the write holding their change. */
  minWriteIntervalMs?: number;
  /** Least time between two rewrites of the commits file (default 5 s). */
  commitsEveryMs?: number;
}

/**
 * Opens the embedded store under `dir`. lowdb rewrites a whole file on every write, so the store keeps three: a small
 * hot file written on every flush, an archive of finished deploys rewritten at most once a minute, and the commits,
 * rewritten at most every 5 s (a commit lost in a crash is fetched from GitHub by sha again when a deploy needs it). A record is always
 * in at least one file (the archive is written before the hot file drops what moved there), so a crash loses nothing.
 * One `Low` instance per file per process (lowdb has no cross-instance safety); compact JSON.
 */
export async function openJsonStore(dir: string, opts: StoreOptions = {}): Promise<StateStore & { file: string; close(): Promise<void> }> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new StoreOpenError(`DATA_DIR: cannot create ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const file = path.join(dir, STORE_FILE);
  const archiveFile = path.join(dir, ARCHIVE_FILE);
  const commitsFile = path.join(dir, COMMITS_FILE);
  const hot = await readJson(file, checkShape);
  const archive = (await readJson(archiveFile, checkArchiveShape)) as ArchiveData | undefined;
  const commitsOnDisk = (await readJson(commitsFile, (v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? undefined : 'does not hold a JSON object'))) as Record<string, CommitRecord> | undefined;

  const data = upgradeStoreData((hot as StoreData | undefined) ?? emptyStoreData());
  const archived = new Set<string>();
  let auditCutoff = 0;
  if (archive) {
    auditCutoff = archive.auditCutoff;
    for (const [key, t] of Object.entries(archive.threads)) {
      archived.add(key);
      data.threads[key] ??= t;
    }
    data.audit = [...archive.audit, ...data.audit.filter((a) => a.at >= auditCutoff)];
    for (const [sha, c] of Object.entries(archive.commits)) data.commits[sha] ??= c;
  }
  for (const [sha, c] of Object.entries(commitsOnDisk ?? {})) data.commits[sha] ??= c;
  const hotDb = new Low<StoreData>(new DataFile<StoreData>(file, { parse: JSON.parse, stringify: (d) => JSON.stringify(d) }), data);
  const archiveDb = new Low<ArchiveData>(new DataFile<ArchiveData>(archiveFile, { parse: JSON.parse, stringify: (d) => JSON.stringify(d) }), archive ?? { version: 1, auditCutoff: 0, threads: {}, audit: [], commits: {} });
  const commitsDb = new Low<Record<string, CommitRecord>>(new DataFile<Record<string, CommitRecord>>(commitsFile, { parse: JSON.parse, stringify: (d) => JSON.stringify(d) }), commitsOnDisk ?? {});
  return new SplitStore(data, hotDb, archiveDb, commitsDb, file, archived, auditCutoff, opts);
}

async function readJson(file: string, check: (v: unknown) => string | undefined): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new StoreOpenError(`DATA_DIR: cannot read store file ${file} (${code ?? (err as Error).message}); check its permissions`);
  }
  if (text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new StoreOpenError(
      `DATA_DIR: store file ${file} is not valid JSON (${(err as Error).message}). It was left untouched: restore it from a backup, ` +
        'or move it aside to start with an empty store (threads in progress will then get new root messages).',
    );
  }
  const problem = check(parsed);
  if (problem) throw new StoreOpenError(`DATA_DIR: store file ${file} ${problem}. It was left untouched: restore it from a backup or move it aside.`);
  return parsed;
}

function checkShape(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'does not hold a JSON object';
  const v = value as Partial<StoreData>;
  if (v.version !== 1) return `has version ${JSON.stringify(v.version)}, this bot reads version 1`;
  if (typeof v.threads !== 'object' || typeof v.envs !== 'object' || !Array.isArray(v.outbox) || typeof v.seq !== 'number') return 'is missing threads, envs, outbox or seq';
  return undefined;
}

function checkArchiveShape(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'does not hold a JSON object';
  const v = value as Partial<ArchiveData>;
  if (v.version !== 1) return `has version ${JSON.stringify(v.version)}, this bot reads version 1`;
  if (typeof v.threads !== 'object' || !Array.isArray(v.audit) || typeof v.commits !== 'object' || typeof v.auditCutoff !== 'number') return 'is missing threads, audit, commits or auditCutoff';
  return undefined;
}

class SplitStore implements StateStore {
  private scheduled: Promise<void> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private lastWrite = 0;
  private lastArchiveWrite = 0;
  private lastCommitsWrite = 0;
  private commitsWritten = -1;
  private readonly now: () => number;

  constructor(
    readonly data: StoreData,
    private readonly hotDb: Low<StoreData>,
    private readonly archiveDb: Low<ArchiveData>,
    private readonly commitsDb: Low<Record<string, CommitRecord>>,
    readonly file: string,
    /** Thread keys the archive file holds. */
    private readonly archived: Set<string>,
    private auditCutoff: number,
    private readonly opts: StoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  flush(): Promise<void> {
    // Everyone who calls flush() before the scheduled write starts shares it; the write serialises the data
    // synchronously when it starts, so what they changed is in it.
    if (!this.scheduled) {
      const previous = this.writing;
      this.scheduled = previous
        .catch(() => undefined)
        .then(() => {
          const wait = Math.max(0, this.lastWrite + (this.opts.minWriteIntervalMs ?? 100) - Date.now());
          return new Promise<void>((resolve) => (wait > 0 ? setTimeout(resolve, wait) : setImmediate(resolve)));
        })
        .then(() => {
          this.scheduled = undefined;
          this.lastWrite = Date.now();
          this.writing = this.write(false);
          return this.writing;
        });
    }
    return this.scheduled;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.writing.catch(() => undefined);
    this.writing = this.write(true);
    await this.writing;
  }

  /** Writes the archive and the commits when due (or forced), then the hot file without what those hold. */
  private async write(force: boolean): Promise<void> {
    const now = this.now();
    if (force || now - this.lastArchiveWrite >= (this.opts.archiveEveryMs ?? 60_000)) await this.writeArchive(now);
    const commitCount = Object.keys(this.data.commits).length;
    if (commitCount !== this.commitsWritten && (force || now - this.lastCommitsWrite >= (this.opts.commitsEveryMs ?? 5_000))) {
      this.commitsDb.data = this.data.commits;
      await this.commitsDb.write();
      this.commitsWritten = commitCount;
      this.lastCommitsWrite = now;
    }
    const threads: Record<string, ThreadRecord> = {};
    for (const key in this.data.threads) if (!this.archived.has(key)) threads[key] = this.data.threads[key]!;
    this.hotDb.data = { ...this.data, threads, commits: {}, audit: this.data.audit.filter((a) => a.at >= this.auditCutoff) };
    await this.hotDb.write();
  }

  private async writeArchive(now: number): Promise<void> {
    const hotFor = this.opts.hotForMs ?? 10 * 60_000;
    const current = new Set(Object.values(this.data.envs).map((e) => e.threadKey));
    const pending = new Set(this.data.outbox.map((e) => e.threadKey));
    const threads: Record<string, ThreadRecord> = {};
    const keys = new Set<string>();
    for (const [key, t] of Object.entries(this.data.threads)) {
      const settled = t.outcome && (t.finishedAt ?? 0) < now - hotFor && !current.has(key) && !pending.has(key) && t.cardSent >= t.cardVersion;
      if (settled || this.archived.has(key)) {
        threads[key] = this.archived.has(key) ? t : compact(t);
        keys.add(key);
      }
    }
    const cutoff = now - 24 * 3_600_000;
    const auditCutoff = Math.max(this.auditCutoff, cutoff);
    const audit = this.data.audit.filter((a) => a.at < auditCutoff);
    // Nothing new to move and nothing removed: leave the file as it is.
    const changed =
      keys.size !== this.archived.size || [...keys].some((k) => !this.archived.has(k)) || audit.length !== this.archiveDb.data.audit.length;
    if (!changed) return;
    this.archiveDb.data = { version: 1, auditCutoff, threads, audit, commits: {} };
    await this.archiveDb.write();
    this.lastArchiveWrite = now;
    this.auditCutoff = auditCutoff;
    this.archived.clear();
    for (const k of keys) this.archived.add(k);
    // The in-memory copy keeps what features read; the detail no finished deploy needs is dropped.
    for (const k of keys) this.data.threads[k] = threads[k]!;
  }
}

/** A finished deploy without the detail nothing reads any more (steps, analysis runs, announcement keys). */
function compact(t: ThreadRecord): ThreadRecord {
  const s = t.lastState;
  return {
    ...t,
    announced: [],
    lastState: s && {
      ...s,
      analysis: [],
      canary: s.canary && { ...s.canary, steps: [] },
    },
  };
}
