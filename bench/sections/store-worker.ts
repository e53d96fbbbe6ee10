/**
 * Child process for the store benchmark, so its hundreds of MB of heap neither disturb the other sections nor get
 * counted warm. `fill <dir> <n> <samples>` builds the store and times writes; `load <dir>` times a cold open.
 * Prints one JSON line.
 */
import { appendFile, mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ARCHIVE_FILE, openJsonStore, STORE_FILE } from '../../src/adapters/store/open-json-store.js';
import { fillDeployRecords } from '../lib/deploy-records.js';

const [mode, dir, nArg, samplesArg] = process.argv.slice(2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The store spaces hot-file writes this far apart (its default); isolated samples wait it out first. */
const SPACING_MS = 100;

async function sizeMb(file: string): Promise<number> {
  try {
    return (await stat(file)).size / 2 ** 20;
  } catch {
    return 0;
  }
}

async function fill(): Promise<void> {
  const n = Number(nArg);
  const samples = Number(samplesArg);
  // The store's clock, so a test can move a minute on and make the archive due without waiting for it.
  let offset = 0;
  const store = await openJsonStore(dir!, { now: () => Date.now() + offset });
  const g0 = performance.now();
  fillDeployRecords(store.data, n);
  const generateMs = performance.now() - g0;
  const f0 = performance.now();
  await store.flush();
  const firstFlushMs = performance.now() - f0;
  const current = Object.values(store.data.envs).map((e) => e.threadKey!).filter(Boolean);

  // One realistic change (a card version bump, as every event causes) to a deploy in progress, then flush.
  const change = (i: number) => {
    store.data.threads[current[(i * 7919) % current.length]!]!.cardVersion++;
  };
  const writes: number[] = [];
  for (let i = 0; i < samples; i++) {
    await sleep(SPACING_MS + 5);
    change(i);
    const t0 = performance.now();
    await store.flush();
    writes.push(performance.now() - t0);
  }
  const backToBack: number[] = [];
  for (let i = 0; i < 20; i++) {
    change(i);
    const t0 = performance.now();
    await store.flush();
    backToBack.push(performance.now() - t0);
  }

  // The archive rewrite: a deploy finishes and a new one starts in its environment; a minute later the next flush moves
  // the finished one to the archive, rewriting the whole archive file while every flush queued behind it waits.
  const archive: number[] = [];
  for (let i = 0; i < 3; i++) {
    const envKey = Object.keys(store.data.envs)[i]!;
    const old = store.data.threads[store.data.envs[envKey]!.threadKey!]!;
    const now = Date.now() + offset;
    Object.assign(old, { outcome: 'completed', finishedAt: now - 11 * 60_000, cardSent: old.cardVersion });
    const key = `${old.key}-next${i}`;
    store.data.threads[key] = { ...structuredClone(old), key, outcome: undefined, finishedAt: undefined, startedAt: now, createdAt: now };
    store.data.envs[envKey]!.threadKey = key;
    offset += 61_000;
    await sleep(SPACING_MS + 5);
    const t0 = performance.now();
    await store.flush();
    archive.push(performance.now() - t0);
  }
  const hotMb = await sizeMb(path.join(dir!, STORE_FILE));
  const archiveMb = await sizeMb(path.join(dir!, ARCHIVE_FILE));

  // The same one-record change as one JSON line appended to a journal, without and with fdatasync.
  const alt = path.join(dir!, 'alt');
  await mkdir(alt, { recursive: true });
  const journal: number[] = [];
  const journalSync: number[] = [];
  const jfile = path.join(alt, 'journal.ndjson');
  const fh = await open(path.join(alt, 'journal-fsync.ndjson'), 'a');
  for (let i = 0; i < 200; i++) {
    const rec = store.data.threads[current[(i * 104_729) % current.length]!]!;
    const line = `${JSON.stringify({ op: 'put', key: rec.key, value: rec })}\n`;
    let t0 = performance.now();
    await appendFile(jfile, line);
    journal.push(performance.now() - t0);
    t0 = performance.now();
    await fh.write(line);
    await fh.datasync();
    journalSync.push(performance.now() - t0);
  }
  await fh.close();
  process.stdout.write(`${JSON.stringify({ n, generateMs, firstFlushMs, writes, backToBack, archive, hotMb, archiveMb, alternatives: { journal, journalSync } })}\n`);
}

async function load(): Promise<void> {
  const t0 = performance.now();
  const store = await openJsonStore(dir!);
  const ms = performance.now() - t0;
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
  process.stdout.write(`${JSON.stringify({ ms, threads: Object.keys(store.data.threads).length, heapMb })}\n`);
}

await (mode === 'fill' ? fill() : load());
