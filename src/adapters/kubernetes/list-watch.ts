import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { Watch } from '@kubernetes/client-node/dist/watch.js';

export interface ObjectList {
  items: KubernetesObject[];
  metadata?: { resourceVersion?: string };
}

type Verb = 'add' | 'update' | 'delete';

/**
 * client-node 1.4's informer (`makeInformer`, its ListWatch) for one path, over client-node's Watch but without the
 * generated API its cache module imports (client-node-hooks.ts): lists, then watches from the list's resourceVersion;
 * a watch that ends is resumed from the last resourceVersion, a 410 Gone relists, and a relist reports as deleted
 * what is no longer there. As in client-node, any other failure is emitted on `error` and the informer stops until
 * start() is called again, which resumes from the last resourceVersion.
 */
export class ListWatch {
  private readonly watch: Watch;
  /**
   * What is known to exist, by namespace/name: only identity and resourceVersion (what the dedupe and a relist's
   * deletions need), not the whole object. A thousand Rollouts with their status would otherwise stay on the heap.
   */
  private readonly objects = new Map<string, KubernetesObject>();
  private readonly handlers: Record<Verb, ((obj: KubernetesObject) => void)[]> = { add: [], update: [], delete: [] };
  private readonly errorHandlers: ((err: unknown) => void)[] = [];
  private resourceVersion = '';
  private stopped = false;
  private request?: AbortController;

  constructor(
    kubeConfig: KubeConfig,
    private readonly path: string,
    private readonly list: () => Promise<ObjectList>,
  ) {
    this.watch = new Watch(kubeConfig);
  }

  on(verb: Verb, cb: (obj: KubernetesObject) => void): void;
  on(verb: 'error', cb: (err: unknown) => void): void;
  on(verb: Verb | 'error', cb: ((obj: KubernetesObject) => void) & ((err: unknown) => void)): void {
    if (verb === 'error') this.errorHandlers.push(cb);
    else this.handlers[verb].push(cb);
  }

  /** Resolves once the list (when one is due) and the watch request have been tried, whether or not they worked. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.done(null);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort();
  }

  private abort(): void {
    this.request?.abort();
    this.request = undefined;
  }

  /** The watch ended (err null), failed, or is to be started. */
  private async done(err: unknown): Promise<void> {
    this.abort();
    const status = (err as { statusCode?: unknown; code?: unknown } | null)?.statusCode ?? (err as { code?: unknown } | null)?.code;
    if (err && status === 410) this.resourceVersion = '';
    else if (err) return this.failed(err);
    if (this.stopped) return;
    if (!this.resourceVersion) {
      let list: ObjectList;
      try {
        list = await this.list();
      } catch (e) {
        return this.failed(e);
      }
      if (this.stopped) return;
      this.relisted(list.items);
      this.resourceVersion = list.metadata?.resourceVersion ?? '';
    }
    const request = await this.watch.watch(
      this.path,
      { resourceVersion: this.resourceVersion },
      (phase, obj: KubernetesObject & { code?: number }) => this.event(phase, obj),
      (e: unknown) => void this.done(e),
    );
    if (this.stopped) request.abort();
    else this.request = request;
  }

  private failed(err: unknown): void {
    for (const cb of this.errorHandlers) cb(err);
  }

  private event(phase: string, obj: KubernetesObject & { code?: number }): void {
    switch (phase) {
      case 'ERROR':
        // The watch ends right after; done() then relists.
        if (obj.code === 410) this.resourceVersion = '';
        return;
      case 'ADDED':
      case 'MODIFIED':
        this.addOrUpdate(obj);
        break;
      case 'DELETED':
        if (this.objects.delete(keyOf(obj))) this.emit('delete', obj);
        break;
    }
    this.resourceVersion = obj.metadata?.resourceVersion ?? '';
  }

  private relisted(items: KubernetesObject[]): void {
    const listed = new Set(items.map(keyOf));
    for (const [key, old] of this.objects) {
      if (listed.has(key)) continue;
      this.objects.delete(key);
      this.emit('delete', old);
    }
    for (const obj of items) this.addOrUpdate(obj);
  }

  private addOrUpdate(obj: KubernetesObject): void {
    const key = keyOf(obj);
    const found = this.objects.get(key);
    if (found && found.metadata?.resourceVersion != null && found.metadata.resourceVersion === obj.metadata?.resourceVersion) return;
    this.objects.set(key, identityOf(obj));
    this.emit(found ? 'update' : 'add', obj);
  }

  private emit(verb: Verb, obj: KubernetesObject): void {
    for (const cb of this.handlers[verb].slice()) cb(obj);
  }
}

/** The object's identity, as a relist's delete reports it (namespace, name, uid) and the dedupe compares it. */
function identityOf(obj: KubernetesObject): KubernetesObject {
  const { namespace, name, uid, resourceVersion } = obj.metadata ?? {};
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { namespace, name, uid, resourceVersion } };
}

function keyOf(obj: KubernetesObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}
