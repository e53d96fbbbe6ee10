import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { startKubernetesEmulator, type KubernetesEmulator } from '../../emulators/kubernetes-emulator.js';
import { KubeApiError, kubeRequest } from '../../src/adapters/kubernetes/kube-request.js';
import { ListWatch, type ObjectList } from '../../src/adapters/kubernetes/list-watch.js';
import { KubeRolloutCluster } from '../../src/adapters/kubernetes/kube-rollout-cluster.js';
import { ensureBuilt } from '../support/bot-process.js';
import { waitFor } from '../support/harness.js';
import { informerRelistScenarios } from '../support/informer-scenarios.js';

// The bot's Kubernetes client without client-node's generated API (issue 16/12): requests and informers over the
// library's KubeConfig and Watch. The relist cases are shared with test/emulators/kubernetes-emulator.test.ts, which
// runs them against client-node's own informer, so the two behave alike.

const NS = 'apps';
const LIST_PATH = `/apis/argoproj.io/v1alpha1/namespaces/${NS}/rollouts`;
const ROOT = path.resolve(import.meta.dirname, '../..');

function rollout(name: string): Record<string, any> {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace: NS },
    spec: { replicas: 2, template: { spec: { containers: [{ name, image: 'demo:blue' }] } } },
    status: { phase: 'Healthy', stableRS: 'aaa', currentPodHash: 'aaa', observedGeneration: '1' },
  };
}

let emu: KubernetesEmulator;
let kc: KubeConfig;
const informers: ListWatch[] = [];

beforeEach(async () => {
  emu = await startKubernetesEmulator({ token: 'sekret' });
  kc = new KubeConfig();
  kc.loadFromString(emu.kubeconfigYaml({ namespace: NS }));
});

afterEach(async () => {
  for (const i of informers.splice(0)) await i.stop();
  await emu.close();
});

const lists = () => emu.calls.filter((c) => c.method === 'GET' && c.path === LIST_PATH && !c.query.watch);
const watches = () => emu.calls.filter((c) => c.method === 'GET' && c.path === LIST_PATH && c.query.watch);

async function startInformer(o: { restartOnError?: boolean } = {}) {
  const informer = new ListWatch(kc, LIST_PATH, async () => (await kubeRequest(kc, { method: 'GET', path: LIST_PATH })) as ObjectList);
  informers.push(informer);
  const seen: string[] = [];
  const errors: unknown[] = [];
  const note = (verb: string) => (obj: KubernetesObject) => seen.push(`${verb} ${obj.metadata?.name} ${obj.metadata?.resourceVersion}`);
  informer.on('add', note('add'));
  informer.on('update', note('update'));
  informer.on('delete', note('delete'));
  informer.on('error', (err) => {
    errors.push(err);
    if (o.restartOnError) setTimeout(() => void informer.start(), 10);
  });
  await informer.start();
  await waitFor(() => emu.openWatches() === 1, 'the informer watch');
  return { informer, seen, errors };
}

describe('kubeRequest', () => {
  it('sends the kubeconfig token, and rejects with the status and body of an error answer', async () => {
    emu.apply(rollout('web'));
    const got = (await kubeRequest(kc, { method: 'GET', path: `${LIST_PATH}/web` })) as KubernetesObject;
    expect(got.metadata?.name).toBe('web');
    const missing = await kubeRequest(kc, { method: 'GET', path: `${LIST_PATH}/nope` }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(KubeApiError);
    expect((missing as KubeApiError).code).toBe(404);
    expect(JSON.parse((missing as KubeApiError).body).reason).toBe('NotFound');

    const wrong = new KubeConfig();
    wrong.loadFromString(emu.kubeconfigYaml().replace('sekret', 'forged'));
    expect(await kubeRequest(wrong, { method: 'GET', path: LIST_PATH }).catch((e: KubeApiError) => e.code)).toBe(401);
  });

  it('patches rollouts and their status as merge patches, and names a 403 with the RBAC to grant', async () => {
    emu.apply(rollout('web'));
    const cluster = new KubeRolloutCluster(kc);
    await cluster.patch(NS, 'web', { target: 'main', body: { spec: { paused: true } } });
    await cluster.patch(NS, 'web', { target: 'status', body: { status: { pauseConditions: null } } });
    expect(emu.patches().map((c) => [c.path, c.contentType])).toEqual([
      [`${LIST_PATH}/web`, 'application/merge-patch+json'],
      [`${LIST_PATH}/web/status`, 'application/merge-patch+json'],
    ]);
    expect(emu.get(NS, 'web').spec.paused).toBe(true);
    expect(await cluster.get(NS, 'gone')).toBeUndefined();
    emu.failNext({ count: 1, status: 403, method: 'PATCH' });
    const err = await cluster.patch(NS, 'web', { target: 'status', body: {} }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/HTTP 403.*"patch" on rollouts\/status/);
  });
});

describe('ListWatch (as client-node 1.4 informer)', () => {
  it('lists, then reports adds, updates and deletes from the watch', async () => {
    emu.apply(rollout('web'));
    const { seen } = await startInformer();
    emu.mutate(NS, 'web', (o) => (o.status.phase = 'Paused'));
    emu.apply(rollout('api'));
    emu.remove(NS, 'web');
    await waitFor(() => seen.some((s) => s.startsWith('delete web')), 'the delete');
    expect(seen.map((s) => s.split(' ').slice(0, 2).join(' '))).toEqual(['add web', 'update web', 'add api', 'delete web']);
    expect(lists()).toHaveLength(1);
    expect(watches()).toHaveLength(1);
  });

  informerRelistScenarios({ emu: () => emu, namespace: NS, rollout, startInformer: () => startInformer(), lists, watches, waitFor });

  it('a dropped watch is an error that stops it; start() resumes from the last resourceVersion and catches up', async () => {
    emu.apply(rollout('web'));
    const { informer, seen, errors } = await startInformer();
    const rv = emu.resourceVersion();
    emu.dropWatches();
    await waitFor(() => errors.length === 1, 'the informer error');
    expect(emu.openWatches()).toBe(0);
    emu.mutate(NS, 'web', (o) => (o.status.phase = 'Paused'));
    await informer.start();
    await waitFor(() => seen.some((s) => s.startsWith('update web')), 'the update made while disconnected');
    expect(watches()[1]?.query.resourceVersion).toBe(rv);
    expect(lists()).toHaveLength(1);
  });

  it('a failed list is an error, and stop() leaves no watch open', async () => {
    emu.failNext({ count: 1, status: 403, method: 'GET', path: /rollouts$/ });
    const informer = new ListWatch(kc, LIST_PATH, async () => (await kubeRequest(kc, { method: 'GET', path: LIST_PATH })) as ObjectList);
    informers.push(informer);
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    expect((errors[0] as KubeApiError).code).toBe(403);
    await informer.start();
    await waitFor(() => emu.openWatches() === 1, 'the watch');
    await informer.stop();
    await waitFor(() => emu.openWatches() === 0, 'no watch');
  });
});

describe('the resolve hook main.ts registers (client-node-hooks.ts)', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  /** Heap growth of importing client-node's KubeConfig in a fresh process, and whether that KubeConfig authenticates. */
  function importKubeConfig(withHook: boolean): { heapMB: number; authorization: string } {
    const script = `
      import { register } from 'node:module';
      globalThis.gc(); const before = process.memoryUsage().heapUsed;
      if (${withHook}) register('./dist/adapters/kubernetes/client-node-hooks.js', new URL('file://${ROOT}/'));
      const { KubeConfig } = await import('@kubernetes/client-node/dist/config.js');
      globalThis.gc();
      const kc = new KubeConfig();
      kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://k8s.example' }], users: [{ name: 'u', token: 't0ken' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
      const opts = { headers: {} };
      await kc.applyToHTTPSOptions(opts);
      console.log(JSON.stringify({ heapMB: (process.memoryUsage().heapUsed - before) / 1048576, authorization: opts.headers.Authorization }));`;
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    return JSON.parse(out) as { heapMB: number; authorization: string };
  }

  it('loads KubeConfig without the generated API, and KubeConfig still authenticates', () => {
    const narrowed = importKubeConfig(true);
    const whole = importKubeConfig(false);
    expect(narrowed.authorization).toBe('Bearer t0ken');
    expect(whole.authorization).toBe('Bearer t0ken');
    // About 4 MB against 26 MB on client-node 1.4.
    expect(narrowed.heapMB).toBeLessThan(12);
    expect(whole.heapMB).toBeGreaterThan(18);
  });
});
