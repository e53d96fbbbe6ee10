import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');
const FLAGS = JSON.parse(read('scripts/node-flags.json')) as string[];

/** The bot runs with the same node flags wherever it is started (and the bench measures it so). */
describe('the node flags the bot ships with', () => {
  it('are the Dockerfile CMD and the npm start command', () => {
    expect(FLAGS.length).toBeGreaterThan(0);
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'))?.[1];
    expect(JSON.parse(cmd!)).toEqual(['node', ...FLAGS, 'dist/main.js']);
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start!;
    expect(start).toBe(`node scripts/ensure-build.mjs && node ${FLAGS.join(' ')} dist/main.js`);
  });

  it('are options this node accepts (node stops at a bad one), and reach V8', () => {
    // Some are V8's (--heap-growing-percent) and not allowed in NODE_OPTIONS: they go on the command line, as shipped.
    const run = spawnSync(process.execPath, [...FLAGS, '-p', `require('v8').getHeapStatistics().total_available_size > 0`], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('true');
    const bad = spawnSync(process.execPath, ['--heap-growing-percentage=50', '-e', '0'], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
  });

  it('keep the young generation at 4 MB and the old one growing by half its live size', () => {
    expect(FLAGS).toEqual(expect.arrayContaining(['--max-semi-space-size=4', '--heap-growing-percent=50']));
  });
});
