import { describe, expect, it } from 'vitest';
import { PacedLimiter, TokenBucket } from '../../src/core/delivery/token-bucket.js';

describe('TokenBucket', () => {
  it('tells how long until several tokens are there, and never for more than the burst', () => {
    const b = new TokenBucket(1, 4, 0);
    for (let i = 0; i < 4; i++) b.take(0);
    expect(b.waitMs(0)).toBe(1000);
    expect(b.waitMs(0, 3)).toBe(3000);
    expect(b.waitMs(2000, 3)).toBe(1000);
    expect(b.waitMs(0, 5)).toBe(Infinity);
  });
});

describe('PacedLimiter', () => {
  it('holds 10 per 10 s: the 11th waits until the oldest of the window leaves it', () => {
    const l = new PacedLimiter(1, 20, 0, 10_000);
    for (let i = 0; i < 10; i++) expect(l.take(i * 100)).toBe(true);
    expect(l.waitMs(1000)).toBe(9000);
    expect(l.take(9999)).toBe(false);
    expect(l.take(10_000)).toBe(true);
  });

  it('tells how long until the window has room for several', () => {
    const l = new PacedLimiter(1, 20, 0, 10_000);
    for (let i = 0; i < 10; i++) l.take(i * 1000);
    // Room for 3 once the first three stamps (0, 1000, 2000) have left.
    expect(l.waitMs(9500, 3)).toBe(2500);
    expect(l.waitMs(9500, 11)).toBe(Infinity);
  });

  it('counts a post until its answer came back, so the next window starts after it', () => {
    const l = new PacedLimiter(1, 20, 0, 10_000);
    for (let i = 0; i < 10; i++) l.take(0);
    // The first post's answer came back at 900 ms: Slack may have seen it that late.
    expect(l.restamp(0, 900)).toBe(900);
    expect(l.available(10_000)).toBe(9);
    expect(l.waitMs(10_000, 10)).toBe(900);
    expect(l.available(10_900)).toBe(10);
  });

  it('leaves a stamp alone when asked to move it back in time or when it does not hold it', () => {
    const l = new PacedLimiter(1, 20, 0, 10_000);
    l.take(500);
    expect(l.restamp(500, 400)).toBe(500);
    expect(l.restamp(123, 900)).toBe(123);
    expect(l.available(500)).toBe(9);
  });
});
