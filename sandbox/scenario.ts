/**
 * The sandbox's world and its script: one app (voting01) in three environments (dev runs two rollouts, vote and result), the commit that gets pushed, and a
 * conductor that plays the Argo Rollouts controller on a timer and carries a tag from dev to qa to staging the way a
 * CD pipeline would. Everything here talks to the emulators only; the bot under test is reached over HTTP.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ArgoController, CanaryStep } from '../emulators/argo-controller.js';
import type { KubernetesEmulator } from '../emulators/kubernetes-emulator.js';
import type { EcrEmulator } from '../emulators/ecr-emulator.js';
import type { GitHubEmulator } from '../emulators/github-emulator.js';
import { pushPayload, sendWebhook } from '../emulators/clients/github-webhooks.js';

/** Where CI pushes the app's image (the ECR emulator's default account and region). */
export const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
export const ECR_REPOSITORY = 'voting01-vote';
export const REPO = 'acme/voting01';
/** Every environment runs this Rollout name in its own namespace. */
export const ROLLOUT = 'vote';
/** dev also runs the results page, built from the same commit into its own ECR repository (several rollouts, one thread). */
export const RESULT_ROLLOUT = 'result';
export const RESULT_REPOSITORY = 'voting01-result';

/** One Rollout of an environment and the ECR repository of its image. */
export interface SandboxRollout {
  name: string;
  repository: string;
}

const VOTE: SandboxRollout = { name: ROLLOUT, repository: ECR_REPOSITORY };
const RESULT: SandboxRollout = { name: RESULT_ROLLOUT, repository: RESULT_REPOSITORY };

/** The image of `repository` at `tag`, in the emulator's registry. */
export function imageOf(repository: string, tag: string): string {
  return `${IMAGE.slice(0, IMAGE.lastIndexOf('/'))}/${repository}:${tag}`;
}

/** A person the page can act as. */
export interface SandboxUser {
  id: string;
  name: string;
}

/** Lead approves staging; Developer may promote dev and qa only, so refusals can be tried too. */
export const SANDBOX_USERS: readonly SandboxUser[] = [
  { id: 'U0LEAD', name: 'Lead' },
  { id: 'U0DEV', name: 'Developer' },
];

/** One environment of the sandbox app and the Slack channel that gets its threads. */
export interface SandboxEnv {
  name: string;
  namespace: string;
  channel: string;
  /** What the page calls the channel (Slack ids have no names in the config). */
  channelName: string;
  strategy: 'canary' | 'blueGreen';
  /**
   * The app here has an error-simulation endpoint (emulated), so `/errors` and `/rollout drill` work: while its errors
   * are on, the canary's background analysis fails and the controller aborts the canary.
   */
  errorSimulation: boolean;
  /** The Rollouts a deploy sets the commit's images on (the first is the one error simulation and drills act on). */
  rollouts: readonly SandboxRollout[];
}

/** In promotion order. */
export const SANDBOX_ENVS: readonly SandboxEnv[] = [
  { name: 'dev', namespace: 'voting01-dev', channel: 'C0DEV', channelName: 'voting01-dev', strategy: 'canary', errorSimulation: true, rollouts: [VOTE, RESULT] },
  { name: 'qa', namespace: 'voting01-qa', channel: 'C0QA', channelName: 'voting01-qa', strategy: 'canary', errorSimulation: true, rollouts: [VOTE] },
  { name: 'staging', namespace: 'voting01-staging', channel: 'C0STAGING', channelName: 'voting01-staging', strategy: 'blueGreen', errorSimulation: false, rollouts: [VOTE] },
];

/**
 * The bot's config file for the sandbox (interface section 3). `errorSimUrls` holds the emulated error-simulation
 * endpoint of every environment that has one ({@link SandboxEnv.errorSimulation}). A 5 minute TTL keeps a forgotten
 * `/errors on` short; the timeout is as short, so a drill's deadline (the shorter of the two) is 5 minutes either way.
 */
export function sandboxConfig(o: { errorSimUrls: Readonly<Record<string, string>> }): string {
  const errorSim = (env: string) => {
    const url = o.errorSimUrls[env];
    return url ? `
        timeout: 5m
        errorSimulation:
          url: ${url}
          ttl: 5m` : '';
  };
  return `
apps:
  - name: voting01
    repo: ${REPO}
    image:
      ecrRepository: ${ECR_REPOSITORY}
    environments:
      - name: dev
        namespace: voting01-dev
        rollouts:
          - { rollout: ${ROLLOUT} }
          - { rollout: ${RESULT_ROLLOUT}, ecrRepository: ${RESULT_REPOSITORY} }
        slackChannel: C0DEV${errorSim('dev')}
      - name: qa
        namespace: voting01-qa
        rollout: ${ROLLOUT}
        slackChannel: C0QA${errorSim('qa')}
      - name: staging
        namespace: voting01-staging
        rollout: ${ROLLOUT}
        slackChannel: C0STAGING
        previewUrl: https://vote-voting01-staging-preview.example.com
        activeUrl: https://vote-voting01-staging.example.com
        approvers:
          slackUsers: [U0LEAD]
`;
}

/** What runs everywhere before the sandbox starts: the last release, stable in every environment. */
export const INITIAL_TAG = '5d41402-20260128101500';

/** A commit as the sandbox pushes it. */
export interface SandboxCommit {
  sha: string;
  message: string;
  author: { name: string; email: string; login: string };
}

/** The push the sandbox plays on start. */
export const FIRST_COMMIT: SandboxCommit = {
  sha: 'ea11a24b3c4d5e6f708192a3b4c5d6e7f8091a2b',
  message: 'Fix the vote button on small screens',
  author: { name: 'Ada Lovelace', email: 'ada@example.com', login: 'ada' },
};

/** Later pushes (the page's "new push" button) take turns with these. */
const MORE_COMMITS: ReadonlyArray<Omit<SandboxCommit, 'sha'>> = [
  { message: 'Show the tally as percentages', author: { name: 'Grace Hopper', email: 'grace@example.com', login: 'grace' } },
  { message: 'Cache the results page for 5 seconds', author: { name: 'Katherine Johnson', email: 'kj@example.com', login: 'kjohnson' } },
  { message: 'Add a dark theme', author: { name: 'Alan Turing', email: 'alan@example.com', login: 'alan' } },
];

/** A fresh commit for the n-th extra push. */
export function nextCommit(n: number): SandboxCommit {
  const base = MORE_COMMITS[n % MORE_COMMITS.length]!;
  return { ...base, sha: randomBytes(20).toString('hex') };
}

/** The tag CI gives a commit's image: short sha and build time, the pairing the bot expects by default. */
export function tagFor(sha: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${sha.slice(0, 7)}-${stamp}`;
}

/**
 * The canary steps of dev and qa: two timed pauses. `soak` is the second one, at 60%: in qa it is longer, the window in
 * which to try `/rollout drill qa`; in dev it is `pause` too, so dev is over quickly.
 */
export function canarySteps(o: { pause: string; soak?: string }): CanaryStep[] {
  return [{ setWeight: 20 }, { pause: { duration: o.pause } }, { setWeight: 60 }, { pause: { duration: o.soak ?? o.pause } }, { setWeight: 100 }];
}

/**
 * Creates the three Rollouts, healthy on {@link INITIAL_TAG}, and the ECR images and GitHub repo the flow needs.
 * Canaries with error simulation also get a background analysis (the run the errors make fail). Runs before the bot
 * starts, so its first list already sees every rollout.
 */
export function seedWorld(o: { controller: ArgoController; ecr: EcrEmulator; github: GitHubEmulator; pause: string; soak: string }): void {
  for (const repository of [ECR_REPOSITORY, RESULT_REPOSITORY]) o.ecr.addImage(repository, INITIAL_TAG, { pushedAt: new Date('2026-01-28T10:15:00Z') });
  o.github.addRepo(REPO);
  for (const env of SANDBOX_ENVS) {
    for (const r of env.rollouts) {
      const base = { namespace: env.namespace, name: r.name, image: imageOf(r.repository, INITIAL_TAG) };
      if (env.strategy === 'canary') {
        const soak = env.name === 'qa' ? o.soak : o.pause;
        o.controller.createCanary({ ...base, steps: canarySteps({ pause: o.pause, soak }), backgroundAnalysis: env.errorSimulation && r.name === ROLLOUT });
      }
      // Staging waits for a person: no auto-promotion.
      else o.controller.createBlueGreen({ ...base, autoPromotionEnabled: false });
    }
  }
}

/**
 * What CI does for a push: the commit lands on GitHub, GitHub sends the signed push webhook to the bot, and CI pushes
 * the image to ECR. Returns the image tag, ready for {@link DeployConductor.release}.
 */
export async function pushCommit(o: {
  github: GitHubEmulator; ecr: EcrEmulator; botUrl: string; webhookSecret: string; commit: SandboxCommit; at: Date;
}): Promise<string> {
  const { commit } = o;
  o.github.addCommit(REPO, { sha: commit.sha, message: commit.message, author: { ...commit.author, date: o.at.toISOString() } });
  const payload = pushPayload({
    repo: REPO,
    commits: [{ id: commit.sha, message: commit.message, author: { name: commit.author.name, email: commit.author.email, username: commit.author.login }, timestamp: o.at.toISOString() }],
    sender: { login: commit.author.login, type: 'User' },
  });
  const res = await sendWebhook({ url: `${o.botUrl}/api/github/webhooks`, secret: o.webhookSecret, event: 'push', payload });
  if (res.status >= 300) throw new Error(`the bot answered the push webhook with HTTP ${res.status}: ${res.body}`);
  const tag = tagFor(commit.sha, o.at);
  for (const repository of [ECR_REPOSITORY, RESULT_REPOSITORY]) {
    o.ecr.addImage(repository, tag, { digest: `sha256:${createHash('sha256').update(`${repository}:${tag}`).digest('hex')}`, pushedAt: o.at });
  }
  return tag;
}

type Rollout = {
  metadata: { annotations?: Record<string, string> };
  spec: { template: { spec: { containers: Array<{ image: string }> } } };
  status?: { phase?: string; stableRS?: string; currentPodHash?: string; abort?: boolean };
};

/** What the canary's background analysis reports once the simulated errors have been measured long enough. */
export const ERROR_RATE_FAILURE = 'Metric "success-rate" assessed Failed due to failed (3) > failureLimit (2)';
/** Reconciles a canary runs with errors on before its analysis fails (three measurements of the analysis). */
export const DETECT_TICKS = 3;

/**
 * Plays the Argo Rollouts controller, the analysis and the CD pipeline on a timer: every `tickMs` each rollout gets one
 * reconcile (a rollout with nothing to do writes nothing), and once a released tag has completed in one environment it
 * is set on the next one. The bot's own promotion patches are picked up by the next reconcile, as with the real
 * controller. A canary that runs while its app's simulated errors are on fails its background analysis after
 * {@link DETECT_TICKS} reconciles, and the controller aborts it, as Argo does when the success rate drops.
 */
export class DeployConductor {
  private timer: NodeJS.Timeout | undefined;
  /** The tag last set on each environment by this conductor, so each environment gets a tag once. */
  private readonly delivered = new Map<string, string>();
  /** Per environment: reconciles its canary has run with errors on, so far. */
  private readonly erroring = new Map<string, number>();

  constructor(private readonly o: {
    controller: ArgoController;
    k8s: KubernetesEmulator;
    tickMs: number;
    /** A line for the sandbox log (what CI/CD and the controller did). */
    onNote: (text: string) => void;
    /** Reconcile failures; the conductor keeps going. */
    onError: (err: unknown, env: SandboxEnv) => void;
    /** Each environment's error-simulation endpoint, by name: what the app's analysis measures. */
    errorSims?: ReadonlyMap<string, { readonly enabled: boolean }>;
  }) {}

  /** Starts reconciling every `tickMs`. */
  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.o.tickMs);
  }

  /** Stops the timer; nothing moves in the cluster after this. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** CD sets a freshly built tag on the first environment. */
  release(tag: string): void {
    this.deployTo(SANDBOX_ENVS[0]!, tag);
  }

  /** One round: a reconcile per rollout, then the next environment for every tag that just completed. */
  tick(): void {
    for (const env of SANDBOX_ENVS) {
      try {
        this.analyse(env);
        for (const r of env.rollouts) {
          const change = this.o.controller.tick(env.namespace, r.name);
          if (change) this.o.onNote(`controller · ${env.name}${env.rollouts.length > 1 ? `/${r.name}` : ''}: ${change}`);
        }
      } catch (err) {
        this.o.onError(err, env);
      }
    }
    SANDBOX_ENVS.forEach((env, i) => {
      const next = SANDBOX_ENVS[i + 1];
      const tag = this.delivered.get(env.name);
      if (!next || !tag || this.delivered.get(next.name) === tag) return;
      if (this.completed(env, tag)) this.deployTo(next, tag);
    });
  }

  /** The background analysis of a canary in progress: it fails once errors have been on for {@link DETECT_TICKS} reconciles. */
  private analyse(env: SandboxEnv): void {
    const ro = this.o.k8s.get(env.namespace, ROLLOUT) as Rollout | undefined;
    const s = ro?.status;
    const measuring = !!this.o.errorSims?.get(env.name)?.enabled && !!s?.stableRS && s.stableRS !== s.currentPodHash && !s.abort;
    const ticks = measuring ? (this.erroring.get(env.name) ?? 0) + 1 : 0;
    this.erroring.set(env.name, ticks);
    if (ticks < DETECT_TICKS) return;
    this.erroring.set(env.name, 0);
    this.o.onNote(`analysis · ${env.name}: success rate down while errors are on; the background AnalysisRun fails`);
    this.o.controller.failAnalysis(env.namespace, ROLLOUT, { kind: 'background', message: ERROR_RATE_FAILURE });
  }

  /** Every rollout of the environment runs `tag`, stable. */
  private completed(env: SandboxEnv, tag: string): boolean {
    return env.rollouts.every((r) => {
      const ro = this.o.k8s.get(env.namespace, r.name) as Rollout | undefined;
      const s = ro?.status;
      const image = ro?.spec.template.spec.containers[0]?.image;
      return !!s && s.phase === 'Healthy' && !!s.stableRS && s.stableRS === s.currentPodHash && image === imageOf(r.repository, tag);
    });
  }

  private deployTo(env: SandboxEnv, tag: string): void {
    this.delivered.set(env.name, tag);
    for (const r of env.rollouts) {
      this.o.onNote(`CD · set ${tag} on ${env.namespace}/${r.name}`);
      try {
        this.o.controller.deploy(env.namespace, r.name, imageOf(r.repository, tag));
      } catch (err) {
        this.o.onError(err, env);
      }
    }
  }
}
