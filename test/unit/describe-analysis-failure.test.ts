import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeAnalysisFailure } from '../../src/core/rollout/describe-analysis-failure.js';
import { readAnalysisRun } from '../../src/core/rollout/read-analysis-run.js';
import { observedFacts } from '../../src/core/rollout/observed-facts.js';
import { showUnobserved } from '../../src/core/rollout/show-unobserved.js';
import { describeProgress } from '../../src/core/rollout/describe-state.js';
import { readRollout } from '../../src/core/rollout/read-rollout.js';

const fixture = (name: string): unknown => parse(readFileSync(new URL(`../fixtures/argo-rollouts/${name}`, import.meta.url), 'utf8'));

describe('describeAnalysisFailure', () => {
  it('names the failing metric of the shared fixture with its measured value and condition', () => {
    const run = readAnalysisRun(fixture('analysisrun-failed.yaml'));
    expect(run.phase).toBe('Failed');
    expect(describeAnalysisFailure(run)).toEqual(['web = false (needs result == "true")']);
  });

  it('lists several values and both conditions', () => {
    const run = readAnalysisRun({
      kind: 'AnalysisRun',
      metadata: { name: 'ar', namespace: 'ns' },
      spec: { metrics: [{ name: 'success-rate', successCondition: 'result[0] >= 0.95', failureCondition: 'result[0] < 0.5' }, { name: 'latency', successCondition: 'result < 300' }] },
      status: { phase: 'Failed', metricResults: [
        { name: 'success-rate', phase: 'Failed', measurements: [{ phase: 'Failed', value: '0.82' }, { phase: 'Failed', value: '0.79' }] },
        { name: 'latency', phase: 'Successful', measurements: [{ phase: 'Successful', value: '120' }] },
      ] },
    });
    expect(describeAnalysisFailure(run)).toEqual(['success-rate = 0.82, 0.79 (needs result[0] >= 0.95; fails when result[0] < 0.5)']);
  });

  it('refuses an object of another kind', () => {
    expect(() => readAnalysisRun({ kind: 'Rollout', metadata: { name: 'x' } })).toThrow(/expected an Argo Rollouts AnalysisRun/);
  });
});

describe('showUnobserved', () => {
  it('shows the Argo phase over the last observed facts, and gives those back for diffs', () => {
    const accepted = readRollout(fixture('canary-paused-at-pause-step-v1.yaml'));
    const shown = showUnobserved(accepted, { phase: 'Progressing', message: 'waiting for rollout spec update to be observed', generation: accepted.generation + 1 });
    expect([shown.phase, shown.message]).toEqual(['Progressing', 'waiting for rollout spec update to be observed']);
    expect(shown.pauseReasons).toEqual(accepted.pauseReasons);
    expect(observedFacts(shown).phase).toBe(accepted.phase);
    expect(observedFacts(shown).message).toBe(accepted.message);
  });
});

describe('describeProgress', () => {
  it('says set weight, and the actual weight where the status reports it', () => {
    expect(describeProgress(readRollout(fixture('canary-paused-at-pause-step-v1.yaml')))).toContain('set weight 21%');
    expect(describeProgress(readRollout(fixture('canary-trafficrouted-weights-timedout.yaml')))).toMatch(/set weight \d+% · actual weight 20%/);
  });
});
