#!/usr/bin/env node
// `npm start` runs this first: it compiles src/ to dist/ only when dist/ is missing or older than a source file,
// so a plain restart never runs the TypeScript compiler (which takes seconds and about 600 MB).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist', 'main.js');

/** The newest modification time among the files that shape the build. */
function newestInput() {
  let newest = 0;
  const visit = (p) => {
    const s = statSync(p);
    if (s.isDirectory()) for (const f of readdirSync(p)) visit(path.join(p, f));
    else if (/\.(ts|json)$/.test(p)) newest = Math.max(newest, s.mtimeMs);
  };
  visit(path.join(root, 'src'));
  for (const f of ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json']) if (existsSync(path.join(root, f))) visit(path.join(root, f));
  return newest;
}

const stale = !existsSync(stamp) || statSync(stamp).mtimeMs < newestInput();
if (stale) {
  process.stderr.write('dist/ is missing or older than src/: building\n');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    process.stderr.write('dist/ must be rebuilt but TypeScript is not installed: run `npm ci` (with dev dependencies) first\n');
    process.exit(1);
  }
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
