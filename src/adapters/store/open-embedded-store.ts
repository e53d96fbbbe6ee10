import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../core/logger.js';
import type { Stores } from '../../core/store-ports.js';
import { createEmbeddedStores } from './embedded-stores.js';
import { History } from './history.js';
import { HotState } from './hot-journal.js';
import { migrateV1 } from './migrate-v1.js';
import { createSettler, type SettleOptions } from './settle-hot.js';
import { HISTORY_DIR, JOURNAL_FILE, STORE_FILE, StoreOpenError } from './store-files.js';

export interface EmbeddedStoreOptions extends Partial<SettleOptions> {
  log?: Pick<Logger, 'warn' | 'info'>;
  /** Compact the hot file once the journal exceeds this (default 4 MB, and at least twice the hot file). */
  compactAtBytes?: number;
  /** When the hot journal is synced (HotOptions.sync; default `batch`: within 200 ms). History segments sync every append. */
  sync?: 'batch' | 'always' | 'never';
}

export interface EmbeddedStore {
  stores: Stores;
  /** The hot state (tests and the bench look at its document and sizes). */
  hot: HotState;
  history: History;
  file: string;
  /** Flushes, compacts the hot file and closes the history's files. */
  close(): Promise<void>;
}

const quiet = { warn: () => undefined, info: () => undefined };

/**
 * Opens the embedded store under `dir`: the hot state (lowdb's file plus its journal) and the history segments. A
 * DATA_DIR written by the first versions (a hot file with an archive and a commits file beside it) is converted on the
 * first start. Anything it can't read stops the start with a StoreOpenError and is left as it is.
 */
export async function openEmbeddedStore(dir: string, opts: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new StoreOpenError(`DATA_DIR: cannot create ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const log = opts.log ?? quiet;
  const now = opts.now ?? Date.now;
  const file = path.join(dir, STORE_FILE);
  const hot = await HotState.open(file, path.join(dir, JOURNAL_FILE), { log, compactAtBytes: opts.compactAtBytes, sync: opts.sync });
  await migrateV1(dir, hot, log);
  const history = await History.open(path.join(dir, HISTORY_DIR), { log, sync: opts.sync !== 'never', now });
  hot.beforeWrite = createSettler(hot, history, { ...opts, now });
  return {
    stores: createEmbeddedStores(hot, history),
    hot,
    history,
    file,
    close: async () => {
      await hot.close();
      await history.segments.close();
    },
  };
}
