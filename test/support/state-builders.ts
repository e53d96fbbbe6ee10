import { parse } from 'yaml';
import { Catalog } from '../../src/core/catalog.js';
import { Config } from '../../src/config/config-schema.js';
import type { StateStore } from '../../src/adapters/store/state-store.js';
import type { RolloutState } from '../../src/core/rollout/rollout-state.js';
import { emptyStoreData, type StoreData, type ThreadRecord } from '../../src/core/store-data.js';

/** A canary in progress at step 2/4 (an indefinite pause, waiting for promotion), with overrides. */
export function canaryState(o: Partial<RolloutState> = {}): RolloutState {
  return {
    namespace: 'voting01-qa',
    name: 'vote',
    uid: 'uid-1',
    revision: '2',
    generation: 2,
    strategy: 'canary',
    phase: 'Paused',
    message: 'CanaryPauseStep',
    currentPodHash: 'abc',
    stableRS: 'old',
    fullyPromoted: false,
    images: [{ container: 'vote', image: 'repo/vote:ea11a24-1', tag: 'ea11a24-1' }],
    specPaused: false,
    pauseReasons: ['CanaryPauseStep'],
    controllerPause: true,
    aborted: false,
    canary: {
      stepIndex: 1,
      stepCount: 4,
      steps: [{ kind: 'setWeight', text: 'setWeight: 20', weight: 20 }, { kind: 'pause', text: 'pause' }, { kind: 'setWeight', text: 'setWeight: 50', weight: 50 }, { kind: 'pause', text: 'pause' }],
      setWeight: 20,
      trafficRouted: false,
    },
    analysis: [],
    replicas: { desired: 3, updated: 1, ready: 3, available: 3 },
    ...o,
  };
}

/** The same canary after a failed step analysis aborted it: weight 0, the stable pods serving. */
export function abortedState(): RolloutState {
  const s = canaryState();
  return {
    ...s,
    phase: 'Degraded',
    message: 'RolloutAborted: Rollout aborted update to revision 2: Step-based analysis phase failed: boom',
    pauseReasons: [],
    controllerPause: false,
    aborted: true,
    abortReason: 'Rollout aborted update to revision 2: Step-based analysis phase failed: boom',
    canary: { ...s.canary!, stepIndex: 0, setWeight: 0 },
    analysis: [{ kind: 'step', name: 'vote-abc-2-1', status: 'Failed', message: 'boom' }],
    replicas: { desired: 3, updated: 0, ready: 3, available: 3 },
  };
}

/** A thread record of voting01/qa with `state` as its last state. */
export function threadOf(state: RolloutState | undefined, o: Partial<ThreadRecord> = {}): ThreadRecord {
  return {
    key: 'voting01/qa/uid-1/r2',
    app: 'voting01',
    env: 'qa',
    namespace: 'voting01-qa',
    rollout: 'vote',
    uid: 'uid-1',
    revision: '2',
    tag: 'ea11a24-1',
    channel: 'C0QA',
    rootTs: '1700000000.000100',
    createdAt: 0,
    startedAt: 0,
    attempt: 1,
    announced: [],
    ...(state ? { lastState: state } : {}),
    cardVersion: 1,
    cardSent: 1,
    actions: [],
    ...o,
  };
}

/** An in-memory store that counts flushes. */
export function memoryStore(data: StoreData = emptyStoreData()): StateStore & { flushes: number } {
  return { data, flushes: 0, async flush() { this.flushes++; } };
}

/** A catalog from config YAML, validated like the real one. */
export function catalogFrom(yaml: string): Catalog {
  return new Catalog(Config.parse(parse(yaml)));
}

/** Stores `thread` as its environment's current thread. */
export function makeCurrent(data: StoreData, thread: ThreadRecord): ThreadRecord {
  data.threads[thread.key] = thread;
  data.envs[`${thread.app}/${thread.env}`] = { threadKey: thread.key };
  return thread;
}
