// Preloaded into the bot by scripts/measure-bot-rss.ts (PROBE=1): on SIGUSR2 writes its memoryUsage before and after a
// GC (run with --expose-gc), the V8 heap spaces and code statistics, VmRSS/VmHWM and the thread count to
// <tmpdir>/memory-probe-<pid>.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';

const MB = (n) => +(n / 1048576).toFixed(1);
const usage = () => Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, MB(v)]));
process.on('SIGUSR2', () => {
  const before = usage();
  globalThis.gc?.();
  const after = usage();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: MB(s.space_size), used: MB(s.space_used_size) }]));
  const code = Object.fromEntries(Object.entries(v8.getHeapCodeStatistics()).map(([k, v]) => [k, MB(v)]));
  const st = readFileSync('/proc/self/status', 'utf8');
  const field = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)[1]);
  const out = { before, after, spaces, code, vmRssMB: field('VmRSS') / 1024, vmHwmMB: field('VmHWM') / 1024, threads: field('Threads') };
  writeFileSync(path.join(tmpdir(), `memory-probe-${process.pid}.json`), JSON.stringify(out, null, 1));
});
