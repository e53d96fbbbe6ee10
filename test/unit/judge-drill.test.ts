import { describe, expect, it } from 'vitest';
import { judgeDrill, stableRestored } from '../../src/core/drills/judge-drill.js';
import { renderDrillReport } from '../../src/core/drills/render-drill-report.js';
import type { DrillRecord } from '../../src/core/store-data.js';
import { abortedState, canaryState, threadOf } from '../support/state-builders.js';

const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);

function drill(o: Partial<DrillRecord> = {}): DrillRecord {
  return { id: 'd1', app: 'voting01', env: 'qa', threadKey: 'voting01/qa/uid-1/r2', startedBy: 'U0LEAD', startedAt: T0, errorsOnAt: T0, deadline: T0 + 10 * 60_000, status: 'running', ...o };
}

describe('judgeDrill', () => {
  it('stays undecided while the canary runs on', () => {
    const d = drill();
    expect(judgeDrill(d, threadOf(canaryState()), T0 + 60_000)).toBeUndefined();
    expect(d.analysisFailedAt).toBeUndefined();
  });

  it('passes when the analysis failed, the rollout aborted and stable serves again, with the times it saw them', () => {
    const d = drill();
    const v = judgeDrill(d, threadOf(abortedState(), { outcome: 'aborted' }), T0 + 70_000);
    expect(v?.status).toBe('passed');
    expect(v?.verdict).toContain('after 1m10s');
    expect(d).toMatchObject({ analysisFailedAt: T0 + 70_000, abortedAt: T0 + 70_000, stableAt: T0 + 70_000 });
    expect(d.analysisMessage).toContain('vote-abc-2-1');
  });

  it('waits for traffic back on stable after the abort', () => {
    const d = drill();
    const s = abortedState();
    const stillOnCanary = { ...s, canary: { ...s.canary!, setWeight: 0, actualWeight: 20 } };
    expect(judgeDrill(d, threadOf(stillOnCanary), T0 + 60_000)).toBeUndefined();
    expect(d.abortedAt).toBe(T0 + 60_000);
    expect(judgeDrill(d, threadOf(s), T0 + 90_000)?.status).toBe('passed');
    expect(d.stableAt).toBe(T0 + 90_000);
  });

  it('fails when the rollout completes', () => {
    const done = canaryState({ phase: 'Healthy', message: '', pauseReasons: [], fullyPromoted: true, stableRS: 'abc' });
    const v = judgeDrill(drill(), threadOf(done, { outcome: 'completed' }), T0 + 120_000);
    expect(v).toMatchObject({ status: 'failed' });
    expect(v?.verdict).toContain('rollout completed 2m after errors went on');
  });

  it('fails when a person aborted it rather than the analysis', () => {
    const s = abortedState();
    const manual = { ...s, analysis: [], abortReason: 'Rollout aborted update to revision 2' };
    const v = judgeDrill(drill(), threadOf(manual), T0 + 30_000);
    expect(v?.status).toBe('failed');
    expect(v?.verdict).toContain('not because an analysis failed');
  });

  it('fails at the deadline, saying what did not happen', () => {
    expect(judgeDrill(drill(), threadOf(canaryState()), T0 + 10 * 60_000)?.verdict).toContain('nothing happened within 10m');
    const analysisOnly = canaryState({ analysis: [{ kind: 'background', name: 'bg', status: 'Failed' }] });
    expect(judgeDrill(drill(), threadOf(analysisOnly), T0 + 10 * 60_000)?.verdict).toContain('did not abort within 10m');
  });

  it('fails when a new revision replaced the canary', () => {
    expect(judgeDrill(drill(), threadOf(canaryState(), { outcome: 'superseded' }), T0 + 1000)?.verdict).toContain('new revision');
  });

  it('fails when the thread is gone', () => {
    expect(judgeDrill(drill(), undefined, T0 + 1000)?.status).toBe('failed');
  });
});

describe('stableRestored', () => {
  it('needs the abort, no canary weight and every stable pod available', () => {
    expect(stableRestored(abortedState())).toBe(true);
    expect(stableRestored(canaryState())).toBe(false);
    expect(stableRestored({ ...abortedState(), replicas: { desired: 3, updated: 0, ready: 2, available: 2 } })).toBe(false);
  });
});

describe('renderDrillReport', () => {
  it('lists the timeline in order with times since errors went on, the durations and the verdict', () => {
    const text = renderDrillReport(drill({ status: 'passed', analysisFailedAt: T0 + 70_000, abortedAt: T0 + 71_000, stableAt: T0 + 75_000, errorsOffAt: T0 + 76_000, verdict: 'the analysis caught the errors' }));
    const steps = ['errors on', 'analysis failed (+1m10s)', 'aborted (+1m11s)', 'stable restored (+1m15s)', 'errors off (+1m16s)'];
    const at = steps.map((s) => text.indexOf(s));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(text).toContain('✅ *PASSED*');
    expect(text).toContain('to detect 1m10s · to abort 1m11s · to stable 1m15s');
    expect(text).toContain('<!date^1795338000^{time_secs}|09:00:00 UTC>');
  });

  it('says which steps were not seen, and when errors could not be switched off', () => {
    const text = renderDrillReport(drill({ status: 'failed', completedAt: T0 + 5000, errorsOffError: 'GET failed: ECONNREFUSED', verdict: 'the rollout completed' }));
    expect(text).toContain('❌ *FAILED*');
    expect(text).toContain('analysis failed: not seen');
    expect(text).toContain('stable restored: not seen');
    expect(text).toContain('rollout completed (no rollback) (+5s)');
    expect(text).toContain('errors off: failed (GET failed: ECONNREFUSED); their TTL still switches them off');
  });
});
