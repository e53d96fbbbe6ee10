import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import type { Settings } from '../config/settings.js';
import { rolloutsOf, type EnvironmentConfig } from '../core/config/config-schema.js';
import { KubeRolloutCluster } from '../adapters/kubernetes/kube-rollout-cluster.js';
import { StartupError } from './startup-error.js';

/** One cluster the config uses: its kubeconfig (current context set to it) and the reads and patches over it. */
export interface KubeCluster {
  /** The kubeconfig context. */
  name: string;
  kubeConfig: KubeConfig;
  cluster: KubeRolloutCluster;
}

/** Every distinct cluster the environments name, the default (current context) one first. */
export interface KubeClusters {
  /** The context of environments that name no `cluster`. */
  defaultName: string;
  byName: ReadonlyMap<string, KubeCluster>;
  /** The cluster an environment's rollout runs in. */
  nameOf(env: Pick<EnvironmentConfig, 'cluster'>): string;
}

/**
 * Loads KUBECONFIG (or the in-cluster config) once and makes one client per distinct context the config names, each on
 * a copy with that context current. A context KUBECONFIG does not have stops the start, one line per environment.
 */
export function buildKubeClusters(settings: Pick<Settings, 'config' | 'kubernetes'>): KubeClusters {
  const base = new KubeConfig();
  if (settings.kubernetes.kubeconfig) base.loadFromFile(settings.kubernetes.kubeconfig);
  else base.loadFromCluster();
  const defaultName = base.getCurrentContext();
  const contexts = base.getContexts().map((c) => c.name);

  const problems: string[] = [];
  const wanted = new Set<string>([defaultName]);
  settings.config.apps.forEach((app, i) =>
    app.environments.forEach((env, j) => {
      if (env.cluster === undefined) return;
      if (contexts.includes(env.cluster)) wanted.add(env.cluster);
      else problems.push(`apps[${i}].environments[${j}].cluster: no context "${env.cluster}" in KUBECONFIG (contexts: ${contexts.join(', ') || 'none'})`);
    }),
  );
  // The config tells clusters apart by name; an environment naming the current context and one naming none share it.
  const seen = new Map<string, string>();
  settings.config.apps.forEach((app, i) =>
    app.environments.forEach((env, j) => {
      for (const r of rolloutsOf(app, env)) {
        const key = `${env.cluster ?? defaultName}|${env.namespace}/${r.rollout}`;
        const other = seen.get(key);
        if (other) problems.push(`apps[${i}].environments[${j}]: rollout ${env.namespace}/${r.rollout} in cluster ${env.cluster ?? defaultName} is already configured as ${other}`);
        else seen.set(key, `${app.name}/${env.name}`);
      }
    }),
  );
  if (problems.length) throw new StartupError(problems.join('\n'));

  const byName = new Map<string, KubeCluster>();
  for (const name of wanted) {
    const kubeConfig = name === defaultName ? base : withContext(base, name);
    byName.set(name, { name, kubeConfig, cluster: new KubeRolloutCluster(kubeConfig) });
  }
  return { defaultName, byName, nameOf: (env) => env.cluster ?? defaultName };
}

/** A copy of `base` whose current context is `name` (the base stays as loaded). */
function withContext(base: KubeConfig, name: string): KubeConfig {
  const copy = new KubeConfig();
  copy.loadFromOptions({ clusters: base.getClusters(), users: base.getUsers(), contexts: base.getContexts(), currentContext: base.getCurrentContext() });
  copy.setCurrentContext(name);
  return copy;
}
