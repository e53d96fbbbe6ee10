import { createHash } from 'node:crypto';
import { readRollout } from '../../src/core/rollout/read-rollout.js';
import type { RolloutState } from '../../src/core/rollout/rollout-state.js';
import type { StoreData, ThreadRecord } from '../../src/core/store-data.js';
import { loadRolloutFixture, type RolloutFixtureFile } from '../../emulators/world/rollout-fixtures.js';

/** Real Rollout objects (trimmed from clusters) whose states the records carry, with how often each kind ends a deploy. */
const TEMPLATES: Array<{ file: RolloutFixtureFile; share: number; outcome?: ThreadRecord['outcome'] }> = [
  { file: 'healthy-canary-workloadref-v1.yaml', share: 0.8, outcome: 'completed' },
  { file: 'canary-aborted-background-analysis-failed.yaml', share: 0.08, outcome: 'aborted' },
  { file: 'canary-paused-at-pause-step-v1.yaml', share: 0.05, outcome: 'superseded' },
  { file: 'bluegreen-paused-awaiting-promotion.yaml', share: 0.04, outcome: 'completed' },
  { file: 'canary-trafficrouted-weights-timedout.yaml', share: 0.03, outcome: 'aborted' },
];

const hex = (s: string, n: number) => createHash('sha1').update(s).digest('hex').slice(0, n);

/**
 * `n` deploy records (ThreadRecords) as a busy bot accumulates them: 1,000 environments (50 apps × 20), each deploy
 * with its final RolloutState, the keys it announced, an approver action or two, a paired commit; plus the per-env
 * records, one commit per 20 deploys (a tag travels through the environments) and as many handled webhook ids.
 */
export function fillDeployRecords(data: StoreData, n: number): void {
  const states = TEMPLATES.map((t) => ({ ...t, state: readRollout(loadRolloutFixture(t.file)) }));
  const start = Date.UTC(2026, 0, 1);
  for (let k = 0; k < n; k++) {
    const app = `app${String((k % 50) + 1).padStart(2, '0')}`;
    const env = `env${String((Math.floor(k / 50) % 20) + 1).padStart(2, '0')}`;
    const pick = (k * 7919) % 100;
    let acc = 0;
    const t = states.find((s) => (acc += s.share * 100) > pick) ?? states[0]!;
    const revision = String(2 + Math.floor(k / 1000));
    const uid = `${hex(`${app}/${env}`, 8)}-${hex(`uid:${app}/${env}`, 4)}-4000-8000-${hex(`u:${app}/${env}`, 12)}`;
    const sha = hex(`commit:${app}:${Math.floor(k / 20)}`, 40);
    const tag = `${sha.slice(0, 7)}-${Math.floor(k / 20) + 1}`;
    const image = `123456789012.dkr.ecr.us-east-1.amazonaws.com/${app}-vote:${tag}`;
    const state: RolloutState = {
      ...structuredClone(t.state),
      namespace: `${app}-${env}`,
      name: 'vote',
      uid,
      revision,
      currentPodHash: hex(image, 10),
      stableRS: t.outcome === 'completed' ? hex(image, 10) : t.state.stableRS,
      images: t.state.images.map((i) => ({ ...i, image, tag })),
    };
    const at = start + k * 60_000;
    const key = `${app}/${env}/${uid.slice(0, 8)}/r${revision}`;
    const steps = state.canary?.stepCount ?? 0;
    const announced = ['deploy-started', ...Array.from({ length: steps }, (_, s) => `a1:step-completed:${s + 1}`)];
    if (t.outcome === 'completed') announced.push('a1:completed');
    if (t.outcome === 'aborted') announced.push('a1:aborted');
    const record: ThreadRecord = {
      key, app, env, namespace: state.namespace, rollout: 'vote', uid, revision, podHash: state.currentPodHash, tag,
      channel: `C0APP${app.slice(3)}`, rootTs: `${Math.floor(at / 1000)}.${String(k % 1_000_000).padStart(6, '0')}`, createdAt: at, attempt: 1,
      announced, lastState: state, cardVersion: 6 + (k % 9), cardSent: 6 + (k % 9),
      actions: k % 3 === 0 ? [{ at: at + 300_000, who: 'U0LEAD', what: 'promoted to full' }] : [],
      outcome: t.outcome, finishedAt: at + 900_000, startedAt: at, commitSha: sha, commitLookedUp: true,
    };
    data.threads[key] = record;
    data.envs[`${app}/${env}`] = { threadKey: key };
    if (k % 20 === 0) {
      data.commits[sha] = { sha, repo: `acme/${app}`, message: `Change ${k / 20} of ${app}: tune the vote button`, authorName: 'Ada Lovelace', authorLogin: 'ada', url: `https://github.com/acme/${app}/commit/${sha}`, at, source: 'push' };
      data.seen[`gh:${hex(`delivery:${k}`, 8)}-${hex(`d2:${k}`, 4)}-4000-8000-${hex(`d3:${k}`, 12)}`] = at;
    }
  }
}
