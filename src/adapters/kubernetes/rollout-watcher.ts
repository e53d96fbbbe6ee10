import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import type { Clock, Timer } from '../../core/ports.js';
import type { Logger } from '../../core/logger.js';
import { readRollout } from '../../core/rollout/read-rollout.js';
import type { RolloutState } from '../../core/rollout/rollout-state.js';
import { kubeRequest } from './kube-request.js';
import { ListWatch, type ObjectList } from './list-watch.js';

export const ROLLOUT_GROUP = 'argoproj.io';
export const ROLLOUT_VERSION = 'v1alpha1';
export const ROLLOUT_PLURAL = 'rollouts';

export interface RolloutWatcherDeps {
  kubeConfig: KubeConfig;
  namespaces: string[];
  clock: Clock;
  log: Logger;
  /** Called for every added or changed rollout, already read into our model. */
  onRollout: (state: RolloutState) => void;
  /** Called for every deleted rollout (a watch DELETED event, or gone from a relist). */
  onDeleted?: (rollout: { namespace: string; name: string; uid?: string }) => void;
  /** Called after each successful list of a namespace, with the names it holds. */
  onListed?: (namespace: string, names: string[]) => void;
  /** Counts watch restarts (after errors). */
  onRestart?: (namespace: string) => void;
  /**
   * Called when the cluster stops answering (a watch failed, and restarting it failed too, without an HTTP answer or
   * with a 5xx) and again when a list succeeds after that; each change once. A 401/403/404 is an answer: reachable, but misconfigured.
   */
  onReachability?: (reachable: boolean, reason?: string) => void;
  /** First and largest delay before restarting a failed watch (defaults 500 ms and 30 s). */
  backoff?: { initialMs: number; maxMs: number };
  /**
   * Watch all namespaces with one stream instead of one per namespace. Defaults to true above 20 namespaces: a fleet
   * of a thousand namespaces would otherwise hold a thousand watch connections. Needs list/watch cluster-wide (ClusterRole).
   */
  clusterWide?: boolean;
}

interface NamespaceWatch {
  /** The namespace watched, or undefined for the cluster-wide watch. */
  namespace?: string;
  informer: ListWatch;
  listed: boolean;
  failures: number;
  timer?: Timer;
}

/**
 * Watches Argo Rollouts in the configured namespaces with informers that work as client-node's (list-watch.ts). Like
 * client-node 1.4's, an informer stops on any error other than 410 (which it handles by relisting), so this restarts
 * it with a backoff, never giving up, and never reviving one that was stopped on purpose (stop() itself emits an error).
 */
export class RolloutWatcher {
  private readonly watches: NamespaceWatch[] = [];
  private stopping = false;
  private reachable = true;

  constructor(private readonly deps: RolloutWatcherDeps) {
    const wanted = new Set(deps.namespaces);
    const clusterWide = deps.clusterWide ?? deps.namespaces.length > 20;
    for (const namespace of clusterWide ? [undefined] : deps.namespaces) {
      const w: NamespaceWatch = { namespace, listed: false, failures: 0, informer: undefined as never };
      const path = namespace ? `/apis/${ROLLOUT_GROUP}/${ROLLOUT_VERSION}/namespaces/${namespace}/${ROLLOUT_PLURAL}` : `/apis/${ROLLOUT_GROUP}/${ROLLOUT_VERSION}/${ROLLOUT_PLURAL}`;
      const list = async (): Promise<ObjectList> => {
        const body = ((await kubeRequest(deps.kubeConfig, { method: 'GET', path })) ?? {}) as Partial<ObjectList>;
        const items = body.items ?? [];
        // The informer adds the items right after this resolves; report the listing once they are in.
        setImmediate(() => this.listed(w, items));
        return { ...body, items };
      };
      w.informer = new ListWatch(deps.kubeConfig, path, list);
      // The cluster-wide watch sees every namespace; only configured ones matter.
      const relevant = (obj: KubernetesObject) => namespace !== undefined || wanted.has(obj.metadata?.namespace ?? '');
      w.informer.on('add', (obj) => relevant(obj) && this.changed(w, obj));
      w.informer.on('update', (obj) => relevant(obj) && this.changed(w, obj));
      w.informer.on('delete', (obj) => relevant(obj) && this.deleted(obj));
      w.informer.on('error', (err) => this.failed(w, err));
      this.watches.push(w);
    }
  }

  /** Starts every informer; resolves once each has tried its first list (ready or not). */
  async start(): Promise<void> {
    this.stopping = false;
    await Promise.all(this.watches.map((w) => w.informer.start()));
  }

  /** True once every namespace has been listed at least once. */
  isReady(): boolean {
    return this.watches.every((w) => w.listed);
  }

  /** False from a failure without an answer from the API server until the next successful list. */
  isReachable(): boolean {
    return this.reachable;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const w of this.watches) {
      w.timer?.cancel();
      await w.informer.stop();
    }
  }

  private listed(w: NamespaceWatch, items: KubernetesObject[]): void {
    w.listed = true;
    w.failures = 0;
    if (!this.reachable) {
      this.reachable = true;
      this.deps.onReachability?.(true);
    }
    if (w.namespace !== undefined) {
      this.deps.onListed?.(w.namespace, items.map((i) => i.metadata?.name ?? ''));
      return;
    }
    for (const ns of this.deps.namespaces) this.deps.onListed?.(ns, items.filter((i) => i.metadata?.namespace === ns).map((i) => i.metadata?.name ?? ''));
  }

  private changed(w: NamespaceWatch, obj: KubernetesObject): void {
    w.failures = 0;
    let state: RolloutState;
    try {
      state = readRollout(obj);
    } catch (err) {
      this.deps.log.warn({ err, namespace: obj.metadata?.namespace, rollout: obj.metadata?.name }, 'rollout object could not be read, skipped');
      return;
    }
    this.deps.onRollout(state);
  }

  private deleted(obj: KubernetesObject): void {
    const namespace = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    this.deps.log.info({ namespace, rollout: name }, 'rollout deleted');
    this.deps.onDeleted?.({ namespace, name, ...(obj.metadata?.uid ? { uid: obj.metadata.uid } : {}) });
  }

  private failed(w: NamespaceWatch, err: unknown): void {
    if (this.stopping) return;
    w.failures++;
    const { initialMs, maxMs } = this.deps.backoff ?? { initialMs: 500, maxMs: 30_000 };
    const delay = Math.min(maxMs, initialMs * 2 ** Math.min(w.failures - 1, 10));
    const status = (err as { code?: number; statusCode?: number })?.code ?? (err as { statusCode?: number })?.statusCode;
    this.deps.log.warn({ err: describeError(err), status, namespace: w.namespace ?? '(all)', retryInMs: delay, fix: fixFor(status) }, 'rollout watch failed, restarting');
    this.deps.onRestart?.(w.namespace ?? '(all)');
    // A dropped watch connection alone is routine (the relist right after usually works): unreachable is a second
    // failure in a row of the same watch.
    if (this.reachable && w.failures >= 2 && (typeof status !== 'number' || status >= 500)) {
      this.reachable = false;
      this.deps.onReachability?.(false, describeError(err));
    }
    w.timer?.cancel();
    w.timer = this.deps.clock.setTimer(delay, () => {
      w.timer = undefined;
      if (!this.stopping) void w.informer.start();
    });
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

function fixFor(status: unknown): string | undefined {
  if (status === 401) return 'the kubeconfig credentials were rejected: check KUBECONFIG';
  if (status === 403) return 'RBAC: the bot needs get, list and watch on rollouts.argoproj.io in this namespace (see deploy/rbac.yaml)';
  if (status === 404) return 'the Rollout CRD (rollouts.argoproj.io) is not installed in this cluster, or the namespace does not exist';
  return undefined;
}
