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

  it('are node options this node accepts', () => {
    for (const flag of FLAGS) expect(process.allowedNodeEnvironmentFlags.has(flag.split('=')[0]!), flag).toBe(true);
  });
});
