import { describe, expect, it } from 'vitest';
import { detectNoOpRevision } from '../../src/core/rollout-threads/detect-no-op-revision.js';
import { renderNoOpNote } from '../../src/core/rollout-threads/render-no-op-note.js';
import { asStable } from '../../src/core/rollout/as-stable.js';
import { readRollout } from '../../src/core/rollout/read-rollout.js';
import type { ContainerImage, RolloutState } from '../../src/core/rollout/rollout-state.js';
import { canaryState, threadOf } from '../support/state-builders.js';

const VOTE: ContainerImage = { container: 'vote', image: 'repo/vote:ea11a24-1', tag: 'ea11a24-1' };
const PROXY: ContainerImage = { container: 'proxy', image: 'envoy:v1.30', tag: 'v1.30' };

/** Revision 2, stable and healthy (pod hash `abc`): what the bot last saw before the new revision. */
const STABLE = asStable(canaryState({ images: [VOTE, PROXY] }));

/** Revision 3 (pod hash `def`) just started: the stable pods (`abc`) serve, step 1/4. */
function nextRevision(o: Partial<RolloutState> = {}): RolloutState {
  return canaryState({ revision: '3', currentPodHash: 'def', stableRS: 'abc', images: [VOTE, PROXY], phase: 'Progressing', message: 'more replicas need to be updated', ...o });
}

const completed = (last: RolloutState = STABLE) => threadOf(last, { outcome: 'completed' });

describe('detectNoOpRevision', () => {
  it('takes a revision with the same images as the completed thread for a no-op', () => {
    expect(detectNoOpRevision({ next: nextRevision(), previous: completed() })).toEqual({ noOp: true });
  });

  it('takes a revision with the same images as the settled baseline for a no-op', () => {
    expect(detectNoOpRevision({ next: nextRevision(), baseline: STABLE })).toEqual({ noOp: true });
  });

  it('ignores the order of the containers', () => {
    expect(detectNoOpRevision({ next: nextRevision({ images: [PROXY, VOTE] }), previous: completed() })).toEqual({ noOp: true });
  });

  it('takes a no-op revision that has already become stable itself for one', () => {
    const done = nextRevision({ stableRS: 'def', fullyPromoted: true, phase: 'Healthy', message: '' });
    expect(detectNoOpRevision({ next: done, previous: completed() })).toEqual({ noOp: true });
  });

  it('sees through the "not yet observed" phase the spec change showed on the stable state', () => {
    const shown = { ...STABLE, phase: 'Progressing' as const, message: 'waiting for rollout spec update to be observed', unobserved: { phase: 'Healthy' as const, message: '' } };
    expect(detectNoOpRevision({ next: nextRevision(), previous: completed(shown) })).toEqual({ noOp: true });
  });

  it.each([
    ['a new tag of one container', [{ ...VOTE, image: 'repo/vote:bbbbbbb-2', tag: 'bbbbbbb-2' }, PROXY]],
    ['the same tag from another registry', [{ ...VOTE, image: 'other.registry/vote:ea11a24-1' }, PROXY]],
    ['a digest pinned onto the same tag', [{ ...VOTE, image: 'repo/vote:ea11a24-1@sha256:0123' }, PROXY]],
    ['a container added', [VOTE, PROXY, { container: 'sidecar', image: 'busybox:1' }]],
    ['a container removed', [VOTE]],
    ['a container renamed', [{ ...VOTE, container: 'web' }, PROXY]],
  ])('opens a deploy for %s', (_what, images) => {
    expect(detectNoOpRevision({ next: nextRevision({ images }), previous: completed() })).toEqual({ noOp: false, reason: 'images-differ' });
  });

  it('opens a deploy when only an init container image changed', () => {
    const stable = { ...STABLE, initImages: [{ container: 'migrate', image: 'repo/migrate:1' }] };
    const next = nextRevision({ initImages: [{ container: 'migrate', image: 'repo/migrate:2' }] });
    expect(detectNoOpRevision({ next, previous: completed(stable) })).toEqual({ noOp: false, reason: 'images-differ' });
  });

  it.each([
    ['the thread is still in progress', { previous: threadOf(canaryState()) }],
    ['the thread was aborted', { previous: threadOf(STABLE, { outcome: 'aborted' }) }],
    ['the thread was superseded', { previous: threadOf(STABLE, { outcome: 'superseded' }) }],
    ['the completed thread\'s rollout was deleted', { previous: completed({ ...STABLE, deleted: true }) }],
    ['nothing was seen before', {}],
    ['the baseline is not settled', { baseline: canaryState(), previous: completed() }],
  ])('opens a deploy when %s', (_what, known) => {
    expect(detectNoOpRevision({ next: nextRevision(), ...known })).toEqual({ noOp: false, reason: 'no-stable-revision' });
  });

  it('opens a deploy when revisions were skipped (something happened while nobody watched)', () => {
    expect(detectNoOpRevision({ next: nextRevision({ revision: '5' }), previous: completed() })).toEqual({ noOp: false, reason: 'not-next-revision' });
  });

  it('opens a deploy when another revision became stable since (a deploy and a rollback unseen)', () => {
    expect(detectNoOpRevision({ next: nextRevision({ stableRS: 'zzz' }), previous: completed() })).toEqual({ noOp: false, reason: 'stable-moved' });
  });

  it('opens a deploy for a re-created rollout (another uid)', () => {
    expect(detectNoOpRevision({ next: nextRevision({ uid: 'uid-2', revision: '1' }), previous: completed() })).toEqual({ noOp: false, reason: 'other-rollout' });
  });

  it('opens a deploy when the images are not in the Rollout (workloadRef)', () => {
    const ref = { workloadRef: { kind: 'Deployment', name: 'vote' }, images: [] };
    expect(detectNoOpRevision({ next: nextRevision(ref), previous: completed({ ...STABLE, ...ref }) })).toEqual({ noOp: false, reason: 'no-images' });
  });

  it('reads init container images from the pod template', () => {
    const state = readRollout({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: 'vote', namespace: 'ns' },
      spec: { template: { spec: { initContainers: [{ name: 'migrate', image: 'repo/migrate:1' }], containers: [{ name: 'vote', image: 'repo/vote:1' }] } } },
    });
    expect(state.initImages).toEqual([{ container: 'migrate', image: 'repo/migrate:1', tag: '1' }]);
    expect(state.images).toEqual([{ container: 'vote', image: 'repo/vote:1', tag: '1' }]);
  });
});

describe('renderNoOpNote', () => {
  it('names every rollout in one note', () => {
    const text = renderNoOpNote([
      { app: 'shop', env: 'prod', rollout: 'shop-prod/web', revision: '4' },
      { app: 'pay', env: 'prod', rollout: 'pay-prod/api', revision: '9' },
    ]);
    expect(text).toContain('2 rollouts got a new revision that runs the same images');
    expect(text).toContain('• shop · prod: `shop-prod/web` revision 4');
    expect(text).toContain('• pay · prod: `pay-prod/api` revision 9');
  });
});
