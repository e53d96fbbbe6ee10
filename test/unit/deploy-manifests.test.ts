import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { parseConfigText } from '../../src/config/load-settings.js';

// Docker and kubectl cannot run in CI, so the packaging files are held to their contract here: the
// security-relevant parts (RBAC, scopes, non-root) are compared exactly, so widening them fails a test.

const ROOT = path.resolve(import.meta.dirname, '../..');
const DEPLOY = path.join(ROOT, 'deploy');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

const APP_PORT = 3000;
const SECRET_NAME = 'rollout-chatops';
const EXAMPLE_SECRET_FILE = 'secret.example.yaml';
/** The Secret keys the Deployment must reference; only SLACK_APP_TOKEN (Socket Mode) is optional. */
const SECRET_KEYS = ['SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'APP_ID', 'PRIVATE_KEY', 'WEBHOOK_SECRET'];
const OPTIONAL_SECRET_KEYS = ['SLACK_APP_TOKEN'];

/** Exactly what the bot needs in Kubernetes: watch Rollouts, patch them and their status, read a failed AnalysisRun. */
const EXPECTED_RULES = [
  { apiGroups: ['argoproj.io'], resources: ['rollouts'], verbs: ['get', 'list', 'watch', 'patch'] },
  { apiGroups: ['argoproj.io'], resources: ['rollouts/status'], verbs: ['patch'] },
  { apiGroups: ['argoproj.io'], resources: ['analysisruns'], verbs: ['get'] },
];
/** Exactly the Slack bot scopes the bot needs (see the comment in slack-app-manifest.yml). */
const EXPECTED_BOT_SCOPES = ['commands', 'chat:write', 'channels:history', 'groups:history'];
const SLASH_COMMANDS = ['/promote', '/rollout', '/errors'];

// ---- schemas, naming only the fields the tests rely on ----

const Metadata = z.object({ name: z.string().min(1), namespace: z.string().optional() });
const K8sObject = z.object({ apiVersion: z.string().min(1), kind: z.string().min(1), metadata: Metadata });

const HttpProbe = (probePath: string) => z.object({
  httpGet: z.object({ path: z.literal(probePath), port: z.literal(APP_PORT) }),
});
const EnvVar = z.object({
  name: z.string().min(1),
  value: z.string().optional(),
  valueFrom: z.object({
    secretKeyRef: z.object({ name: z.string(), key: z.string(), optional: z.boolean().optional() }),
  }).optional(),
});
const VolumeMount = z.object({ name: z.string(), mountPath: z.string(), readOnly: z.boolean().optional() });
const Container = z.object({
  name: z.string().min(1),
  image: z.string().min(1),
  ports: z.array(z.object({ containerPort: z.number() })).min(1),
  env: z.array(EnvVar),
  readinessProbe: HttpProbe('/readyz'),
  livenessProbe: HttpProbe('/healthz'),
  resources: z.object({
    requests: z.object({ cpu: z.string(), memory: z.string() }),
    limits: z.object({ memory: z.string() }),
  }),
  securityContext: z.object({
    readOnlyRootFilesystem: z.literal(true),
    allowPrivilegeEscalation: z.literal(false),
    capabilities: z.object({ drop: z.tuple([z.literal('ALL')]) }),
  }),
  volumeMounts: z.array(VolumeMount),
});
const Volume = z.object({
  name: z.string(),
  configMap: z.object({ name: z.string() }).optional(),
  persistentVolumeClaim: z.object({ claimName: z.string() }).optional(),
  emptyDir: z.looseObject({}).optional(),
});
const Labels = z.record(z.string(), z.string());
const Deployment = K8sObject.extend({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('Deployment'),
  spec: z.object({
    replicas: z.literal(1),
    strategy: z.strictObject({ type: z.literal('Recreate') }),
    selector: z.object({ matchLabels: Labels }),
    template: z.object({
      metadata: z.object({ labels: Labels }),
      spec: z.object({
        serviceAccountName: z.string().min(1),
        securityContext: z.object({ runAsNonRoot: z.literal(true), runAsUser: z.number().int().positive().optional() }),
        containers: z.array(Container).length(1),
        volumes: z.array(Volume),
      }),
    }),
  }),
});
type Deployment = z.infer<typeof Deployment>;

const ClusterRole = K8sObject.extend({
  apiVersion: z.literal('rbac.authorization.k8s.io/v1'),
  kind: z.literal('ClusterRole'),
  rules: z.array(z.object({ apiGroups: z.array(z.string()), resources: z.array(z.string()), verbs: z.array(z.string()) })),
});
const ClusterRoleBinding = K8sObject.extend({
  apiVersion: z.literal('rbac.authorization.k8s.io/v1'),
  kind: z.literal('ClusterRoleBinding'),
  roleRef: z.strictObject({ apiGroup: z.literal('rbac.authorization.k8s.io'), kind: z.literal('ClusterRole'), name: z.string() }),
  subjects: z.array(z.strictObject({ kind: z.literal('ServiceAccount'), name: z.string(), namespace: z.string() })).length(1),
});
const ServiceAccount = K8sObject.extend({ apiVersion: z.literal('v1'), kind: z.literal('ServiceAccount') });
const Service = K8sObject.extend({
  apiVersion: z.literal('v1'),
  kind: z.literal('Service'),
  spec: z.object({
    selector: Labels,
    ports: z.array(z.object({ port: z.number(), targetPort: z.union([z.number(), z.string()]) })).min(1),
  }),
});
const PersistentVolumeClaim = K8sObject.extend({
  apiVersion: z.literal('v1'),
  kind: z.literal('PersistentVolumeClaim'),
  spec: z.object({
    accessModes: z.tuple([z.literal('ReadWriteOnce')]),
    resources: z.object({ requests: z.object({ storage: z.string() }) }),
  }),
});
const ConfigMap = K8sObject.extend({
  apiVersion: z.literal('v1'),
  kind: z.literal('ConfigMap'),
  data: z.object({ 'rollout-chatops.yml': z.string().min(1) }),
});
const Secret = K8sObject.extend({
  apiVersion: z.literal('v1'),
  kind: z.literal('Secret'),
  stringData: z.record(z.string(), z.string()),
});
const Kustomization = z.object({
  apiVersion: z.literal('kustomize.config.k8s.io/v1beta1'),
  kind: z.literal('Kustomization'),
  namespace: z.string().min(1),
  resources: z.array(z.string()).min(1),
});

/** One schema per kind found under deploy/; an object of any other kind fails the test until it gets one. */
const SCHEMAS: Record<string, z.ZodType> = {
  Deployment, ClusterRole, ClusterRoleBinding, ServiceAccount, Service, PersistentVolumeClaim, ConfigMap, Secret, Kustomization,
};

const SlackCommand = z.object({
  command: z.string(),
  url: z.string().regex(/^https:\/\/[^/]+\/slack\/events$/),
  description: z.string().min(1),
  usage_hint: z.string().min(1),
  should_escape: z.literal(false),
});
const SlackManifest = z.object({
  display_information: z.object({ name: z.string().min(1) }),
  features: z.object({
    bot_user: z.object({ display_name: z.string().min(1) }),
    slash_commands: z.array(SlackCommand),
  }),
  oauth_config: z.strictObject({ scopes: z.strictObject({ bot: z.array(z.string()) }) }),
  settings: z.object({
    event_subscriptions: z.object({
      request_url: z.string().regex(/^https:\/\/[^/]+\/slack\/events$/),
      bot_events: z.array(z.string()),
    }),
    interactivity: z.object({ is_enabled: z.literal(true), request_url: z.string().regex(/^https:\/\/[^/]+\/slack\/events$/) }),
    socket_mode_enabled: z.literal(false),
    org_deploy_enabled: z.literal(false),
    token_rotation_enabled: z.literal(false),
  }),
});

// ---- loading ----

type Loaded = { file: string; object: Record<string, unknown> };

function yamlFilesUnderDeploy(): string[] {
  return readdirSync(DEPLOY).filter((f) => /\.ya?ml$/.test(f)).sort();
}

/** Every non-empty YAML document under deploy/, with its file name; throws on a YAML syntax error. */
function loadDeployObjects(): Loaded[] {
  const out: Loaded[] = [];
  for (const file of yamlFilesUnderDeploy()) {
    for (const doc of parseAllDocuments(readFileSync(path.join(DEPLOY, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const object: unknown = doc.toJS();
      if (object !== null && object !== undefined) out.push({ file, object: object as Record<string, unknown> });
    }
  }
  return out;
}

function issuesOf(schema: z.ZodType, value: unknown): string[] {
  const r = schema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

function onlyOf<T>(kind: string, schema: z.ZodType<T>): T {
  const found = loadDeployObjects().filter((o) => o.object['kind'] === kind);
  expect(found.map((o) => o.file), `exactly one ${kind} under deploy/`).toHaveLength(1);
  return schema.parse(found[0]!.object);
}

const deployment = (): Deployment => onlyOf('Deployment', Deployment);
const container = () => deployment().spec.template.spec.containers[0]!;
const kustomization = () => onlyOf('Kustomization', Kustomization);

/** Dockerfile instructions with line continuations joined and comments dropped. */
function dockerInstructions(): { op: string; args: string }[] {
  const joined = read('Dockerfile')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}
const dockerArgs = (op: string) => dockerInstructions().filter((i) => i.op === op).map((i) => i.args);

// ---- tests ----

describe('deploy/ YAML', () => {
  it('parses every YAML file under deploy/ without errors', () => {
    expect(yamlFilesUnderDeploy().length).toBeGreaterThan(0);
    expect(() => loadDeployObjects()).not.toThrow();
  });

  it('gives every Kubernetes object an apiVersion, kind and metadata.name', () => {
    for (const { file, object } of loadDeployObjects().filter((o) => o.object['kind'] !== 'Kustomization')) {
      expect(issuesOf(K8sObject, object), file).toEqual([]);
    }
  });

  it('matches the schema of its kind for every object', () => {
    for (const { file, object } of loadDeployObjects()) {
      const kind = String(object['kind']);
      const schema = SCHEMAS[kind];
      expect(schema, `${file}: no schema for kind ${kind}`).toBeDefined();
      expect(issuesOf(schema!, object), `${file} (${kind})`).toEqual([]);
    }
  });
});

describe('Deployment', () => {
  it('runs exactly one replica and replaces it with Recreate, because the store has one writer', () => {
    const spec = deployment().spec;
    expect(spec.replicas).toBe(1);
    expect(spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('probes readiness on /readyz and liveness on /healthz at port 3000', () => {
    const c = container();
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: APP_PORT });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: APP_PORT });
    expect(c.ports.map((p) => p.containerPort)).toContain(APP_PORT);
  });

  it('runs as a non-root user with a read-only root filesystem and no capabilities', () => {
    const d = deployment();
    expect(d.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(d.spec.template.spec.securityContext.runAsUser ?? 1000).not.toBe(0);
    expect(container().securityContext).toMatchObject({
      readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] },
    });
  });

  it('selects its own pod template', () => {
    const spec = deployment().spec;
    expect(spec.template.metadata.labels).toMatchObject(spec.selector.matchLabels);
  });

  it('takes the credentials from the Secret, with only SLACK_APP_TOKEN optional', () => {
    const refs = container().env.filter((e) => e.valueFrom?.secretKeyRef);
    expect(refs.map((e) => e.name).sort()).toEqual([...SECRET_KEYS].sort());
    for (const e of refs) {
      const ref = e.valueFrom!.secretKeyRef;
      expect(ref.name, e.name).toBe(SECRET_NAME);
      expect(ref.key, e.name).toBe(e.name);
      expect(ref.optional === true, e.name).toBe(OPTIONAL_SECRET_KEYS.includes(e.name));
    }
  });

  it('sets AWS_REGION as a plain value', () => {
    const region = container().env.find((e) => e.name === 'AWS_REGION');
    expect(region?.value).toMatch(/^[a-z]{2}(-[a-z]+)+-\d$/);
  });

  it('mounts the ConfigMap at /config, the PVC at /data and an emptyDir at /tmp', () => {
    const d = deployment();
    const mounts = new Map(container().volumeMounts.map((m) => [m.mountPath, m.name]));
    const volume = (mountPath: string) => d.spec.template.spec.volumes.find((v) => v.name === mounts.get(mountPath));
    expect(volume('/config')?.configMap?.name).toBe('rollout-chatops-config');
    expect(volume('/data')?.persistentVolumeClaim?.claimName).toBe('rollout-chatops-data');
    expect(volume('/tmp')?.emptyDir).toBeDefined();
  });

  it('points ROLLOUT_CHATOPS_CONFIG and DATA_DIR at the mounted volumes', () => {
    const env = new Map(container().env.map((e) => [e.name, e.value]));
    const configKey = Object.keys(onlyOf('ConfigMap', ConfigMap).data)[0];
    expect(env.get('ROLLOUT_CHATOPS_CONFIG')).toBe(`/config/${configKey}`);
    expect(env.get('DATA_DIR')).toBe('/data');
  });

  it('refers to a ServiceAccount, ConfigMap and PVC that exist under deploy/', () => {
    const d = deployment();
    expect(d.spec.template.spec.serviceAccountName).toBe(onlyOf('ServiceAccount', ServiceAccount).metadata.name);
    const volumes = d.spec.template.spec.volumes;
    expect(volumes.find((v) => v.configMap)?.configMap?.name).toBe(onlyOf('ConfigMap', ConfigMap).metadata.name);
    expect(volumes.find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim?.claimName)
      .toBe(onlyOf('PersistentVolumeClaim', PersistentVolumeClaim).metadata.name);
  });
});

describe('RBAC', () => {
  it('grants exactly get, list, watch, patch on rollouts and patch on rollouts/status', () => {
    expect(onlyOf('ClusterRole', ClusterRole).rules).toEqual(EXPECTED_RULES);
  });

  it('binds the ClusterRole to the bot ServiceAccount in the kustomization namespace', () => {
    const binding = onlyOf('ClusterRoleBinding', ClusterRoleBinding);
    expect(binding.roleRef.name).toBe(onlyOf('ClusterRole', ClusterRole).metadata.name);
    expect(binding.subjects).toEqual([{
      kind: 'ServiceAccount', name: onlyOf('ServiceAccount', ServiceAccount).metadata.name, namespace: kustomization().namespace,
    }]);
  });
});

describe('Service, PVC and ConfigMap', () => {
  it('forwards Service port 80 to the app port on the Deployment pods', () => {
    const svc = onlyOf('Service', Service);
    expect(svc.spec.ports.map((p) => [p.port, p.targetPort])).toEqual([[80, APP_PORT]]);
    expect(deployment().spec.template.metadata.labels).toMatchObject(svc.spec.selector);
  });

  it('claims 1Gi ReadWriteOnce for the store', () => {
    const pvc = onlyOf('PersistentVolumeClaim', PersistentVolumeClaim);
    expect(pvc.spec.resources.requests.storage).toBe('1Gi');
  });

  it('ships a sample config that passes the app config validation', () => {
    const problems: string[] = [];
    const config = parseConfigText(onlyOf('ConfigMap', ConfigMap).data['rollout-chatops.yml'], 'configmap.yaml', problems);
    expect(problems).toEqual([]);
    expect(config?.apps.map((a) => a.name)).toEqual(['voting01']);
  });
});

describe('kustomization', () => {
  it('lists every resource file under deploy/ except the example Secret', () => {
    const expected = yamlFilesUnderDeploy().filter((f) => f !== 'kustomization.yaml' && f !== EXAMPLE_SECRET_FILE);
    expect([...kustomization().resources].sort()).toEqual(expected);
  });

  it('lists only files that exist', () => {
    for (const file of kustomization().resources) expect(existsSync(path.join(DEPLOY, file)), file).toBe(true);
  });

  it('installs into the rollout-chatops namespace', () => {
    expect(kustomization().namespace).toBe('rollout-chatops');
  });

  it('keeps the example Secret out, with a placeholder for every key the Deployment reads', () => {
    expect(kustomization().resources).not.toContain(EXAMPLE_SECRET_FILE);
    const secret = onlyOf('Secret', Secret);
    expect(secret.metadata.name).toBe(SECRET_NAME);
    const required = SECRET_KEYS.filter((k) => !OPTIONAL_SECRET_KEYS.includes(k));
    expect(Object.keys(secret.stringData).sort()).toEqual(expect.arrayContaining(required.sort()));
  });
});

describe('slack-app-manifest.yml', () => {
  const manifest = () => SlackManifest.parse(parse(read('slack-app-manifest.yml')));

  it('matches the manifest schema', () => {
    expect(issuesOf(SlackManifest, parse(read('slack-app-manifest.yml')))).toEqual([]);
  });

  it('declares the /promote, /rollout and /errors slash commands on /slack/events', () => {
    expect(manifest().features.slash_commands.map((c) => c.command)).toEqual(SLASH_COMMANDS);
  });

  it('asks for exactly the minimal bot scopes', () => {
    expect([...manifest().oauth_config.scopes.bot].sort()).toEqual([...EXPECTED_BOT_SCOPES].sort());
  });

  it('subscribes to messages in public and private channels for thread replies', () => {
    expect([...manifest().settings.event_subscriptions.bot_events].sort()).toEqual(['message.channels', 'message.groups']);
  });
});

describe('Dockerfile', () => {
  it('builds in one stage and copies the compiled app into a separate runtime stage', () => {
    const froms = dockerArgs('FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    // One Node version: the image's major is the one package.json's engines and README name (the one CI tests).
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    const major = /(\d+)\./.exec(engines)![1];
    for (const from of froms) expect(from).toMatch(new RegExp(`^node:${major}-bookworm-slim\\b`));
    expect(read('README.md')).toContain(`Node ${major} (≥ ${engines.replace('>=', '')})`);
    expect(froms[0]).toMatch(/\bAS build$/i);
    expect(dockerArgs('COPY').some((a) => /--from=build\b.*\bdist\b/.test(a))).toBe(true);
    expect(dockerArgs('RUN').some((a) => /\bnpm run build\b/.test(a))).toBe(true);
  });

  it('installs only production dependencies in the runtime stage', () => {
    const lastFrom = dockerInstructions().map((i) => i.op).lastIndexOf('FROM');
    const runtimeRuns = dockerInstructions().slice(lastFrom).filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runtimeRuns.some((a) => /\bnpm ci\b.*--omit=dev\b/.test(a))).toBe(true);
  });

  it('runs as a non-root user', () => {
    const users = dockerArgs('USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  });

  it('checks health on /healthz', () => {
    expect(dockerArgs('HEALTHCHECK').some((a) => a.includes('/healthz'))).toBe(true);
  });

  it('declares the data volume, the port, the environment and the start command', () => {
    expect(dockerArgs('VOLUME')).toEqual(['["/data"]']);
    expect(dockerArgs('EXPOSE')).toEqual(['3000']);
    const env = dockerArgs('ENV').join(' ');
    for (const pair of ['NODE_ENV=production', 'PORT=3000', 'DATA_DIR=/data', 'ROLLOUT_CHATOPS_CONFIG=/config/rollout-chatops.yml']) {
      expect(env).toContain(pair);
    }
    expect(dockerArgs('CMD').at(-1)).toBe('["node", "--max-semi-space-size=4", "--heap-growing-percent=50", "dist/main.js"]');
  });

  it('keeps dependencies, build output, local data and git out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'data', '.git']));
  });
});
