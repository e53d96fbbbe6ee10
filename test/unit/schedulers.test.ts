import { describe, expect, it } from 'vitest';
import { startTicker } from '../../src/adapters/scheduler/clock-ticker.js';
import { scheduleCron } from '../../src/adapters/scheduler/cron-schedule.js';
import { silentLogger } from '../../src/core/logger.js';
import { waitFor } from '../support/harness.js';
import { ManualClock } from '../support/manual-clock.js';

describe('startTicker', () => {
  it('runs at once and then every period of clock time', async () => {
    const clock = new ManualClock(0);
    const runs: number[] = [];
    const ticker = startTicker({ clock, everyMs: 30_000, run: async () => void runs.push(clock.now()), log: silentLogger, name: 't' });
    await clock.advance(95_000);
    expect(runs).toEqual([0, 30_000, 60_000, 90_000]);
    await ticker.stop();
    await clock.advance(60_000);
    expect(runs).toHaveLength(4);
  });

  it('skips a tick while the previous run is still going', async () => {
    const clock = new ManualClock(0);
    let release!: () => void;
    let runs = 0;
    const ticker = startTicker({ clock, everyMs: 1000, run: () => { runs++; return new Promise<void>((r) => { release = r; }); }, log: silentLogger, name: 't' });
    await clock.advance(3000);
    expect(runs).toBe(1);
    release();
    await clock.advance(1000);
    expect(runs).toBe(2);
    release();
    await ticker.stop();
  });
});

describe('scheduleCron', () => {
  it('runs the job with the time it was scheduled for, until stopped', async () => {
    const seen: number[] = [];
    const schedule = scheduleCron({ expression: '* * * * * *', name: 'test', log: silentLogger, run: async (at) => void seen.push(at) });
    expect(schedule.nextRun()).toBeInstanceOf(Date);
    await waitFor(() => seen.length > 0, 'a cron run', 3000);
    expect(seen[0]! % 1000).toBe(0);
    await schedule.stop();
  });

  it('rejects an unknown time zone', () => {
    expect(() => scheduleCron({ expression: '0 9 * * *', timezone: 'Mars/Olympus', name: 'test', log: silentLogger, run: async () => {} })).toThrow();
  });
});
