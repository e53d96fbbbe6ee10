/**
 * Child process for the store benchmark, so its hundreds of MB of heap neither disturb the other sections nor get
 * counted warm. `fill <dir> <n> <samples>` builds the store through its ports and times writes, moves and compactions; `load <dir>`
 * times a cold open.
 * Prints one JSON line.
 */
import { appendFile, mkdir, open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openEmbeddedStore } from '../../src/adapters/store/open-embedded-store.js';
import { HISTORY_DIR, JOURNAL_FILE, STORE_FILE } from '../../src/adapters/store/store-files.js';
import { emptyStoreData } from '../../src/core/store-data.js';
import { fillDeployRecords } from '../lib/deploy-records.js';

const [mode, dir, nArg, samplesArg] = process.argv.slice(2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

async function historyBytes(): Promise<number> {
  let total = 0;
  for (const name of await readdir(path.join(dir!, HISTORY_DIR))) total += await sizeOf(path.join(dir!, HISTORY_DIR, name));
  return total;
}

async function fill(): Promise<void> {
  const n = Number(nArg);
  const samples = Number(samplesArg);
  // The store's clock, so the run can move ten minutes on and make a finished deploy leave without waiting for it.
  let offset = 0;
  const store = await openEmbeddedStore(dir!, { now: () => Date.now() + offset });
  const { stores } = store;
  const g0 = performance.now();
  const data = emptyStoreData();
  fillDeployRecords(data, n);
  // Through the ports, as the bot accumulated them: every deploy, its environment record, commits, delivery claims.
  for (const t of Object.values(data.threads)) await stores.threads.save(t);
  for (const [envKey, rec] of Object.entries(data.envs)) await stores.envs.update(envKey, rec);
  for (const c of Object.values(data.commits)) await stores.commits.put(c);
  for (const [key, at] of Object.entries(data.seen)) {
    store.hot.data.seen[key] = at;
    store.hot.touch('seen', key);
  }
  const generateMs = performance.now() - g0;
  const f0 = performance.now();
  await stores.flush(); // finished deploys (all but the 1,000 current ones) leave for the history
  const firstFlushMs = performance.now() - f0;
  const c0 = performance.now();
  await store.close(); // compacts: the hot file holds only what is in flight
  const firstCompactMs = performance.now() - c0;
  const reopened = await openEmbeddedStore(dir!, { now: () => Date.now() + offset });
  const s2 = reopened.stores;
  const current = Object.values(reopened.hot.data.envs).map((e) => e.threadKey!).filter(Boolean);

  // One realistic change (a card version bump, as every event causes) to a deploy in progress, then flush.
  const change = (i: number) => s2.threads.bumpCard(current[(i * 7919) % current.length]!);
  const journalFile = path.join(dir!, JOURNAL_FILE);
  const writes: number[] = [];
  const j0 = await sizeOf(journalFile);
  for (let i = 0; i < samples; i++) {
    await sleep(5);
    await change(i);
    const t0 = performance.now();
    await s2.flush();
    writes.push(performance.now() - t0);
  }
  const bytesPerChange = ((await sizeOf(journalFile)) - j0) / samples;
  const backToBack: number[] = [];
  for (let i = 0; i < 20; i++) {
    await change(i);
    const t0 = performance.now();
    await s2.flush();
    backToBack.push(performance.now() - t0);
  }

  // A deploy finishes and a new one starts in its environment; ten minutes later the next flush moves the finished one
  // to the history (one append to this month's segment), then the journal batch.
  const archive: number[] = [];
  for (let i = 0; i < 3; i++) {
    const envKey = Object.keys(reopened.hot.data.envs)[i]!;
    const old = (await s2.threads.current(envKey))!;
    const now = Date.now() + offset;
    await s2.threads.save({ ...old, outcome: 'completed', finishedAt: now, cardSent: old.cardVersion });
    const key = `${old.key}-next${i}`;
    await s2.threads.save({ ...structuredClone(old), key, outcome: undefined, finishedAt: undefined, startedAt: now, createdAt: now });
    await s2.envs.update(envKey, { threadKey: key });
    await s2.flush();
    offset += 11 * 60_000;
    await sleep(5);
    const t0 = performance.now();
    await s2.flush();
    archive.push(performance.now() - t0);
  }
  // A compaction (the journal outgrew the hot file): the flush that rewrites the hot file.
  const compactions: number[] = [];
  for (let i = 0; i < 3; i++) {
    await change(i);
    reopened.hot.compactSoon();
    const t0 = performance.now();
    await s2.flush();
    compactions.push(performance.now() - t0);
  }
  const hotMb = (await sizeOf(path.join(dir!, STORE_FILE))) / 2 ** 20;
  const archiveMb = (await historyBytes()) / 2 ** 20;
  const record = (await s2.threads.byKey(current[0]!))!;

  // The same one-record change as one JSON line appended to a journal, without and with fdatasync.
  const alt = path.join(dir!, 'alt');
  await mkdir(alt, { recursive: true });
  const journal: number[] = [];
  const journalSync: number[] = [];
  const jfile = path.join(alt, 'journal.ndjson');
  const fh = await open(path.join(alt, 'journal-fsync.ndjson'), 'a');
  for (let i = 0; i < 200; i++) {
    const line = `${JSON.stringify({ op: 'put', key: record.key, value: record })}\n`;
    let t0 = performance.now();
    await appendFile(jfile, line);
    journal.push(performance.now() - t0);
    t0 = performance.now();
    await fh.write(line);
    await fh.datasync();
    journalSync.push(performance.now() - t0);
  }
  await fh.close();
  await reopened.close();
  process.stdout.write(`${JSON.stringify({ n, generateMs, firstFlushMs, firstCompactMs, writes, backToBack, archive, compactions, bytesPerChange, hotMb, archiveMb, alternatives: { journal, journalSync } })}\n`);
}

async function load(): Promise<void> {
  const t0 = performance.now();
  const store = await openEmbeddedStore(dir!);
  const ms = performance.now() - t0;
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  process.stdout.write(`${JSON.stringify({ ms, threads: Object.keys(store.hot.data.threads).length, history: store.history.index.threads.size, heapMb, rssMb })}\n`);
}

await (mode === 'fill' ? fill() : load());
