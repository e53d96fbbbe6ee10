import { rolloutsOf, type AppConfig, type Config, type EnvironmentConfig, type RolloutMember } from './config/config-schema.js';

/** One configured environment with its app and its place in the promotion order. */
export interface EnvTarget {
  app: AppConfig;
  env: EnvironmentConfig;
  /** Index in app.environments (promotion order). */
  index: number;
  /** `<app>/<env>`: the key of per-environment state. */
  key: string;
}

/** Lookups over the config: by rollout, by name, by repo. */
export class Catalog {
  private readonly byRollout = new Map<string, EnvTarget>();
  readonly targets: EnvTarget[] = [];

  constructor(readonly config: Config) {
    for (const app of config.apps) {
      app.environments.forEach((env, index) => {
        const t: EnvTarget = { app, env, index, key: `${app.name}/${env.name}` };
        this.targets.push(t);
        for (const r of rolloutsOf(app, env)) this.byRollout.set(rolloutKey(env.cluster, env.namespace, r.rollout), t);
      });
    }
  }

  /** The environment a rollout belongs to, if configured: in `cluster` (an environment's `cluster`; absent: the default one). */
  forRollout(namespace: string, name: string, cluster?: string): EnvTarget | undefined {
    return this.byRollout.get(rolloutKey(cluster, namespace, name));
  }

  /** The Rollouts of an environment (one, or several deployed from one commit), each with its ECR repository. */
  rollouts(t: Pick<EnvTarget, 'app' | 'env'>): RolloutMember[] {
    return rolloutsOf(t.app, t.env);
  }

  /** Whether an environment deploys several Rollouts from one commit (one thread shows them all). */
  isGroup(t: Pick<EnvTarget, 'app' | 'env'>): boolean {
    return (t.env.rollouts?.length ?? 0) > 1;
  }

  /** Every distinct namespace to watch. */
  namespaces(): string[] {
    return [...new Set(this.targets.map((t) => t.env.namespace))];
  }

  app(name: string): AppConfig | undefined {
    return this.config.apps.find((a) => a.name === name);
  }

  /** Apps whose repo is `owner/name` (case-insensitive, as GitHub treats it). */
  appsForRepo(repo: string): AppConfig[] {
    const r = repo.toLowerCase();
    return this.config.apps.filter((a) => a.repo.toLowerCase() === r);
  }

  target(app: string, env: string): EnvTarget | undefined {
    return this.targets.find((t) => t.app.name === app && t.env.name === env);
  }

  /** The environment before this one in its app's promotion order. */
  previous(t: EnvTarget): EnvTarget | undefined {
    return t.index > 0 ? this.target(t.app.name, t.app.environments[t.index - 1]!.name) : undefined;
  }

  /** The environment after this one in its app's promotion order. */
  next(t: EnvTarget): EnvTarget | undefined {
    const env = t.app.environments[t.index + 1];
    return env ? this.target(t.app.name, env.name) : undefined;
  }

  /** Every environment name, across apps, in config order without repeats. */
  envNames(): string[] {
    return [...new Set(this.targets.map((t) => t.env.name))];
  }
}

/** The Rollout an environment target acts on: its `rollout`, or the first of its `rollouts` (a member target names one). */
export function rolloutName(t: Pick<EnvTarget, 'app' | 'env'>): string {
  return t.env.rollout ?? rolloutsOf(t.app, t.env)[0]!.rollout;
}

/** The ECR repository the target's tags are verified in: its rollout's, else the app's. */
export function ecrRepositoryOf(t: Pick<EnvTarget, 'app' | 'env'>): string {
  const name = rolloutName(t);
  return rolloutsOf(t.app, t.env).find((r) => r.rollout === name)?.ecrRepository ?? t.app.image.ecrRepository;
}

/**
 * One Rollout of a several-rollout environment as a target of its own: the same environment (same key, channel,
 * approvers, locks), acting on `m.rollout` and verifying tags in its ECR repository.
 */
export function memberTarget(t: EnvTarget, m: RolloutMember): EnvTarget {
  return { ...t, env: { ...t.env, rollout: m.rollout } };
}

/** A rollout's identity across clusters: the environment's `cluster` (empty for the default), namespace and name. */
function rolloutKey(cluster: string | undefined, namespace: string, name: string): string {
  return `${cluster ?? ''}|${namespace}/${name}`;
}
