import { mkdir, open, readdir, rm, truncate, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../core/logger.js';
import { AppendFile, StoreOpenError } from './store-files.js';

/** What the in-memory index needs of a history line, written before the record itself (parsed alone at start-up). */
export type Head =
  | { k: 'th'; id: string; t: number; app: string; env: string; tag?: string; ch: string; root?: string; st: number }
  | { k: 'cm'; id: string; t: number; r: string }
  | { k: 'au'; t: number; app: string; env: string }
  | { k: 'cf'; id: string; t: number; th: string }
  | { k: 'cl'; id: string; t: number };

/** Where a record is: the segment, the byte offset of its line and the line's length (without the newline). */
export interface Loc {
  seg: number;
  off: number;
  len: number;
}

export interface SegmentInfo {
  id: number;
  name: string;
  file: string;
  size: number;
  /** The newest time among its records (retention drops a segment once this is past the cutoff). */
  maxT: number;
}

/** One history line: the head the index reads, a tab, the record (JSON escapes every tab and newline inside). */
export function segmentLine(head: Head, value: unknown): string {
  return `${JSON.stringify(head)}\t${JSON.stringify(value)}\n`;
}

const TAB = 9;
const NL = 10;
const CHUNK = 4 * 2 ** 20;

/**
 * The history: append-only JSON-lines files, one per month (`2026-12.jsonl`), each line `<head>\t<record>`. Lines are
 * appended in batches (one write and one sync per batch) and never rewritten; retention deletes whole files. At start-up
 * only the heads are parsed (the index); a record is read from its file when asked for.
 */
export class Segments {
  private readonly segs = new Map<number, SegmentInfo>();
  private readonly byName = new Map<string, SegmentInfo>();
  private readonly handles = new Map<number, Promise<FileHandle>>();
  /** Each segment appended to, kept open: a batch is one write and one sync, not also an open and a close. */
  private readonly appenders = new Map<number, AppendFile>();
  private nextId = 1;

  private constructor(
    private readonly dir: string,
    private readonly sync: boolean,
  ) {}

  /** Opens every segment under `dir`, calling `onLine` for each intact line. A torn last line is cut off with a log line. */
  static async open(dir: string, o: { log: Pick<Logger, 'warn'>; sync?: boolean; onLine: (head: Head, loc: Loc, segment: string) => void }): Promise<Segments> {
    const s = new Segments(dir, o.sync ?? true);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new StoreOpenError(`DATA_DIR: cannot create ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    const names = (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort();
    for (const name of names) {
      const seg: SegmentInfo = { id: s.nextId++, name, file: path.join(dir, name), size: 0, maxT: 0 };
      await scan(seg, o.log, (head, loc) => {
        seg.maxT = Math.max(seg.maxT, head.t);
        o.onLine(head, loc, name);
      });
      s.add(seg);
    }
    return s;
  }

  /** The segment for records appended at `now`. */
  static nameFor(now: number): string {
    return `${new Date(now).toISOString().slice(0, 7)}.jsonl`;
  }

  list(): SegmentInfo[] {
    return [...this.segs.values()];
  }

  /** Appends the lines to segment `name` in one write and one sync; their locations, in order. */
  async append(name: string, lines: Array<{ head: Head; value: unknown }>): Promise<Loc[]> {
    let seg = this.byName.get(name);
    if (!seg) {
      seg = { id: this.nextId++, name, file: path.join(this.dir, name), size: 0, maxT: 0 };
      this.add(seg);
    }
    const locs: Loc[] = [];
    const parts: string[] = [];
    let off = seg.size;
    for (const l of lines) {
      const line = segmentLine(l.head, l.value);
      const len = Buffer.byteLength(line) - 1;
      locs.push({ seg: seg.id, off, len });
      parts.push(line);
      off += len + 1;
    }
    let file = this.appenders.get(seg.id);
    if (!file) this.appenders.set(seg.id, (file = new AppendFile(seg.file)));
    file.append(parts.join(''), 'segment-append');
    if (this.sync) await file.sync();
    seg.size = off;
    for (const l of lines) seg.maxT = Math.max(seg.maxT, l.head.t);
    return locs;
  }

  /** The record at `loc`. */
  async read(loc: Loc): Promise<unknown> {
    const seg = this.segs.get(loc.seg);
    if (!seg) return undefined;
    let fh = this.handles.get(loc.seg);
    if (!fh) {
      fh = open(seg.file, 'r');
      this.handles.set(loc.seg, fh);
      fh.catch(() => this.handles.delete(loc.seg));
    }
    const buf = Buffer.alloc(loc.len);
    await (await fh).read(buf, 0, loc.len, loc.off);
    const tab = buf.indexOf(TAB);
    return JSON.parse(buf.toString('utf8', tab + 1));
  }

  /** Deletes whole segments (retention). */
  async drop(ids: number[]): Promise<void> {
    for (const id of ids) {
      const seg = this.segs.get(id);
      if (!seg) continue;
      this.appenders.get(id)?.close();
      this.appenders.delete(id);
      const fh = this.handles.get(id);
      this.handles.delete(id);
      if (fh) await (await fh.catch(() => undefined))?.close();
      await rm(seg.file, { force: true });
      this.segs.delete(id);
      this.byName.delete(seg.name);
    }
  }

  async close(): Promise<void> {
    for (const file of this.appenders.values()) file.close();
    this.appenders.clear();
    for (const fh of this.handles.values()) await (await fh.catch(() => undefined))?.close();
    this.handles.clear();
  }

  private add(seg: SegmentInfo): void {
    this.segs.set(seg.id, seg);
    this.byName.set(seg.name, seg);
  }
}

/** Reads a segment in chunks, parsing each line's head only. */
async function scan(seg: SegmentInfo, log: Pick<Logger, 'warn'>, onLine: (head: Head, loc: Loc) => void): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(seg.file, 'r');
  } catch (err) {
    throw new StoreOpenError(`DATA_DIR: cannot read history segment ${seg.file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check its permissions`);
  }
  let carry = Buffer.alloc(0);
  let base = 0; // file offset of carry[0]
  let pending: { head: Head; loc: Loc } | undefined; // the last line read, held back until we know it is not torn
  let bad: { line: number; at: number } | undefined;
  let lineNo = 0;
  try {
    const chunk = Buffer.alloc(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, CHUNK, base + carry.length);
      if (bytesRead === 0) break;
      const buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : Buffer.from(chunk.subarray(0, bytesRead));
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(NL, start);
        if (nl < 0) break;
        lineNo++;
        if (bad) throw damaged(seg, bad.line);
        const tab = buf.indexOf(TAB, start);
        let head: Head | undefined;
        if (tab > start && tab < nl) {
          try {
            head = JSON.parse(buf.toString('utf8', start, tab)) as Head;
          } catch {
            head = undefined;
          }
        }
        if (pending) onLine(pending.head, pending.loc);
        pending = undefined;
        if (head && typeof head.t === 'number') pending = { head, loc: { seg: seg.id, off: base + start, len: nl - start } };
        else bad = { line: lineNo, at: base + start };
        start = nl + 1;
      }
      carry = Buffer.from(buf.subarray(start));
      base += start;
    }
    // What follows the last newline was being appended when the process died; a damaged last line is the same.
    const cut = bad ? bad.at : carry.length > 0 ? base : undefined;
    if (pending) onLine(pending.head, pending.loc);
    if (cut !== undefined) {
      log.warn({ segment: seg.file, droppedBytes: base + carry.length - cut }, 'a history segment ended in a torn line (a crash while appending); dropped it');
      await truncate(seg.file, cut);
      seg.size = cut;
    } else seg.size = base;
  } finally {
    await fh.close();
  }
}

function damaged(seg: SegmentInfo, line: number): StoreOpenError {
  return new StoreOpenError(`DATA_DIR: history segment ${seg.file} has a damaged line ${line} (not the last). It was left untouched: restore it from a backup or move it aside.`);
}
