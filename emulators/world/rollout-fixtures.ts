import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** The fixture files copied into this repo (test/fixtures/argo-rollouts), verbatim from the shared set. */
export const ROLLOUT_FIXTURE_FILES = [
  'analysisrun-failed.yaml',
  'bluegreen-paused-awaiting-promotion.yaml',
  'canary-aborted-background-analysis-failed.yaml',
  'canary-paused-at-pause-step-v1.yaml',
  'canary-paused-inconclusive-analysis.yaml',
  'canary-trafficrouted-weights-timedout.yaml',
  'degraded-invalid-spec.yaml',
  'healthy-canary-workloadref-v1.yaml',
] as const;

export type RolloutFixtureFile = (typeof ROLLOUT_FIXTURE_FILES)[number];

/** The repo's copy of the fixtures. */
export const ROLLOUT_FIXTURES_DIR = new URL('../../test/fixtures/argo-rollouts/', import.meta.url);

/** Reads one fixture file as text. */
export function rolloutFixtureText(file: RolloutFixtureFile, dir: URL = ROLLOUT_FIXTURES_DIR): string {
  return readFileSync(new URL(file, dir), 'utf8');
}

/** Parses one fixture into a fresh plain object (safe to mutate). */
export function loadRolloutFixture(file: RolloutFixtureFile): Record<string, any> {
  return parse(rolloutFixtureText(file)) as Record<string, any>;
}
