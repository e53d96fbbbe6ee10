import { closeSync, fdatasync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';

/** The store could not be opened; the message says what is wrong and what to do. Its files are left untouched. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
}

/** What is in flight (threads in progress, the outbox, marks), as lowdb writes it at each compaction. */
export const STORE_FILE = 'rollout-chatops.json';
/** The changes since the hot file was last written: one JSON line per batch, appended and synced. */
export const JOURNAL_FILE = 'rollout-chatops.journal';
/** Finished deploys, the audit log, commits and old claims: append-only segments, one per month. */
export const HISTORY_DIR = 'history';
/** Files of the first versions (read once, migrated into the history, then renamed with `.migrated`). */
export const LEGACY_ARCHIVE_FILE = 'rollout-chatops-archive.json';
export const LEGACY_COMMITS_FILE = 'rollout-chatops-commits.json';

/**
 * Crash tests: with ROLLOUT_CHATOPS_STORE_FAILPOINT=<name>, the process kills itself (SIGKILL, as the kernel's OOM
 * killer or a node failure would) when it reaches that point of a write. Unset, this is one comparison.
 */
export function failpoint(name: string): void {
  if (failpointIs(name)) process.kill(process.pid, 'SIGKILL');
}

function failpointIs(name: string): boolean {
  return process.env.ROLLOUT_CHATOPS_STORE_FAILPOINT === name;
}

/** Syncs a file written by someone else (lowdb renames a temporary file into place without syncing it). */
export async function syncFile(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** Reads a JSON file: undefined when missing or empty; StoreOpenError when unreadable, not JSON or of the wrong shape. */
export async function readJsonFile(file: string, check: (v: unknown) => string | undefined): Promise<unknown> {
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

/** Why a value is not a JSON object, or undefined. */
export function notAnObject(v: unknown): string | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? undefined : 'does not hold a JSON object';
}

/**
 * Splits JSON lines: complete lines in order, and the byte offset where the intact part ends. A last line without its
 * newline is torn (a crash during the append): `torn` says so and it is not among the lines.
 */
export function splitLines(buf: Buffer): { lines: Array<{ start: number; end: number }>; intactBytes: number; torn: boolean } {
  const lines: Array<{ start: number; end: number }> = [];
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) break;
    if (nl > start) lines.push({ start, end: nl });
    start = nl + 1;
  }
  return { lines, intactBytes: start, torn: start < buf.length };
}

/**
 * A file appended to many times a second (the hot journal, each history segment): kept open, written synchronously (a small line goes to
 * the page cache in microseconds, with no round trip through the thread pool), so a process crash keeps it the
 * moment `append` returns. The path is checked on each append (one stat): a file moved aside or replaced is reopened,
 * so what is written always lands in the file the path names (and a path that can't be written fails the append).
 */
export class AppendFile {
  private fd: number | undefined;
  private ino = -1;

  constructor(private readonly file: string) {}

  append(data: string, point?: string): void {
    let ino: number | undefined;
    try {
      ino = statSync(this.file).ino;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (this.fd === undefined || ino !== this.ino) {
      this.closeFd();
      this.fd = openSync(this.file, 'a');
      this.ino = fstatSync(this.fd).ino;
    }
    const buf = Buffer.from(data);
    const end = point && failpointIs(`${point}:torn`) ? Math.floor(buf.length / 2) : buf.length;
    let done = 0;
    while (done < end) done += writeSync(this.fd, buf, done, end - done);
    failpoint(`${point}:torn`);
    failpoint(`${point}:unsynced`);
  }

  /** Syncs what was appended to the device. */
  sync(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => fdatasync(fd, (err) => (err && err.code !== 'EBADF' ? reject(err) : resolve())));
  }

  close(): void {
    this.closeFd();
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = undefined;
    this.ino = -1;
  }
}
