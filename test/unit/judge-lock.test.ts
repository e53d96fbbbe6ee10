import { describe, expect, it } from 'vitest';
import { judgeLock } from '../../src/core/locks/judge-lock.js';
import type { FreezeCalendar } from '../../src/core/locks/freeze-calendar.js';
import { createCronFreezeCalendar } from '../../src/adapters/scheduler/cron-freeze-calendar.js';
import { describeHold, renderHoldRefusal } from '../../src/core/locks/render-lock.js';
import type { LockRecord } from '../../src/core/locks/lock-record.js';

const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const calendar = createCronFreezeCalendar();
const never: FreezeCalendar = { previousFire: () => { throw new Error('not asked'); } };
const lock: LockRecord = { app: 'voting01', env: 'staging', by: 'U0LEAD', source: 'slack', reason: 'db migration', since: at('2026-11-22T08:30:00Z') };
const weekend = { cron: '0 16 * * 5', duration: 64 * H, reason: 'weekend freeze' };
const holidays = { from: at('2026-12-20T00:00:00Z'), to: at('2027-01-04T00:00:00Z'), reason: 'holidays' };

describe('judgeLock', () => {
  it('is open with no lock and no freezes', () => {
    expect(judgeLock({ now: at('2026-11-22T09:00:00Z'), calendar: never })).toBeUndefined();
  });

  it('puts a lock first, without asking the calendar', () => {
    expect(judgeLock({ lock, freezes: [weekend], now: at('2026-11-21T09:00:00Z'), calendar: never })).toEqual({ kind: 'lock', lock });
  });

  it.each([
    ['Friday 15:59, before the window', '2026-11-20T15:59:00Z', undefined],
    ['Friday 16:00, as it starts', '2026-11-20T16:00:00Z', { start: at('2026-11-20T16:00:00Z'), end: at('2026-11-23T08:00:00Z') }],
    ['Sunday noon', '2026-11-22T12:00:00Z', { start: at('2026-11-20T16:00:00Z'), end: at('2026-11-23T08:00:00Z') }],
    ['Monday 08:00, as it ends', '2026-11-23T08:00:00Z', undefined],
  ])('a cron window: %s', (_, now, window) => {
    const hold = judgeLock({ freezes: [weekend], now: at(now), calendar });
    expect(hold).toEqual(window ? { kind: 'freeze', reason: 'weekend freeze', cron: '0 16 * * 5', ...window } : undefined);
  });

  it('reads a cron window in its time zone', () => {
    const berlin = { ...weekend, timezone: 'Europe/Berlin' };
    // 16:00 in Berlin is 15:00 UTC in November.
    expect(judgeLock({ freezes: [berlin], now: at('2026-11-20T15:30:00Z'), calendar })).toMatchObject({ start: at('2026-11-20T15:00:00Z') });
  });

  it.each([
    ['before', '2026-12-19T23:59:59Z', false],
    ['at from', '2026-12-20T00:00:00Z', true],
    ['inside', '2026-12-25T10:00:00Z', true],
    ['at to', '2027-01-04T00:00:00Z', false],
  ])('a dated window: %s', (_, now, inside) => {
    expect(judgeLock({ freezes: [holidays], now: at(now), calendar: never }) !== undefined).toBe(inside);
  });

  it('names the window that ends last when several hold', () => {
    const hold = judgeLock({ freezes: [weekend, holidays], now: at('2026-12-25T17:00:00Z'), calendar });
    expect(hold).toMatchObject({ kind: 'freeze', reason: 'holidays', end: holidays.to });
  });
});

describe('the words of a hold', () => {
  it('says who locked it, why and since when', () => {
    const text = describeHold({ hold: { kind: 'lock', lock }, name: 'voting01 staging', now: at('2026-11-22T09:00:00Z') });
    expect(text).toBe('🔒 voting01 staging is locked by <@U0LEAD> since 2026-11-22 08:30 UTC (30 min ago): db migration');
  });

  it('names the freeze window and its reason, and how to override', () => {
    const text = renderHoldRefusal({ hold: { kind: 'freeze', reason: 'holidays', start: holidays.from, end: holidays.to }, name: 'voting01 qa', now: at('2026-12-25T10:00:00Z'), what: 'dispatch' });
    expect(text).toBe('🧊 voting01 qa is frozen: holidays, from 2026-12-20 00:00 UTC until 2027-01-04 00:00 UTC. Nothing was dispatched; an approver can add `--force` to override (the override is recorded).');
  });
});
