import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { round, summarize, type Summary } from '../lib/stats.js';

const run = promisify(execFile);

const rounded = (s: Summary): Summary => ({ n: s.n, p50: round(s.p50), p95: round(s.p95), p99: round(s.p99), max: round(s.max), mean: round(s.mean) });

export interface StoreSizeResult {
  records: number;
  /** The hot file (deploys in progress, outbox, marks) and the history segments (finished deploys, audit, commits), after the run. */
  hotFileMb: number;
  archiveFileMb: number;
  /** Journal bytes per one-record change. */
  bytesPerChange: number;
  /** Flushes that rewrote the hot file (a compaction). */
  compactionMs: number[];
  writeSamples: number;
  /** store.flush() after a one-record change, with no write in progress. */
  write: Summary;
  /** The same, back to back: what a caller waits while writes are spaced. */
  backToBack: Summary;
  /** A flush that also moves a finished deploy to the history (one segment append). */
  archiveRewriteMs: number[];
  /** The first flush of a freshly filled store (archive and hot file written). */
  firstFlushMs: number;
  /** openJsonStore(dir) in a fresh process (both files read, parsed and merged), each run. */
  coldLoadMs: number[];
  coldLoadHeapMb: number;
  /** The same one-record change as a journal line (ms p99), without and with fdatasync. */
  alternativesP99: { journal: number; journalFsync: number };
  goals: { writeP99Ms: number; coldLoadMs: number };
  met: { write: boolean; load: boolean };
}

/** The real store (openJsonStore) filled with `records` deploy records: one-record writes, archive rewrites, cold load. */
export async function measureStore(root: string, o: { records: number; writeSamples: number; loads: number }): Promise<StoreSizeResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rollout-chatops-store-'));
  const worker = path.join(root, 'bench/sections/store-worker.ts');
  const node = (args: string[]) =>
    run(process.execPath, ['--max-old-space-size=6144', '--import', 'tsx', worker, ...args], { cwd: root, maxBuffer: 64 * 2 ** 20, env: { ...process.env } });
  try {
    const filled = JSON.parse((await node(['fill', dir, String(o.records), String(o.writeSamples)])).stdout) as {
      writes: number[]; backToBack: number[]; archive: number[]; compactions: number[]; bytesPerChange: number; hotMb: number; archiveMb: number; firstFlushMs: number;
      alternatives: { journal: number[]; journalSync: number[] };
    };
    const loads: Array<{ ms: number; heapMb: number }> = [];
    for (let i = 0; i < o.loads; i++) loads.push(JSON.parse((await node(['load', dir])).stdout));
    const write = summarize(filled.writes);
    const coldMax = Math.max(...loads.map((l) => l.ms));
    return {
      records: o.records,
      hotFileMb: round(filled.hotMb),
      archiveFileMb: round(filled.archiveMb),
      bytesPerChange: Math.round(filled.bytesPerChange),
      compactionMs: filled.compactions.map(round),
      writeSamples: o.writeSamples,
      write: rounded(write),
      backToBack: rounded(summarize(filled.backToBack)),
      archiveRewriteMs: filled.archive.map(round),
      firstFlushMs: round(filled.firstFlushMs),
      coldLoadMs: loads.map((l) => round(l.ms)),
      coldLoadHeapMb: round(Math.max(...loads.map((l) => l.heapMb))),
      alternativesP99: { journal: round(summarize(filled.alternatives.journal).p99), journalFsync: round(summarize(filled.alternatives.journalSync).p99) },
      goals: { writeP99Ms: 5, coldLoadMs: 1000 },
      met: { write: write.p99 <= 5, load: coldMax <= 1000 },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
