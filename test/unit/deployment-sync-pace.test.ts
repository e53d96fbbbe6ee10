import { describe, expect, it } from 'vitest';
import { createDocumentStores } from '../../src/adapters/store/document-stores.js';
import { DeploymentService } from '../../src/core/deployments/deployment-service.js';
import { silentLogger } from '../../src/core/logger.js';
import { ServiceError, type RepoHost } from '../../src/core/ports.js';
import type { ThreadRecord } from '../../src/core/store-data.js';
import { ManualClock } from '../support/manual-clock.js';
import { canaryState, catalogFrom, memoryStore, threadOf } from '../support/state-builders.js';

const CONFIG = `
apps:
  - name: voting01
    repo: acme/voting01
    image: { ecrRepository: voting01-vote }
    environments:
      - { name: qa, namespace: voting01-qa, rollout: vote, slackChannel: C0QA }
`;
const SHA = (c: string) => c.repeat(40);

/**
 * GitHub as the service sees it (the RepoHost port), answering each write only when the test lets it: what a thousand
 * environments look like behind GitHub's one-write-a-second pace, made deterministic.
 */
function slowGitHub() {
  const calls: string[] = [];
  const held: Array<() => void> = [];
  let failNext: ServiceError | undefined;
  let ids = 0;
  const write = async (what: string) => {
    calls.push(what);
    await new Promise<void>((resolve) => held.push(resolve));
    if (failNext) {
      const err = failNext;
      failNext = undefined;
      throw err;
    }
  };
  const host = {
    createDeployment: async (o: { sha: string }) => (await write(`deployment ${o.sha[0]}`), { id: ++ids }),
    findDeployment: async () => undefined,
    createDeploymentStatus: async (o: { deploymentId: number; state: string }) => write(`status ${o.deploymentId} ${o.state}`),
    createCommitStatus: async (o: { sha: string; state: string }) => write(`commit ${o.sha[0]} ${o.state}`),
    findCheckRun: async () => undefined,
    createCheckRun: async (o: { sha: string; check: { name: string } }) => (await write(`check ${o.sha[0]} ${o.check.name}`), { id: ++ids, url: `https://github.test/checks/${ids}` }),
    updateCheckRun: async (o: { id: number }) => (await write(`check update ${o.id}`), { id: o.id, url: `https://github.test/checks/${o.id}` }),
  } as unknown as RepoHost;
  return {
    host,
    calls,
    /** Lets every write made so far answer, and those it leads to, until none is waiting. */
    async drain() {
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => setImmediate(r));
        const next = held.splice(0);
        if (next.length === 0) return;
        for (const r of next) r();
      }
    },
    failNextWith(err: ServiceError) {
      failNext = err;
    },
  };
}

function setup() {
  const clock = new ManualClock();
  const store = memoryStore();
  const stores = createDocumentStores(store);
  const github = slowGitHub();
  const catalog = catalogFrom(CONFIG);
  const service = new DeploymentService({
    catalog, stores, repoHost: github.host, clock, log: silentLogger,
    permalink: (channel, ts) => `https://slack.test/${channel}/${ts}`, track: () => undefined,
  });
  service.start();
  const target = catalog.target('voting01', 'qa')!;
  const deploy = (n: number, sha: string, o: Partial<ThreadRecord> = {}) => {
    const thread = threadOf(canaryState(), { key: `voting01/qa/uid-1/r${n}`, revision: String(n), commitSha: sha, tag: `${sha.slice(0, 7)}-1`, rootTs: `${n}.1`, startedAt: clock.now() + n, createdAt: clock.now() + n, ...o });
    store.data.threads[thread.key] = thread;
    store.data.envs['voting01/qa'] = { threadKey: thread.key };
    service.onThreadChanged({ thread, target });
    return thread;
  };
  return { clock, store, github, service, deploy, target };
}

describe('GitHub deployments under a busy environment', () => {
  it('mirrors every deploy that changed while the environment waited, the current one last, each once', async () => {
    const { github, deploy } = setup();
    deploy(1, SHA('a'));
    // While the first deploy's writes wait for GitHub, two more deploys start and change again.
    deploy(2, SHA('b'));
    deploy(3, SHA('c'));
    deploy(3, SHA('c'));
    await github.drain();
    // b was replaced by c before it was ever mirrored: it is created all the same (its commit gets its status), then
    // c, the environment's current deploy, comes last; c changed twice while waiting and is written once.
    expect(github.calls).toEqual([
      'deployment a', 'status 1 in_progress', 'commit a pending',
      'deployment b', 'status 2 in_progress', 'commit b pending',
      'deployment c', 'status 3 in_progress', 'commit c pending',
    ]);
  });

  it('tries a failed sync again after 30 s when GitHub may get over it, and not after a refusal', async () => {
    const { github, deploy, clock } = setup();
    github.failNextWith(new ServiceError('github', 'cannot create the deployment (HTTP 502)', { kind: 'transient' }));
    deploy(1, SHA('a'));
    await github.drain();
    // The deployment failed; the commit status went on (it does not need it).
    expect(github.calls).toEqual(['deployment a', 'commit a pending']);
    await clock.advance(29_000);
    await github.drain();
    expect(github.calls).toHaveLength(2);
    await clock.advance(1_000);
    await github.drain();
    expect(github.calls.slice(2)).toEqual(['deployment a', 'status 1 in_progress']);

    const refused = setup();
    refused.github.failNextWith(new ServiceError('github', 'cannot create the deployment (HTTP 403)', { permanent: true }));
    refused.deploy(1, SHA('a'));
    await refused.github.drain();
    await refused.clock.advance(20 * 60_000);
    await refused.github.drain();
    expect(refused.github.calls).toEqual(['deployment a', 'commit a pending']);
  });

  it('takes a failed deploy along when the environment syncs again before the retry is due', async () => {
    const { github, deploy, clock } = setup();
    github.failNextWith(new ServiceError('github', 'cannot create the deployment (HTTP 503)', { kind: 'transient' }));
    deploy(1, SHA('a'));
    await github.drain();
    expect(github.calls).toEqual(['deployment a', 'commit a pending']);
    // A newer deploy starts before the retry: its sync creates the one that failed, then its own.
    deploy(2, SHA('b'));
    await github.drain();
    expect(github.calls.slice(2).filter((c) => c.startsWith('deployment'))).toEqual(['deployment a', 'deployment b']);
    const before = github.calls.length;
    await clock.advance(20 * 60_000);
    await github.drain();
    expect(github.calls).toHaveLength(before);
  });

  it('writes the report of a deploy that ended while its environment waited, though a newer one is current by then', async () => {
    const { github, deploy, store } = setup();
    const first = deploy(1, SHA('a'));
    await github.drain();
    // It completes, and before its sync gets its turn (another deploy's writes hold the lane) a newer deploy starts.
    const blocker = deploy(2, SHA('b'));
    store.data.threads[first.key] = { ...first, outcome: 'completed', finishedAt: first.startedAt + 60_000 };
    deploy(1, SHA('a'), { outcome: 'completed', finishedAt: first.startedAt + 60_000 });
    deploy(3, SHA('c'));
    await github.drain();
    expect(blocker.key).not.toBe(first.key);
    expect(github.calls).toContain('check a rollout-chatops report: qa');
    expect(github.calls.filter((c) => c.startsWith('check a'))).toHaveLength(1);
  });

  it('drops what waits when it stops (the next leader syncs again) and syncs nothing until started', async () => {
    const { github, deploy, service, clock } = setup();
    deploy(1, SHA('a'));
    await new Promise((r) => setImmediate(r));
    expect(github.calls).toEqual(['deployment a']);
    deploy(2, SHA('b'));
    service.stop();
    await github.drain();
    // a's sync was running and finished; b's waited and was dropped.
    expect(github.calls).toEqual(['deployment a', 'status 1 in_progress', 'commit a pending']);
    deploy(3, SHA('c'));
    await clock.advance(20 * 60_000);
    await github.drain();
    expect(github.calls.filter((c) => c.startsWith('deployment'))).toEqual(['deployment a']);
    service.start();
    deploy(3, SHA('c'));
    await github.drain();
    expect(github.calls.filter((c) => c.startsWith('deployment'))).toEqual(['deployment a', 'deployment c']);
  });
});
