import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ApiException,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  Watch,
  makeInformer,
  setHeaderOptions,
  type Informer,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { startKubernetesEmulator, type KubernetesEmulator } from '../../emulators/kubernetes-emulator.js';
import { informerRelistScenarios } from '../support/informer-scenarios.js';

const NS = 'apps';
const ref = { group: 'argoproj.io', version: 'v1alpha1', namespace: NS, plural: 'rollouts' };
const LIST_PATH = `/apis/argoproj.io/v1alpha1/namespaces/${NS}/rollouts`;
const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Polls until `fn` returns something truthy (no fixed sleeps). */
async function waitFor<T>(fn: () => T | undefined | null | false, what = 'condition', timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function rollout(name: string, extra: Record<string, unknown> = {}): Record<string, any> {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace: NS, labels: { app: name } },
    spec: { replicas: 2, template: { spec: { containers: [{ name, image: 'demo:blue' }] } } },
    status: { phase: 'Healthy', stableRS: 'aaa', currentPodHash: 'aaa', observedGeneration: '1' },
    ...extra,
  };
}

async function apiError(p: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await p;
  } catch (err) {
    // client-node 1.4 passes the body as a string, except for 401, where it passes undefined.
    if (err instanceof ApiException) return { code: err.code, body: typeof err.body === 'string' ? JSON.parse(err.body) : err.body };
    throw err;
  }
  throw new Error('expected the call to fail');
}

let emu: KubernetesEmulator;
let kc: KubeConfig;
let api: CustomObjectsApi;
const informers: Array<{ informer: Informer<KubernetesObject>; stopping: boolean }> = [];

beforeEach(async () => {
  emu = await startKubernetesEmulator({ token: 'sekret' });
  kc = new KubeConfig();
  kc.loadFromString(emu.kubeconfigYaml({ namespace: NS }));
  api = kc.makeApiClient(CustomObjectsApi);
});

afterEach(async () => {
  for (const entry of informers.splice(0)) {
    entry.stopping = true;
    await entry.informer.stop();
  }
  await emu.close();
});

/** An informer as the bot builds it; `restartOnError` is the workaround libraries.md 3 prescribes. */
async function startInformer(opts: { restartOnError?: boolean } = {}) {
  const informer = makeInformer<KubernetesObject>(kc, LIST_PATH, () => api.listNamespacedCustomObject(ref));
  const entry = { informer, stopping: false };
  informers.push(entry);
  const seen: string[] = [];
  const errors: unknown[] = [];
  informer.on('add', (o) => seen.push(`add ${o.metadata?.name} ${o.metadata?.resourceVersion}`));
  informer.on('update', (o) => seen.push(`update ${o.metadata?.name} ${o.metadata?.resourceVersion}`));
  informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
  informer.on('error', (err) => {
    errors.push(err);
    if (opts.restartOnError && !entry.stopping) void informer.start();
  });
  await informer.start();
  await waitFor(() => emu.openWatches() === 1, 'the informer watch');
  return { informer, seen, errors };
}

const lists = () => emu.calls.filter((c) => c.method === 'GET' && c.path === LIST_PATH && !c.query.watch);
const watches = () => emu.calls.filter((c) => c.method === 'GET' && c.path === LIST_PATH && c.query.watch);

describe('kubernetes emulator: reads', () => {
  it('lists rollouts with a RolloutList and the current resourceVersion', async () => {
    emu.apply(rollout('web'));
    const list = await api.listNamespacedCustomObject(ref);
    expect(list.kind).toBe('RolloutList');
    expect(list.metadata.resourceVersion).toBe(emu.resourceVersion());
    expect(list.items.map((i: any) => i.metadata.name)).toEqual(['web']);
    expect(list.items[0]).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' });
  });

  it('lists across namespaces on the cluster-wide path and honours a label selector', async () => {
    emu.apply(rollout('web'));
    emu.apply({ ...rollout('api'), metadata: { name: 'api', namespace: 'other', labels: { app: 'api' } } });
    const all = await api.listClusterCustomObject({ group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' });
    expect(all.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual([`${NS}/web`, 'other/api']);
    const some = await api.listClusterCustomObject({ group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts', labelSelector: 'app in (api)' });
    expect(some.items.map((i: any) => i.metadata.name)).toEqual(['api']);
  });

  it('answers a missing rollout with a NotFound Status', async () => {
    const err = await apiError(api.getNamespacedCustomObject({ ...ref, name: 'nope' }));
    expect(err.code).toBe(404);
    expect(err.body).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
  });

  it('rejects a request without the bearer token with 401', async () => {
    const other = new KubeConfig();
    other.loadFromString(emu.kubeconfigYaml().replace('sekret', 'wrong'));
    const err = await apiError(other.makeApiClient(CustomObjectsApi).listNamespacedCustomObject(ref));
    expect(err.code).toBe(401);
    expect(err.body).toBeUndefined(); // the generated client discards the 401 Status body
    expect(emu.calls.at(-1)?.status).toBe(401);
  });

  it('writes a kubeconfig file the client can load', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kube-emu-'));
    try {
      const file = await emu.writeKubeconfig(dir);
      const fromFile = new KubeConfig();
      fromFile.loadFromFile(file);
      emu.apply(rollout('web'));
      const ro = await fromFile.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...ref, name: 'web' });
      expect(ro.metadata.name).toBe('web');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('records paths it does not serve as unhandled 404s', async () => {
    const err = await apiError(api.listNamespacedCustomObject({ ...ref, plural: 'experiments' }));
    expect(err.code).toBe(404);
    expect(emu.unhandled().map((c) => c.path)).toEqual([`/apis/argoproj.io/v1alpha1/namespaces/${NS}/experiments`]);
  });

  it('serves an AnalysisRun the controller wrote, and 404 for one it did not', async () => {
    emu.applyAnalysisRun({ metadata: { name: 'web-abc-2', namespace: NS }, status: { phase: 'Failed' } });
    const got = (await api.getNamespacedCustomObject({ ...ref, plural: 'analysisruns', name: 'web-abc-2' })) as { kind: string; status: { phase: string } };
    expect([got.kind, got.status.phase]).toEqual(['AnalysisRun', 'Failed']);
    expect((await apiError(api.getNamespacedCustomObject({ ...ref, plural: 'analysisruns', name: 'nope' }))).code).toBe(404);
    expect(emu.unhandled()).toEqual([]);
  });
});

describe('kubernetes emulator: writes follow the status subresource rules', () => {
  it('a merge patch to /status changes status only', async () => {
    emu.apply(rollout('web'));
    const before = emu.get(NS, 'web');
    await api.patchNamespacedCustomObjectStatus(
      { ...ref, name: 'web', body: { status: { abort: true }, spec: { replicas: 9 }, metadata: { labels: { hacked: 'yes' } } } },
      mergePatch(),
    );
    const after = emu.get(NS, 'web');
    expect(after.status.abort).toBe(true);
    expect(after.spec).toEqual(before.spec);
    expect(after.metadata.labels).toEqual(before.metadata.labels);
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(emu.patches({ name: 'web' })[0]).toMatchObject({
      path: `${LIST_PATH}/web/status`,
      contentType: 'application/merge-patch+json',
      body: { status: { abort: true } },
    });
  });

  it('drops a status field sent in a main-resource patch', async () => {
    emu.apply(rollout('web'));
    await api.patchNamespacedCustomObject({ ...ref, name: 'web', body: { status: { abort: true } } }, mergePatch());
    expect(emu.get(NS, 'web').status.abort).toBeUndefined();
  });

  it('bumps generation when spec changes and not when status changes', async () => {
    emu.apply(rollout('web'));
    await api.patchNamespacedCustomObject({ ...ref, name: 'web', body: { spec: { paused: true } } }, mergePatch());
    expect(emu.get(NS, 'web').metadata.generation).toBe(2);
    await api.patchNamespacedCustomObject({ ...ref, name: 'web', body: { metadata: { annotations: { a: 'b' } } } }, mergePatch());
    await api.patchNamespacedCustomObjectStatus({ ...ref, name: 'web', body: { status: { abort: true } } }, mergePatch());
    expect(emu.get(NS, 'web').metadata.generation).toBe(2);
  });

  it('deletes a key with null in a merge patch', async () => {
    emu.apply(rollout('web', { status: { pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-01-01T00:00:00Z' }], controllerPause: true } }));
    await api.patchNamespacedCustomObjectStatus({ ...ref, name: 'web', body: { status: { pauseConditions: null } } }, mergePatch());
    expect(emu.get(NS, 'web').status).toEqual({ controllerPause: true });
  });

  it('answers a patch that changes nothing with 200 and no new resourceVersion', async () => {
    emu.apply(rollout('web'));
    const rv = emu.get(NS, 'web').metadata.resourceVersion;
    const answer = await api.patchNamespacedCustomObjectStatus({ ...ref, name: 'web', body: { status: { phase: 'Healthy' } } }, mergePatch());
    expect(answer.metadata.resourceVersion).toBe(rv);
    expect(emu.resourceVersion()).toBe(rv);
  });

  it('prunes status fields the CRD schema does not declare', async () => {
    emu.apply(rollout('web'));
    await api.patchNamespacedCustomObjectStatus({ ...ref, name: 'web', body: { status: { bogus: 1, abort: true } } }, mergePatch());
    expect(emu.get(NS, 'web').status).not.toHaveProperty('bogus');
    expect(emu.get(NS, 'web').status.abort).toBe(true);
  });

  it('treats a status patch of only undeclared fields as a no-op', async () => {
    emu.apply(rollout('web'));
    const rv = emu.resourceVersion();
    await api.patchNamespacedCustomObjectStatus({ ...ref, name: 'web', body: { status: { bogus: 1 } } }, mergePatch());
    expect(emu.resourceVersion()).toBe(rv);
  });

  it('rejects a strategic merge patch with 415, as for every custom resource', async () => {
    emu.apply(rollout('web'));
    const options = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
    const err = await apiError(api.patchNamespacedCustomObject({ ...ref, name: 'web', body: { spec: { paused: true } } }, options));
    expect(err.code).toBe(415);
    expect(err.body.reason).toBe('UnsupportedMediaType');
  });

  it("answers the client's default JSON-patch content type with an object body as 400", async () => {
    emu.apply(rollout('web'));
    const err = await apiError(api.patchNamespacedCustomObjectStatus({ ...ref, name: 'web', body: { status: { abort: true } } }));
    expect(err.code).toBe(400);
    expect(err.body.message).toContain('[]handlers.jsonPatchOp');
    expect(emu.patches()[0]?.contentType).toBe('application/json-patch+json');
  });

  it('applies a JSON patch that replaces the pod template (undo)', async () => {
    emu.apply(rollout('web'));
    const template = { spec: { containers: [{ name: 'web', image: 'demo:green' }] } };
    const options = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
    await api.patchNamespacedCustomObject({ ...ref, name: 'web', body: [{ op: 'replace', path: '/spec/template', value: template }] }, options);
    const after = emu.get(NS, 'web');
    expect(after.spec.template).toEqual(template);
    expect(after.metadata.generation).toBe(2);
  });

  it('answers a failed JSON patch test op with 422 and leaves the object alone', async () => {
    emu.apply(rollout('web'));
    const options = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
    const body = [
      { op: 'test', path: '/spec/replicas', value: 7 },
      { op: 'replace', path: '/spec/replicas', value: 8 },
    ];
    const err = await apiError(api.patchNamespacedCustomObject({ ...ref, name: 'web', body }, options));
    expect(err.code).toBe(422);
    expect(emu.get(NS, 'web').spec.replicas).toBe(2);
  });

  it('answers a PUT with a stale resourceVersion with 409 Conflict', async () => {
    emu.apply(rollout('web'));
    const current = await api.getNamespacedCustomObject({ ...ref, name: 'web' });
    emu.mutate(NS, 'web', (o) => {
      o.status.phase = 'Progressing';
    });
    const err = await apiError(api.replaceNamespacedCustomObject({ ...ref, name: 'web', body: current }));
    expect(err.code).toBe(409);
    expect(err.body.reason).toBe('Conflict');
  });

  it('a PUT replaces spec and metadata but keeps status', async () => {
    emu.apply(rollout('web'));
    const current = await api.getNamespacedCustomObject({ ...ref, name: 'web' });
    current.spec.template.spec.containers[0].image = 'demo:green';
    current.status = { phase: 'Degraded' };
    await api.replaceNamespacedCustomObject({ ...ref, name: 'web', body: current });
    const after = emu.get(NS, 'web');
    expect(after.spec.template.spec.containers[0].image).toBe('demo:green');
    expect(after.status.phase).toBe('Healthy');
  });

  it('creates with 201, drops status, sets server fields, and refuses a duplicate with 409', async () => {
    const created = await api.createNamespacedCustomObject({ ...ref, body: rollout('new') });
    expect(created.metadata).toMatchObject({ name: 'new', namespace: NS, generation: 1 });
    expect(created.metadata.uid).toBeTruthy();
    expect(created.status).toBeUndefined();
    expect(emu.calls.at(-1)?.status).toBe(201);
    const err = await apiError(api.createNamespacedCustomObject({ ...ref, body: rollout('new') }));
    expect(err.code).toBe(409);
    expect(err.body.reason).toBe('AlreadyExists');
  });

  it('answers a patch to an unknown rollout with 404 and a malformed body with 400', async () => {
    const missing = await apiError(api.patchNamespacedCustomObjectStatus({ ...ref, name: 'ghost', body: { status: {} } }, mergePatch()));
    expect(missing.code).toBe(404);
    emu.apply(rollout('web'));
    const res = await fetch(`${emu.url}${LIST_PATH}/web`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/merge-patch+json', Authorization: 'Bearer sekret' },
      body: '{not json',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
  });

  it('failNext answers the injected status for the next matching calls, then recovers', async () => {
    emu.apply(rollout('web'));
    emu.failNext({ count: 1, status: 500, method: 'GET', path: /\/rollouts\/web$/ });
    const err = await apiError(api.getNamespacedCustomObject({ ...ref, name: 'web' }));
    expect(err.code).toBe(500);
    expect(err.body.reason).toBe('InternalError');
    await expect(api.getNamespacedCustomObject({ ...ref, name: 'web' })).resolves.toMatchObject({ metadata: { name: 'web' } });
  });
});

describe('kubernetes emulator: informers and watches', () => {
  it('an informer lists, then watches from the list resourceVersion and sees add and update', async () => {
    emu.apply(rollout('web'));
    const { seen } = await startInformer();
    const listRv = emu.resourceVersion();
    expect(watches()[0]?.query).toMatchObject({ watch: 'true', resourceVersion: listRv });
    emu.apply(rollout('api'));
    await api.patchNamespacedCustomObjectStatus({ ...ref, name: 'web', body: { status: { abort: true } } }, mergePatch());
    await waitFor(() => seen.length === 3, 'three informer events');
    const rvWeb = emu.get(NS, 'web').metadata.resourceVersion;
    expect(seen).toEqual([`add web ${listRv}`, `add api ${emu.get(NS, 'api').metadata.resourceVersion}`, `update web ${rvWeb}`]);
  });

  it('an informer sees a deletion', async () => {
    emu.apply(rollout('web'));
    const { seen } = await startInformer();
    emu.remove(NS, 'web');
    await waitFor(() => seen.includes('delete web'), 'the delete event');
  });

  it('a watch from an old resourceVersion replays the changes made since', async () => {
    emu.apply(rollout('web'));
    const from = emu.resourceVersion();
    emu.mutate(NS, 'web', (o) => {
      o.status.phase = 'Progressing';
    });
    emu.remove(NS, 'web');
    const events: string[] = [];
    const ctrl = await new Watch(kc).watch(LIST_PATH, { resourceVersion: from }, (type, obj) => events.push(`${type} ${obj.status?.phase}`), () => {});
    await waitFor(() => events.length === 2, 'two replayed events');
    ctrl.abort();
    expect(events).toEqual(['MODIFIED Progressing', 'DELETED Progressing']);
  });

  it('a watch without resourceVersion starts with the current objects as ADDED, as Kubernetes does', async () => {
    emu.apply(rollout('web'));
    const events: string[] = [];
    const ctrl = await new Watch(kc).watch(LIST_PATH, {}, (type, obj) => events.push(`${type} ${obj.metadata.name}`), () => {});
    await waitFor(() => events.length === 1, 'the synthetic ADDED');
    ctrl.abort();
    expect(events).toEqual(['ADDED web']);
  });

  it('ends a watch after timeoutSeconds', async () => {
    let ended = false;
    await new Watch(kc).watch(LIST_PATH, { resourceVersion: emu.resourceVersion(), timeoutSeconds: 1 }, () => {}, () => {
      ended = true;
    });
    await waitFor(() => ended, 'the watch to end', 3000);
    expect(emu.openWatches()).toBe(0);
  });

  informerRelistScenarios({ emu: () => emu, namespace: NS, rollout: (name) => rollout(name), startInformer: () => startInformer(), lists, watches, waitFor });

  it('dropWatches makes a client-node 1.4 informer emit error and stop', async () => {
    emu.apply(rollout('web'));
    const { errors } = await startInformer();
    emu.dropWatches();
    await waitFor(() => errors.length === 1, 'the informer error');
    expect(emu.openWatches()).toBe(0);
    expect(watches()).toHaveLength(1);
  });

  it('dropWatches makes an informer that restarts on error re-watch from its last resourceVersion and catch up', async () => {
    emu.apply(rollout('web'));
    const { seen } = await startInformer({ restartOnError: true });
    const rv = emu.resourceVersion();
    emu.dropWatches();
    emu.mutate(NS, 'web', (o) => {
      o.status.phase = 'Paused';
    });
    await waitFor(() => seen.some((s) => s.startsWith('update web')), 'the update made while disconnected');
    expect(watches()[1]?.query.resourceVersion).toBe(rv);
    expect(lists()).toHaveLength(1);
  });
});
