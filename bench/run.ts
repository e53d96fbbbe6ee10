/**
 * `npm run bench`: the performance figures of issue 8, each beside its floor and target, measured in one run on
 * loopback. Prints a Markdown table and writes bench/results/latest.json (and latest.md). Not part of `npm test`.
 *
 *   npm run bench                      # everything, ~6 minutes on 2 cores
 *   npm run bench -- --only=fleet      # some sections (slash, webhooks, fleet, store); writes results/partial.json
 *   npm run bench -- --quick           # short blocks, for trying the harness itself
 *   npm run bench -- --profile         # also CPU-profile the bot (inbound sections, full-size fleet); writes results/profiled.json
 *   BENCH_BOT_FLAGS="--max-semi-space-size=32" npm run bench   # run the bot with extra node flags (recorded)
 *   npm run bench -- --only=fleet --fleet-sizes=100   # only the fleet sizes listed (rollouts: 100, 1000)
 *   npm run bench -- --no-pin          # do not give the load generator and the A/B servers a core each
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildFloorApp } from './lib/floor.js';
import { pinProcess, readMemory } from './lib/proc.js';
import { summarizeProfile } from './lib/profile-summary.js';
import { startPostgresServer } from '../emulators/world/postgres-server.js';
import { renderTable, type BenchResults } from './lib/table.js';
import { measureFleet, type FleetOptions } from './sections/fleet.js';
import { startInbound } from './sections/inbound-setup.js';
import { measureSlashAck } from './sections/slash-ack.js';
import { measureStore } from './sections/store.js';
import { measureWebhooks } from './sections/webhooks.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const profile = args.includes('--profile');
/** `--store=embedded`, `--store=postgres`; both by default (the fleet runs in each). */
const storeArg = args.find((a) => a.startsWith('--store='))?.slice('--store='.length);
const storeModes: Array<'embedded' | 'postgres'> = storeArg === 'embedded' || storeArg === 'postgres' ? [storeArg] : ['embedded', 'postgres'];
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const wants = (section: string) => !only || only.includes(section);
const fleetSizes = args.find((a) => a.startsWith('--fleet-sizes='))?.slice('--fleet-sizes='.length).split(',').map(Number);

/** Sizes and durations: the full run, and a quick one that only proves the harness works. */
const PLAN = quick
  ? {
      slash: { rate: 200, blocks: 2, blockMs: 2000, warmupMs: 1000 },
      webhooks: { concurrency: 32, blocks: 2, blockMs: 2000, warmupMs: 1000 },
      fleet: [
        { apps: 5, envs: 20, rate: 10, loadMs: 15_000, drainCapMs: 30_000, observeCardsMs: 5000, seed: 8 },
        { apps: 50, envs: 20, rate: 100, loadMs: 15_000, drainCapMs: 45_000, observeCardsMs: 5000, seed: 8 },
      ],
      store: [{ records: 10_000, writeSamples: 20, loads: 1 }],
    }
  : {
      // Many short alternating rounds (same time per side as 6 × 5 s and 4 × 4 s): see bench/README.md.
      // The bot has more code to warm up than the floor: 6 s each before the rounds (its p99 fell over the first 12 s).
      slash: { rate: 200, blocks: 12, blockMs: 2500, warmupMs: 6000 },
      webhooks: { concurrency: 32, blocks: 8, blockMs: 2000, warmupMs: 2000 },
      // A tenth of the fleet keeps the per-rollout and per-channel load of the full one (2 changes/s per channel).
      fleet: [
        { apps: 5, envs: 20, rate: 10, loadMs: 60_000, drainCapMs: 60_000, observeCardsMs: 10_000, seed: 8 },
        { apps: 50, envs: 20, rate: 100, loadMs: 60_000, drainCapMs: 90_000, observeCardsMs: 10_000, seed: 8 },
      ],
      store: [
        { records: 10_000, writeSamples: 50, loads: 3 },
        { records: 100_000, writeSamples: 15, loads: 2 },
      ],
    };

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: os.availableParallelism(),
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown',
    memGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
  };
}

const errorOf = (err: unknown) => (err instanceof Error ? err.message.split('\n')[0]! : String(err));
const log = (msg: string) => process.stderr.write(`[bench +${Math.round((Date.now() - started) / 1000)}s] ${msg}\n`);
const started = Date.now();

async function main(): Promise<void> {
  const results: BenchResults = {};
  let pinning = 'none';
  const load: Record<string, number[]> = { start: os.loadavg() };
  log('building dist/ (tsc -p tsconfig.build.json)');
  let build = 'ok';
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'pipe' });
  } catch (err) {
    // Others may be mid-edit; an older dist/ still measures something, and the JSON says so.
    build = `failed, measured the existing dist/: ${String((err as { stdout?: Buffer }).stdout ?? err).slice(0, 500)}`;
    log(build);
  }
  const floorFile = await buildFloorApp(ROOT);

  if (wants('slash') || wants('webhooks')) {
    log('starting the bot and the bare Bolt + Probot floor');
    const inboundProfileDir = profile ? path.join(ROOT, 'bench/results/profiles/inbound') : undefined;
    if (inboundProfileDir) await mkdir(inboundProfileDir, { recursive: true });
    // On two or more cores the load generator and the servers get a core each, so they do not take turns on one
    // core and the A/B compares the servers' work rather than the scheduler's; the fleet runs unpinned, as deployed.
    const cores = os.availableParallelism();
    const pinned = !args.includes('--no-pin') && cores >= 2 && pinProcess(process.pid, '0');
    pinning = pinned ? `load generator and emulators on cpu 0, bot and floor on cpu${cores > 2 ? `s 1-${cores - 1}` : ' 1'}` : 'none';
    const inbound = await startInbound(ROOT, floorFile, {
      ...(inboundProfileDir ? { profileDir: inboundProfileDir } : {}),
      ...(pinned ? { serverCpus: cores > 2 ? `1-${cores - 1}` : '1' } : {}),
    });
    try {
      const botIdle = readMemory(inbound.bot.pid)?.rssMb ?? Number.NaN;
      const floorIdle = readMemory(inbound.floor.pid)?.rssMb ?? Number.NaN;
      if (wants('slash')) {
        log(`1 slash-command ack: ${PLAN.slash.blocks} × ${PLAN.slash.blockMs / 1000} s per side at ${PLAN.slash.rate} req/s`);
        results.slash = await measureSlashAck(inbound, PLAN.slash).catch((err: unknown) => ({ error: errorOf(err) }));
      }
      if (wants('webhooks')) {
        log(`2 push webhooks: ${PLAN.webhooks.blocks} × ${PLAN.webhooks.blockMs / 1000} s per side at concurrency ${PLAN.webhooks.concurrency}`);
        results.webhooks = await measureWebhooks(inbound, PLAN.webhooks).catch((err: unknown) => ({ error: errorOf(err) }));
      }
      results.floorRssMb = { idle: Math.round(floorIdle), peak: Math.round(readMemory(inbound.floor.pid)?.hwmMb ?? Number.NaN), botIdle: Math.round(botIdle) };
    } finally {
      await inbound.close();
      if (pinned) pinProcess(process.pid, `0-${cores - 1}`);
    }
    if (inboundProfileDir) {
      const last = (await readdir(inboundProfileDir)).filter(mainThreadProfile).sort().at(-1);
      if (last) results.inboundProfile = { file: path.relative(ROOT, path.join(inboundProfileDir, last)), ...(await summarizeProfile(path.join(inboundProfileDir, last), 15)) };
    }
  }

  load.afterInbound = os.loadavg();
  if (wants('fleet')) {
    results.fleet = [];
    // Each size with the embedded store, then with PostgreSQL (a throwaway server, a fresh database per run).
    const pgServer = storeModes.includes('postgres') ? await startPostgresServer().catch((err: unknown) => (log(`no PostgreSQL server: ${errorOf(err)}`), undefined)) : undefined;
    const runs = PLAN.fleet.filter((x) => !fleetSizes || fleetSizes.includes(x.apps * x.envs)).flatMap((f) => storeModes.map((mode) => ({ f, mode })));
    for (const { f, mode } of runs) {
      if (mode === 'postgres' && !pgServer) continue;
      // The embedded store's run is profiled, or PostgreSQL's when it runs alone (--store=postgres).
      const full = f.apps * f.envs >= 1000 && (mode === 'embedded' || storeModes.length === 1);
      const profileDir = profile && full ? path.join(ROOT, 'bench/results/profiles') : undefined;
      if (profileDir) await mkdir(profileDir, { recursive: true });
      log(`3 fleet: ${f.apps * f.envs} rollouts, ${f.rate} changes/s for ${f.loadMs / 1000} s, ${mode} store${profileDir ? ' (profiled)' : ''}`);
      const opts: FleetOptions = { ...f, ...(profileDir ? { profileDir } : {}), ...(mode === 'postgres' ? { databaseUrl: await pgServer!.createDatabase() } : {}) };
      const r = await measureFleet(ROOT, opts).catch((err: unknown) => ({ error: errorOf(err), rollouts: f.apps * f.envs }));
      if (profileDir && !('error' in r)) {
        const files = (await readdir(profileDir)).filter(mainThreadProfile).sort();
        const last = files.at(-1);
        if (last) Object.assign(r, { profile: { file: path.relative(ROOT, path.join(profileDir, last)), ...(await summarizeProfile(path.join(profileDir, last), 15)) } });
      }
      results.fleet.push(r);
    }
    await pgServer?.stop();
  }

  load.afterFleet = os.loadavg();
  if (wants('store')) {
    results.store = [];
    for (const st of PLAN.store) {
      log(`4 store: ${st.records} records`);
      results.store.push(await measureStore(ROOT, st).catch((err: unknown) => ({ error: errorOf(err), records: st.records })));
    }
  }

  load.end = os.loadavg();
  const table = renderTable(results);
  const m = machine();
  const header = `Measured ${new Date().toISOString().slice(0, 10)} on ${m.nproc} × ${m.cpu}, ${m.memGb} GB, Node ${m.node}${quick ? ' (--quick: short blocks, not comparable)' : ''}${profile ? ' (bot CPU-profiled in the full fleet)' : ''}`;
  process.stdout.write(`\n${header}\n\n${table}\n`);
  // Only a full, unprofiled run is "the latest": a profiler slows the bot, and partial runs leave sections out.
  const out = path.join(ROOT, 'bench/results', profile ? 'profiled.json' : only || quick || fleetSizes || storeArg ? 'partial.json' : 'latest.json');
  await mkdir(path.dirname(out), { recursive: true });
  const durationS = Math.round((Date.now() - started) / 1000);
  await writeFile(out, `${JSON.stringify({ date: new Date().toISOString(), machine: m, build, quick, profile, only: only ?? null, fleetSizes: fleetSizes ?? null, durationS, pinning, botFlags: process.env.BENCH_BOT_FLAGS ?? '', loadavg: load, results, table }, null, 2)}\n`);
  if (!only && !quick && !profile && !fleetSizes && !storeArg) await writeFile(path.join(ROOT, 'bench/results/latest.md'), `${header}\n\n${table}\n`);
  log(`done in ${durationS} s; wrote ${path.relative(ROOT, out)}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

/**
 * A main thread's profile: V8 names them CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile, and the bot also runs a
 * module-hooks thread (the KubeConfig resolve hook), whose nearly idle profile would otherwise sort last.
 */
function mainThreadProfile(name: string): boolean {
  return /\.\d+\.0\.\d+\.cpuprofile$/.test(name);
}
