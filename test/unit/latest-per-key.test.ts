import { describe, expect, it } from 'vitest';
import { LatestPerKey } from '../../src/core/deployments/latest-per-key.js';

/** A job that runs until released; records when it started. */
function gate(log: string[], name: string) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  return { fn: async () => { log.push(`start ${name}`); await released; log.push(`end ${name}`); }, release };
}

const ticks = async (n = 5) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

describe('LatestPerKey', () => {
  it('runs one job per key at a time and joins calls made while the next one waits (the newest function runs)', async () => {
    const log: string[] = [];
    const lanes = new LatestPerKey(4);
    const a1 = gate(log, 'a1');
    const p1 = lanes.run('a', a1.fn);
    await ticks();
    const p2 = lanes.run('a', async () => void log.push('a2'));
    const p3 = lanes.run('a', async () => void log.push('a3'));
    expect(p3).toBe(p2);
    await ticks();
    expect(log).toEqual(['start a1']);
    a1.release();
    await Promise.all([p1, p2]);
    expect(log).toEqual(['start a1', 'end a1', 'a3']);
    await lanes.settled();
  });

  it('runs at most `concurrency` keys at once, the others in the order they came', async () => {
    const log: string[] = [];
    const lanes = new LatestPerKey(2);
    const jobs = ['a', 'b', 'c', 'd'].map((k) => gate(log, k));
    const done = jobs.map((j, i) => lanes.run('abcd'[i]!, j.fn));
    await ticks();
    expect(log).toEqual(['start a', 'start b']);
    jobs[1]!.release();
    await done[1];
    await ticks();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    let settled = false;
    const all = lanes.settled().then(() => (settled = true));
    for (const j of jobs) j.release();
    await Promise.all(done);
    await all;
    expect(settled).toBe(true);
    expect(log.filter((l) => l.startsWith('start'))).toEqual(['start a', 'start b', 'start c', 'start d']);
  });

  it('rejects with the job’s error and goes on with the next', async () => {
    const lanes = new LatestPerKey(1);
    const failed = lanes.run('a', async () => {
      throw new Error('github down');
    });
    const next = lanes.run('b', async () => undefined);
    await expect(failed).rejects.toThrow('github down');
    await expect(next).resolves.toBeUndefined();
    await lanes.settled();
  });

  it('drops the jobs waiting for their turn (they resolve without running) and lets the running one finish', async () => {
    const log: string[] = [];
    const lanes = new LatestPerKey(1);
    const a = gate(log, 'a');
    const running = lanes.run('a', a.fn);
    const waiting = lanes.run('b', async () => void log.push('b'));
    const again = lanes.run('a', async () => void log.push('a again'));
    await ticks();
    lanes.drop();
    await expect(waiting).resolves.toBeUndefined();
    await expect(again).resolves.toBeUndefined();
    a.release();
    await running;
    await lanes.settled();
    expect(log).toEqual(['start a', 'end a']);
  });
});
