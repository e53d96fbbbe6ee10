#!/usr/bin/env node
// Measures what importing modules costs in a bare Node process (issue 16/12, the 200 MB RSS target):
//   node scripts/measure-import-memory.mjs [--runs N] [--json] <specifier>...
//   node --expose-gc scripts/measure-import-memory.mjs --cumulative <specifier>...
// Each specifier is imported in its own child process; printed are the medians of N runs (default 3) of RSS and
// heapUsed growth after the import and after a forced GC, the peak RSS (VmHWM) and the import time. A specifier
// may be a package name, a deep path (`@kubernetes/client-node/dist/watch.js`) or several joined with `+`.
// --cumulative imports them one after the other in this process and prints what each adds to the ones before it
// (after a GC): the marginal cost, which is what counts in the bot, where dependencies share packages.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MB = 1024 * 1024;
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;

if (process.argv[2] === '--child') {
  const specs = process.argv[3].split('+');
  global.gc();
  const before = process.memoryUsage();
  const t0 = performance.now();
  for (const s of specs) await import(s);
  const ms = performance.now() - t0;
  const loaded = process.memoryUsage();
  global.gc();
  const gced = process.memoryUsage();
  process.stdout.write(JSON.stringify({ ms, rss: loaded.rss - before.rss, heap: loaded.heapUsed - before.heapUsed, rssGc: gced.rss - before.rss, heapGc: gced.heapUsed - before.heapUsed, hwm: hwm(), baseRss: before.rss }));
  process.exit(0);
}

if (process.argv[2] === '--cumulative') {
  let prev = (global.gc(), process.memoryUsage());
  process.stdout.write(`${'module'.padEnd(60)}  +RSS  +heap     ms   RSS\n`);
  for (const spec of process.argv.slice(3)) {
    const t0 = performance.now();
    for (const s of spec.split('+')) await import(s);
    const ms = performance.now() - t0;
    global.gc();
    const m = process.memoryUsage();
    const f = (n) => n.toFixed(1).padStart(6);
    process.stdout.write(`${spec.padEnd(60)}${f((m.rss - prev.rss) / MB)}${f((m.heapUsed - prev.heapUsed) / MB)}${ms.toFixed(0).padStart(7)}${f(m.rss / MB)}\n`);
    prev = m;
  }
  process.stdout.write(`peak RSS ${(hwm() / MB).toFixed(1)} MB\n`);
  process.exit(0);
}

const args = process.argv.slice(2);
const runs = args[0] === '--runs' ? Number(args.splice(0, 2)[1]) : 3;
const json = args[0] === '--json' ? Boolean(args.shift()) : false;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const spec of args.length ? args : ['node:fs']) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', spec], { encoding: 'utf8', env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
    if (r.status !== 0) throw new Error(`${spec}: ${r.stderr}`);
    samples.push(JSON.parse(r.stdout));
  }
  const m = (k) => median(samples.map((s) => s[k]));
  rows.push({ spec, rssMB: m('rss') / MB, heapMB: m('heap') / MB, rssAfterGcMB: m('rssGc') / MB, heapAfterGcMB: m('heapGc') / MB, peakRssMB: m('hwm') / MB, importMs: m('ms') });
}
if (json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
else {
  const f = (n) => n.toFixed(1).padStart(7);
  process.stdout.write(`${'module'.padEnd(60)}  +RSS  +heap  +RSS/gc +heap/gc  peakRSS   ms\n`);
  for (const r of rows) process.stdout.write(`${r.spec.padEnd(60)}${f(r.rssMB)}${f(r.heapMB)}${f(r.rssAfterGcMB)}${f(r.heapAfterGcMB)}${f(r.peakRssMB)}${f(r.importMs)}\n`);
}
