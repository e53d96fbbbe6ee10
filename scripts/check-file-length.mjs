#!/usr/bin/env node
// Part of `npm run check:shape`: no source file in src/ is longer than 300 lines (small files, one job each).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const MAX = 300;
const walk = (d) => readdirSync(d).flatMap((f) => {
  const p = path.join(d, f);
  return statSync(p).isDirectory() ? walk(p) : /\.(ts|mts)$/.test(f) ? [p] : [];
});
const long = walk('src')
  .map((f) => ({ f, lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
  .filter((x) => x.lines > MAX);
for (const { f, lines } of long) process.stderr.write(`${f}: ${lines} lines (at most ${MAX})\n`);
process.exit(long.length ? 1 : 0);
