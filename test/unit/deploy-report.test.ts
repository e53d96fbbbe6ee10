import { describe, expect, it } from 'vitest';
import { buildDeployReport, describeEventKey } from '../../src/core/reports/build-deploy-report.js';
import { renderDeployReport } from '../../src/core/reports/render-deploy-report.js';
import type { ThreadRecord } from '../../src/core/store-data.js';

const T0 = Date.UTC(2026, 0, 29, 12, 0, 0);
const thread = (o: Partial<ThreadRecord> = {}): ThreadRecord => ({
  key: 'voting01/staging/uid/2', app: 'voting01', env: 'staging', namespace: 'voting01-staging', rollout: 'vote', revision: '2', tag: 'ea11a24-20260129125607',
  channel: 'C0STAGING', createdAt: T0, attempt: 1, cardVersion: 1, cardSent: 1, startedAt: T0,
  announced: ['deploy-started', 'a1:step-completed:1', 'a1:paused:manual:1', 'a1:analysis:background:success-rate:Successful', 'a1:resumed:manual:1', 'a1:completed'],
  actions: [{ at: T0 + 60_000, who: 'U0LEAD', what: 'promoted' }],
  outcome: 'completed', finishedAt: T0 + 90_000, waitedMs: 45_000,
  ...o,
});

describe('deploy report', () => {
  it('lays out start, announced events in order, actions with who, and the end', () => {
    const r = buildDeployReport(thread(), T0 + 120_000);
    expect(r.timeline.map((e) => [e.kind, e.text])).toEqual([
      ['start', 'deploy of revision 2 started'],
      ['event', 'step 1 completed'],
      ['event', 'paused at step 2 (manual)'],
      ['event', 'background analysis success-rate: Successful'],
      ['event', 'resumed'],
      ['action', 'promoted'],
      ['end', 'completed'],
    ]);
    expect(r).toMatchObject({ outcome: 'completed', tookMs: 90_000, waitedMs: 45_000, promotedBy: ['U0LEAD'] });
  });

  it('counts a wait still running and the time so far for a deploy in progress', () => {
    const r = buildDeployReport(thread({ outcome: undefined, finishedAt: undefined, waitingSince: T0 + 100_000 }), T0 + 130_000);
    expect(r).toMatchObject({ outcome: 'in progress', tookMs: 130_000, waitedMs: 75_000 });
    expect(r.timeline.at(-1)?.kind).toBe('action');
  });

  it('names a retried attempt', () => {
    expect(describeEventKey('a2:step-completed:3')).toBe('step 3 completed (attempt 2)');
  });

  it('renders a summary section and the timeline collapsed in a context block', () => {
    const m = renderDeployReport(buildDeployReport(thread(), T0 + 120_000));
    expect(m.text).toBe('📋 *Deploy report* voting01 staging · revision 2 `ea11a24-20260129125607`: ✅ completed, took 1m30s, 45s of it waiting for people · promoted by <@U0LEAD>.');
    const ctx = m.blocks[1] as { type: string; elements: Array<{ text: string }> };
    expect(ctx.type).toBe('context');
    expect(ctx.elements).toHaveLength(7);
    expect(ctx.elements[5]!.text).toMatch(/promoted \(<@U0LEAD>\)$/);
  });

  it('keeps a long timeline within a context block, with its end', () => {
    const announced = ['deploy-started', ...Array.from({ length: 20 }, (_, i) => `a1:step-completed:${i + 1}`)];
    const ctx = renderDeployReport(buildDeployReport(thread({ announced }), T0)).blocks[1] as { elements: Array<{ text: string }> };
    expect(ctx.elements).toHaveLength(10);
    expect(ctx.elements[8]!.text).toMatch(/more$/);
    expect(ctx.elements[9]!.text).toMatch(/completed$/);
  });
});

describe('/rollout report', () => {
  it('parses the environment and app', async () => {
    const { parseCommand } = await import('../../src/core/commands/parse-command.js');
    expect(parseCommand('/rollout', 'report staging voting01')).toEqual({ ok: true, command: { verb: 'report', env: 'staging', app: 'voting01' } });
    expect(parseCommand('/rollout', 'report').ok).toBe(false);
  });
});
