import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import { emptyStoreData, upgradeStoreData, type StoreData } from '../../core/store-data.js';
import type { StateStore } from '../../core/ports.js';

/** The store file could not be opened; the message says what is wrong and what to do. The file is left untouched. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
}

/** File name of the store inside DATA_DIR. */
export const STORE_FILE = 'rollout-chatops.json';

/**
 * Opens the embedded store under `dir`. One `Low` instance per file per process (lowdb has no cross-instance safety),
 * compact JSON (the file is rewritten whole on every flush), flushes batched so a burst of changes costs one write.
 */
export async function openJsonStore(dir: string): Promise<StateStore & { file: string; close(): Promise<void> }> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new StoreOpenError(`DATA_DIR: cannot create ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const file = path.join(dir, STORE_FILE);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new StoreOpenError(`DATA_DIR: cannot read store file ${file} (${code ?? (err as Error).message}); check its permissions`);
  }
  let data: StoreData = emptyStoreData();
  if (text !== undefined && text.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new StoreOpenError(
        `DATA_DIR: store file ${file} is not valid JSON (${(err as Error).message}). It was left untouched: restore it from a backup, ` +
          'or move it aside to start with an empty store (threads in progress will then get new root messages).',
      );
    }
    const problem = checkShape(parsed);
    if (problem) throw new StoreOpenError(`DATA_DIR: store file ${file} ${problem}. It was left untouched: restore it from a backup or move it aside.`);
    data = upgradeStoreData(parsed as StoreData);
  }
  const db = new Low<StoreData>(new DataFile<StoreData>(file, { parse: JSON.parse, stringify: (d) => JSON.stringify(d) }), data);
  db.data = data;
  return new BatchedStore(db, file);
}

function checkShape(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'does not hold a JSON object';
  const v = value as Partial<StoreData>;
  if (v.version !== 1) return `has version ${JSON.stringify(v.version)}, this bot reads version 1`;
  if (typeof v.threads !== 'object' || typeof v.envs !== 'object' || !Array.isArray(v.outbox) || typeof v.seq !== 'number') return 'is missing threads, envs, outbox or seq';
  return undefined;
}

class BatchedStore implements StateStore {
  private scheduled: Promise<void> | undefined;
  private writing: Promise<void> = Promise.resolve();
  constructor(private readonly db: Low<StoreData>, readonly file: string) {}

  get data(): StoreData {
    return this.db.data;
  }

  flush(): Promise<void> {
    // Everyone who calls flush() before the scheduled write starts shares it; the write serialises the data
    // synchronously when it starts, so what they changed is in it.
    if (!this.scheduled) {
      const previous = this.writing;
      this.scheduled = previous
        .catch(() => undefined)
        .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
        .then(() => {
          this.scheduled = undefined;
          this.writing = this.db.write();
          return this.writing;
        });
    }
    return this.scheduled;
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
