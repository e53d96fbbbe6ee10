import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../../src/adapters/store/open-embedded-store.js';
import { captureLogger } from '../support/capture-logger.js';

/**
 * SIGKILL at the store's most delicate moments (half a batch on disk, a batch written but not synced, the history
 * appended but the hot state not yet changed, a compaction before and after the hot file is replaced), then start
 * again: every round that was acknowledged is there, nothing was "posted" twice, and the store opens.
 */
const CHILD = path.resolve('test/support/store-crash-child.ts');
let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function runChild(args: string[], kill?: { afterOks: number }): Promise<{ oks: number[]; code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ROLLOUT_CHATOPS_STORE_FAILPOINT: '' } });
    const oks: number[] = [];
    let out = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) if (l.startsWith('ok ')) oks.push(Number(l.slice(3)));
      if (kill && oks.length >= kill.afterOks && child.exitCode === null) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ oks, code, signal, stderr }));
  });
}

/** What must hold after any crash: every acknowledged round is complete, and no message went out twice. */
async function checkInvariants(acked: number[], o: { expectTorn?: boolean } = {}): Promise<void> {
  const log = captureLogger();
  const store = await openEmbeddedStore(dir, { log });
  try {
    const audit = await store.stores.audit.recent();
    for (const i of acked) {
      expect((await store.stores.threads.byKey(`app/dev/u/r${i}`))?.outcome, `round ${i}`).toBe('completed');
      expect(audit.filter((a) => a.action === `round-${i}`), `audit of round ${i}`).toHaveLength(1);
      expect((await store.stores.commits.bySha(String(i).padStart(8, '0'), 'acme/app'))?.message).toBe(`round ${i}`);
      expect((await store.stores.outbox.all()).map((e) => e.id)).not.toContain(`app/dev/u/r${i}#done`);
    }
    const posted = (await readFile(path.join(dir, 'posted.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    expect(posted.length, 'no message posted twice').toBe(new Set(posted).size);
    // A message that went out is either recorded as delivered or still "in doubt" (attempted), never plain queued.
    for (const e of await store.stores.outbox.all()) if (posted.includes(e.id)) expect(e.attemptedAt).toBeDefined();
    if (o.expectTorn) expect(log.entries.some((e) => e.level === 'warn' && /torn line/.test(e.msg))).toBe(true);
  } finally {
    // Not store.close(): that would compact, and hide from the next run what this crash left.
    await store.history.segments.close();
  }
}

const POINTS: Array<{ point: string; torn?: boolean }> = [
  { point: 'segment-append:torn', torn: true },
  { point: 'segment-append:unsynced' },
  { point: 'settle:after-history' },
  { point: 'journal-append:torn', torn: true },
  { point: 'journal-append:unsynced' },
  { point: 'compact:before-snapshot' },
  { point: 'compact:after-snapshot' },
];

describe('the embedded store after a SIGKILL', () => {
  it.each(POINTS)('loses nothing and posts nothing twice when killed at $point', async ({ point, torn }) => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-crash-'));
    const crashed = await runChild(['0', '200', point, '20']);
    expect(crashed.signal, `the child reached ${point}: ${crashed.stderr}`).toBe('SIGKILL');
    expect(crashed.oks.length).toBeGreaterThanOrEqual(20);
    await checkInvariants(crashed.oks, { expectTorn: torn });
    // Start again: the rounds in doubt are settled by reading back, and work goes on (killed again, so no clean close
    // compacts away what the first crash left); then once more, to a clean exit.
    const next = Math.max(...crashed.oks) + 1;
    const again = await runChild([String(next), '1000'], { afterOks: 10 });
    expect(again.signal, again.stderr).toBe('SIGKILL');
    await checkInvariants([...crashed.oks, ...again.oks]);
    const last = await runChild([String(Math.max(...again.oks) + 1), '5']);
    expect(last.code, last.stderr).toBe(0);
    await checkInvariants([...crashed.oks, ...again.oks, ...last.oks]);
  });

  it('survives kills at arbitrary moments, round after round', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'store-crash-'));
    const acked: number[] = [];
    let next = 0;
    for (const afterOks of [3, 17, 1, 29, 8]) {
      const run = await runChild([String(next), '1000'], { afterOks });
      expect(run.signal).toBe('SIGKILL');
      acked.push(...run.oks);
      next = Math.max(next, ...run.oks.map((i) => i + 1));
      await checkInvariants(acked);
    }
  });
});
