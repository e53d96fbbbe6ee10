import { readFile, stat, truncate } from 'node:fs/promises';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import type { Logger } from '../../core/logger.js';
import { emptyStoreData, upgradeStoreData, type OutboxEntry, type StoreData } from '../../core/store-data.js';
import { outboxKey, type HotCollection, type StateStore } from './state-store.js';
import { apply, opFor, type Op } from './journal-ops.js';
import { AppendFile, StoreOpenError, failpoint, readJsonFile, splitLines, syncFile } from './store-files.js';

/** The hot document as lowdb writes it: the store data and the last journal batch it includes. */
type Snapshot = StoreData & { journalBatch?: number };

export interface HotOptions {
  log: Pick<Logger, 'warn' | 'info'>;
  /** Compact (rewrite the hot file, empty the journal) once the journal exceeds this and twice the hot file (default 4 MB). */
  compactAtBytes?: number;
  /**
   * When the journal is synced to the device: `batch` (default) appends each batch at once (a process crash loses
   * nothing) and syncs at most every `syncEveryMs` (a power cut loses at most that much); `always` syncs every batch;
   * `never` leaves it to the kernel. Syncing every small batch rewrites the same 4 KB page once per batch.
   */
  sync?: 'batch' | 'always' | 'never';
  /** With `sync: 'batch'`: how often the journal is synced while it is written (default 200 ms). */
  syncEveryMs?: number;
}

/**
 * What is in flight, kept in memory as one document: lowdb's file holds it as of the last compaction, and a journal
 * holds every batch of changes since, one JSON line per flush (one append; synced within 200 ms), so a write costs what
 * changed, not what is kept. A batch is one line, so it applies whole or not at all: a torn last line (a crash during
 * the append) is dropped with a log line. Compaction writes lowdb's file (a temporary file renamed into place), syncs
 * it and then empties the journal; the file records the last batch it holds, so a crash between the two replays
 * nothing twice.
 */
export class HotState implements StateStore {
  private readonly dirty = new Map<HotCollection, Set<string>>();
  private scheduled: Promise<void> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private compactWanted = false;
  private watched: Set<string> | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private readonly journalFile: AppendFile;
  /**
   * The record each key had when last journaled (a reference: the ports replace a record they change, so an unchanged
   * field is the same object). A change is journaled as the fields that differ; the same reference again (changed in
   * place) or a first write is journaled whole.
   */
  private readonly journaled = new Map<string, unknown>();
  /** Runs at the start of every write, before the batch is taken (the history moves what leaves the hot state). */
  beforeWrite: (() => Promise<void>) | undefined;

  private constructor(
    readonly data: StoreData,
    private readonly db: Low<Snapshot>,
    private readonly file: string,
    private readonly journal: string,
    private batch: number,
    private journalBytes: number,
    private snapshotBytes: number,
    private readonly opts: HotOptions,
  ) {
    this.journalFile = new AppendFile(journal);
  }

  /** Reads lowdb's file and replays the journal over it; StoreOpenError when either can't be read (left untouched). */
  static async open(file: string, journal: string, opts: HotOptions): Promise<HotState> {
    const snap = (await readJsonFile(file, checkShape)) as Snapshot | undefined;
    const data = upgradeStoreData(snap ?? emptyStoreData()) as Snapshot;
    let batch = data.journalBatch ?? 0;
    delete data.journalBatch;
    const { bytes, last } = await replay(journal, data, batch, opts.log);
    batch = Math.max(batch, last);
    const db = new Low<Snapshot>(new DataFile<Snapshot>(file, { parse: JSON.parse, stringify: (d) => JSON.stringify(d) }), data);
    const size = snap ? (await stat(file)).size : 0;
    return new HotState(data, db, file, journal, batch, bytes, size, opts);
  }

  touch(collection: HotCollection, key: string): void {
    let keys = this.dirty.get(collection);
    if (!keys) this.dirty.set(collection, (keys = new Set()));
    keys.add(key);
    this.watched?.add(`${collection} ${key}`);
  }

  /** Starts noting which records change (a move must not drop a change made while the history was appended). */
  watchChanges(): void {
    this.watched = new Set();
  }

  /** The records changed since watchChanges(), as `<collection> <key>`; stops noting. */
  changesSeen(): Set<string> {
    const seen = this.watched ?? new Set<string>();
    this.watched = undefined;
    return seen;
  }

  /** Every change made before the call is on disk once it resolves; callers in the same tick share one write. */
  flush(): Promise<void> {
    if (!this.scheduled) {
      const previous = this.writing;
      this.scheduled = previous
        .catch(() => undefined)
        .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
        .then(() => {
          this.scheduled = undefined;
          this.writing = this.write();
          return this.writing;
        });
    }
    return this.scheduled;
  }

  /** The next write also compacts (after a prune, which changes records without journaling each one). */
  compactSoon(): void {
    this.compactWanted = true;
  }

  /** Flushes and compacts: the hot file then holds everything and the journal is empty. */
  async close(): Promise<void> {
    this.compactWanted = true;
    await this.flush();
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    await this.journalFile.sync().catch(() => undefined);
    this.journalFile.close();
  }

  /** Syncs the journal within `syncEveryMs` (one sync for every batch written meanwhile). */
  private syncSoon(): void {
    if (this.syncTimer) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      this.journalFile.sync().catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT' && err.code !== 'EISDIR') this.opts.log.warn({ err }, 'syncing the store journal failed');
      });
    }, this.opts.syncEveryMs ?? 200);
    this.syncTimer.unref();
  }

  private async write(): Promise<void> {
    await this.beforeWrite?.();
    const { ops, seen } = this.takeOps();
    if (ops.length > 0) {
      const b = this.batch + 1;
      const line = `${JSON.stringify({ b, o: ops })}\n`;
      try {
        this.journalFile.append(line, 'journal-append');
        if (this.opts.sync === 'always') await this.journalFile.sync();
        else if ((this.opts.sync ?? 'batch') === 'batch') this.syncSoon();
      } catch (err) {
        for (const [c, k] of ops) this.touch(c, k);
        throw err;
      }
      for (const [key, value] of seen) {
        // Only records are diffed against what was journaled: a claim's time or an installation id is written whole,
        // so keeping it here would only hold one more key per claim for as long as the claim stays hot.
        if (value === undefined || typeof value !== 'object') this.journaled.delete(key);
        else this.journaled.set(key, value);
      }
      this.batch = b;
      this.journalBytes += Buffer.byteLength(line);
    }
    // Compaction rewrites the whole hot file: at 4× its size, it adds at most a quarter to what the journal writes.
    const limit = Math.max(this.opts.compactAtBytes ?? 4 * 2 ** 20, 4 * this.snapshotBytes);
    if (this.compactWanted || this.journalBytes > limit) await this.compact();
  }

  /** The dirty records' current values, serialised now (later changes go in the next batch). */
  private takeOps(): { ops: Op[]; seen: Map<string, unknown> } {
    const seen = new Map<string, unknown>();
    if (this.dirty.size === 0) return { ops: [], seen };
    const ops: Op[] = [];
    const outbox = this.dirty.has('outbox') ? new Map(this.data.outbox.map((e) => [outboxKey(e), e])) : undefined;
    for (const [c, keys] of this.dirty) {
      for (const k of keys) {
        const value = c === 'seq' ? this.data.seq : c === 'outbox' ? outbox!.get(k) : (this.data[c] as Record<string, unknown> | undefined)?.[k];
        const id = `${c} ${k}`;
        const op = opFor(c, k, value, this.journaled.get(id));
        if (op) ops.push(op);
        seen.set(id, value);
      }
    }
    this.dirty.clear();
    return { ops, seen };
  }

  private async compact(): Promise<void> {
    this.compactWanted = false;
    // lowdb stringifies synchronously when write() starts: the file holds the data as of now, and every batch so far.
    this.db.data = { ...this.data, journalBatch: this.batch };
    const text = JSON.stringify(this.db.data);
    try {
      failpoint('compact:before-snapshot');
      await this.db.write();
      await syncFile(this.file);
      failpoint('compact:after-snapshot');
    } catch (err) {
      this.opts.log.warn({ err }, 'compacting the hot store file failed; the journal keeps every change');
      return;
    }
    try {
      await truncate(this.journal, 0);
    } catch (err) {
      // The hot file names the last batch it holds, so a journal left as it is replays nothing twice.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.opts.log.warn({ err }, 'emptying the store journal after a compaction failed');
    }
    this.journalBytes = 0;
    this.snapshotBytes = Buffer.byteLength(text);
  }
}

/** Applies the journal's batches after `after` to `data`. A torn last line is dropped (and cut off) with a log line. */
async function replay(journal: string, data: StoreData, after: number, log: HotOptions['log']): Promise<{ bytes: number; last: number }> {
  let buf: Buffer;
  try {
    buf = await readFile(journal);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { bytes: 0, last: 0 };
    throw new StoreOpenError(`DATA_DIR: cannot read store journal ${journal} (${code ?? (err as Error).message}); check its permissions`);
  }
  const { lines, intactBytes, torn } = splitLines(buf);
  const batches: Array<{ b: number; o: Op[] }> = [];
  let cut = intactBytes;
  lines.forEach((l, i) => {
    let parsed: { b: number; o: Op[] } | undefined;
    try {
      parsed = JSON.parse(buf.toString('utf8', l.start, l.end)) as { b: number; o: Op[] };
    } catch {
      parsed = undefined;
    }
    if (parsed && typeof parsed.b === 'number' && Array.isArray(parsed.o)) batches.push(parsed);
    else if (i === lines.length - 1 && !torn) cut = l.start;
    else throw new StoreOpenError(`DATA_DIR: store journal ${journal} has a damaged line ${i + 1} (not the last). It was left untouched: restore it from a backup or move it aside.`);
  });
  if (cut < buf.length) {
    log.warn({ journal, droppedBytes: buf.length - cut }, 'the store journal ended in a torn line (a crash while writing it); dropped it');
    await truncate(journal, cut);
  }
  let last = 0;
  const outbox = new Map(data.outbox.map((e) => [outboxKey(e), e]));
  for (const { b, o } of batches) {
    last = Math.max(last, b);
    if (b <= after) continue;
    for (const op of o) apply(data, outbox, op);
  }
  data.outbox = [...outbox.values()].sort((a, b) => a.seq - b.seq);
  return { bytes: cut, last };
}

function checkShape(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'does not hold a JSON object';
  const v = value as Partial<StoreData>;
  if (v.version !== 1) return `has version ${JSON.stringify(v.version)}, this bot reads version 1`;
  if (typeof v.threads !== 'object' || typeof v.envs !== 'object' || !Array.isArray(v.outbox) || typeof v.seq !== 'number') return 'is missing threads, envs, outbox or seq';
  return undefined;
}
