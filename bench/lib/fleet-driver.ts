import { Catalog } from '../../src/core/catalog.js';
import type { World } from './world.js';
import { appName, namespaceOf, repoOf, type FleetShape } from './fleet-config.js';
import { RolloutOracle, type PriorityEvent } from './fleet-oracle.js';
import type { FleetChange } from './strict-oracle.js';

/**
 * The canary every fleet rollout runs: a manual gate after 20% (the "waiting for promotion" people act on), a short
 * timed pause, full weight. About 11 controller-side writes per deploy, so in a 60 s window at 6 writes per rollout
 * most deploys are somewhere in the middle, a few complete, some get aborted at the gate.
 */
export const FLEET_STEPS: readonly object[] = Object.freeze([{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }, { pause: { duration: '5s' } }, { setWeight: 100 }]);

const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const COMMITS_PER_APP = 20;
const ROLLOUT = 'vote';

interface Rec {
  ns: string;
  app: number;
  oracle: RolloutOracle;
  /** Not before this time (a timed pause, or a reconcile that had nothing to do). */
  readyAt: number;
  builds: number;
}

/** What the driver did. */
export interface DriveStats {
  writes: number;
  deploys: number;
  promotions: number;
  aborts: number;
  ticks: number;
  startedAt: number;
  stoppedAt: number;
  /** Time the driver itself spent writing (parent process), to show it kept up. */
  driverBusyMs: number;
}

/**
 * Drives a fleet through the Kubernetes emulator the way the Argo controller and the people promoting do: controller
 * reconciles (`ArgoController.tick`), promotions and aborts as controller-side status writes (`emulator.mutate`),
 * new deploys as spec writes. Each write is fed to the rollout's oracle, which records priority events with their time.
 */
export class FleetDriver {
  readonly recs: Rec[] = [];
  readonly priority: PriorityEvent[] = [];
  private readonly commitShas = new Map<number, string[]>();

  constructor(private readonly world: World, readonly catalog: Catalog, private readonly shape: FleetShape, private readonly rnd: () => number, private readonly abortShare = 0.15) {}

  /** Creates every rollout, settled at revision 1, and a few commits per app on GitHub for the image tags to name. */
  create(): void {
    for (let i = 0; i < this.shape.apps; i++) {
      const shas: string[] = [];
      for (let c = 0; c < COMMITS_PER_APP; c++) {
        shas.push(this.world.github.addCommit(repoOf(i), { message: `Change ${c + 1} of ${appName(i)}\n\nDetails.`, author: { name: 'Ada Lovelace', email: 'ada@example.com', login: 'ada' } }));
      }
      this.commitShas.set(i, shas);
      for (let j = 0; j < this.shape.envs; j++) {
        const ns = namespaceOf(i, j);
        const target = this.catalog.forRollout(ns, ROLLOUT);
        if (!target) throw new Error(`no target for ${ns}`);
        this.world.controller.createCanary({ namespace: ns, name: ROLLOUT, image: this.image(i, 0), steps: FLEET_STEPS });
        this.recs.push({ ns, app: i, oracle: new RolloutOracle(target, '1'), readyAt: 0, builds: 0 });
      }
    }
  }

  private image(app: number, build: number): string {
    const sha = this.commitShas.get(app)![build % COMMITS_PER_APP]!;
    return `${REGISTRY}/${appName(app)}-vote:${sha.slice(0, 7)}-${build + 1}`;
  }

  /** Every change of every rollout, in the order they were written. */
  changes(): FleetChange[] {
    return this.recs.flatMap((r) => r.oracle.changes).sort((a, b) => a.at - b.at);
  }

  /** Runs `rate` writes per second for `durationMs` (bounded in count and time), then stops. */
  async run(rate: number, durationMs: number): Promise<DriveStats> {
    const stats: DriveStats = { writes: 0, deploys: 0, promotions: 0, aborts: 0, ticks: 0, startedAt: Date.now(), stoppedAt: 0, driverBusyMs: 0 };
    const maxWrites = Math.ceil((rate * durationMs) / 1000);
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const t0 = Date.now();
        const elapsed = t0 - stats.startedAt;
        if (elapsed >= durationMs || stats.writes >= maxWrites) {
          clearInterval(timer);
          stats.stoppedAt = Date.now();
          resolve();
          return;
        }
        const due = Math.min(maxWrites, Math.floor((elapsed * rate) / 1000) + 1);
        for (let guard = 0; stats.writes < due && guard < 200; guard++) {
          const rec = this.pick(t0);
          if (!rec) break;
          this.act(rec, stats);
        }
        stats.driverBusyMs += Date.now() - t0;
      }, 5);
    });
    return stats;
  }

  /** A random rollout that can move now (a few random tries, then a scan from a random place). */
  private pick(now: number): Rec | undefined {
    for (let k = 0; k < 8; k++) {
      const r = this.recs[Math.floor(this.rnd() * this.recs.length)]!;
      if (r.readyAt <= now) return r;
    }
    const start = Math.floor(this.rnd() * this.recs.length);
    for (let k = 0; k < this.recs.length; k++) {
      const r = this.recs[(start + k) % this.recs.length]!;
      if (r.readyAt <= now) return r;
    }
    return undefined;
  }

  private write(rec: Rec, stats: DriveStats, fn: () => void): void {
    const before = this.world.k8s.get(rec.ns, ROLLOUT)?.metadata?.resourceVersion;
    fn();
    const after = this.world.k8s.get(rec.ns, ROLLOUT);
    if (after?.metadata?.resourceVersion === before) return;
    stats.writes++;
    this.priority.push(...rec.oracle.observe(after, Date.now()));
  }

  /** One step of a rollout's life: deploy when settled, promote or abort at the gate, wait out a timed pause, else reconcile. */
  private act(rec: Rec, stats: DriveStats): void {
    const { k8s, controller } = this.world;
    const ro = k8s.get(rec.ns, ROLLOUT);
    const s = ro.status ?? {};
    const done = !!s.stableRS && s.stableRS === s.currentPodHash;
    if (done || s.abort) {
      rec.builds++;
      const image = this.image(rec.app, rec.builds);
      this.write(rec, stats, () => k8s.mutate(rec.ns, ROLLOUT, (o) => {
        for (const c of o.spec.template.spec.containers) c.image = image;
      }));
      this.write(rec, stats, () => controller.tick(rec.ns, ROLLOUT));
      stats.deploys++;
      return;
    }
    const pause = (s.pauseConditions ?? []).find((p: { reason: string }) => p.reason === 'CanaryPauseStep');
    if (pause) {
      const step = (FLEET_STEPS[s.currentStepIndex ?? 0] ?? {}) as { pause?: { duration?: string } };
      const seconds = step.pause?.duration ? Number.parseInt(step.pause.duration, 10) : undefined;
      if (seconds !== undefined) {
        const until = Date.parse(pause.startTime) + seconds * 1000;
        if (Date.now() < until) {
          rec.readyAt = until;
          return;
        }
      } else {
        // The gate: a person promotes (the plugin clears pauseConditions) or aborts (sets status.abort); the controller reacts.
        const abort = this.rnd() < this.abortShare;
        this.write(rec, stats, () => k8s.mutate(rec.ns, ROLLOUT, (o) => {
          if (abort) o.status.abort = true;
          else delete o.status.pauseConditions;
        }));
        this.write(rec, stats, () => controller.tick(rec.ns, ROLLOUT));
        if (abort) stats.aborts++;
        else stats.promotions++;
        return;
      }
    }
    const before = stats.writes;
    this.write(rec, stats, () => controller.tick(rec.ns, ROLLOUT));
    stats.ticks++;
    if (stats.writes === before) rec.readyAt = Date.now() + 1000;
  }
}
