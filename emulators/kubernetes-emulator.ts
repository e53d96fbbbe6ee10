/**
 * A loopback Kubernetes API server that serves one resource: Argo Rollouts' `rollouts.argoproj.io/v1alpha1`
 * (namespaced, CRD with `subresources: {status: {}}`). It follows Kubernetes API-server behaviour where the bot
 * can observe it, so that code which passes here has a chance against a real cluster:
 * - status subresource rules (reference argo-rollouts.md 1.1, 6, 7.1): a main-resource write cannot change
 *   `.status`, a `/status` write cannot change anything else, `metadata.generation` moves only when something
 *   outside metadata/status changes, `status` is dropped on create, unknown top-level status fields are pruned;
 * - one global resourceVersion counter; no-op writes answer 200 without a new resourceVersion or event;
 * - list + watch with resume from a resourceVersion, 410 Expired after compaction (HTTP or in-stream, as
 *   client-node's informer handles both; libraries.md 3);
 * - patch media types: merge patch and JSON patch; strategic merge patch is 415 as for every CRD.
 * Everything it receives is recorded in `calls` for assertions.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';

/** One HTTP request the emulator received, with the status it answered. */
export interface RecordedCall {
  method: string;
  /** URL path without the query string. */
  path: string;
  query: Record<string, string>;
  /** Media type without parameters (`; charset=...` removed). */
  contentType?: string;
  /** Parsed JSON body, or the raw text when it is not JSON; absent when the request had no body. */
  body?: unknown;
  status: number;
  /** `Date.now()` when the request arrived. */
  at: number;
}

/** Test handle on a running emulator. */
export interface KubernetesEmulator {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Kubeconfig YAML: cluster `server: url` with `insecure-skip-tls-verify: true`, a token user, one context. */
  kubeconfigYaml(opts?: { namespace?: string }): string;
  /** Writes `kubeconfig` into `dir` and returns its path. */
  writeKubeconfig(dir: string, opts?: { namespace?: string }): Promise<string>;
  /** Controller-side write: create or replace the WHOLE object including status (like the Argo controller, which writes both). */
  apply(obj: object): object;
  /** Controller-side read-modify-write of the whole object (deep-cloned); emits MODIFIED; bumps generation iff spec changed. */
  mutate(ns: string, name: string, fn: (obj: any) => void): object;
  /** Deep clone of the stored object, or undefined. */
  get(ns: string, name: string): any | undefined;
  /**
   * Controller-side write of an AnalysisRun (`analysisruns.argoproj.io`; no status subresource, reference 6), served at
   * GET `.../namespaces/{ns}/analysisruns/{name}` and in the namespace list. Not watchable.
   */
  applyAnalysisRun(obj: object): object;
  /** Deep clone of a stored AnalysisRun, or undefined. */
  analysisRun(ns: string, name: string): any | undefined;
  /** Deletes the object (emits DELETED); does nothing when it does not exist. */
  remove(ns: string, name: string): void;
  calls: RecordedCall[];
  /** PATCH calls (optionally filtered) — what tests assert on: path (with or without /status), contentType, body. */
  patches(filter?: { namespace?: string; name?: string }): RecordedCall[];
  /** Calls that matched no route (answered 404). An integration test should expect this to be empty. */
  unhandled(): RecordedCall[];
  /** Abruptly destroy every open watch connection (socket destroy, no clean end). */
  dropWatches(): void;
  /** Ends every open watch cleanly (as the apiserver does at timeoutSeconds). */
  endWatches(): void;
  /**
   * Forget history so any watch resuming from an older resourceVersion gets 410; mode selects HTTP 410 or
   * in-stream ERROR. Also ends open watches so clients must resume.
   */
  compact(mode?: 'http' | 'stream'): void;
  /** The next `count` requests matching (method/path regex) answer `status` with a Status body (e.g. 500), then normal. */
  failNext(opts: { count: number; status: number; method?: string; path?: RegExp }): void;
  openWatches(): number;
  /** Current global resourceVersion (what a list would return). */
  resourceVersion(): string;
  close(): Promise<void>;
}

type Obj = Record<string, any>;
type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
interface WatchEvent {
  rv: number;
  type: WatchEventType;
  object: Obj;
}

const GROUP = 'argoproj.io';
const VERSION = 'v1alpha1';
const API_VERSION = `${GROUP}/${VERSION}`;
const KIND = 'Rollout';
const RESOURCE = `rollouts.${GROUP}`;
const CLUSTER_LIST = /^\/apis\/argoproj\.io\/v1alpha1\/rollouts\/?$/;
const NAMESPACE_LIST = /^\/apis\/argoproj\.io\/v1alpha1\/namespaces\/([^/]+)\/rollouts\/?$/;
const AR_LIST = /^\/apis\/argoproj\.io\/v1alpha1\/namespaces\/([^/]+)\/analysisruns\/?$/;
const AR_ITEM = /^\/apis\/argoproj\.io\/v1alpha1\/namespaces\/([^/]+)\/analysisruns\/([^/]+?)\/?$/;
const ITEM = /^\/apis\/argoproj\.io\/v1alpha1\/namespaces\/([^/]+)\/rollouts\/([^/]+?)(\/status)?\/?$/;
/** Top-level status properties in the Rollout CRD schema (reference 6); anything else is pruned, as the apiserver does. */
const STATUS_FIELDS = new Set([
  'HPAReplicas', 'abort', 'abortedAt', 'alb', 'albs', 'availableReplicas', 'blueGreen', 'canary', 'collisionCount',
  'conditions', 'controllerPause', 'currentPodHash', 'currentStepHash', 'currentStepIndex', 'duration', 'message',
  'observedGeneration', 'pauseConditions', 'phase', 'promoteFull', 'readyReplicas', 'replicas', 'restartedAt',
  'selector', 'stableRS', 'updatedReplicas', 'workloadObservedGeneration',
]);
/** A real cluster never starts at 0, and "0" means "any version" to a watch; start somewhere unremarkable. */
const FIRST_RESOURCE_VERSION = 1000;
const MAX_HISTORY = 10_000;

/** An error answered as a Kubernetes `Status` object. */
class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Obj,
  ) {
    super(message);
  }
}

function statusBody(code: number, reason: string, message: string, details?: Obj): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

function notFound(name: string): ApiError {
  return new ApiError(404, 'NotFound', `${RESOURCE} "${name}" not found`, { name, group: GROUP, kind: 'rollouts' });
}

function conflict(name: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${RESOURCE} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: GROUP, kind: 'rollouts' },
  );
}

/** Reason strings the apiserver uses for a given code (for failNext). */
function reasonFor(code: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
    409: 'Conflict', 410: 'Expired', 415: 'UnsupportedMediaType', 422: 'Invalid', 429: 'TooManyRequests',
    500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
  };
  return reasons[code] ?? 'Unknown';
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

function isPlainObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------------------------
// Patches

/** RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const result: Obj = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new ApiError(422, 'Invalid', `invalid JSON pointer "${pointer}"`);
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Walks to the parent of `pointer`; the apiserver answers a missing parent with 422 ("doc is missing path"). */
function resolveParent(doc: unknown, pointer: string): { parent: any; key: string } {
  const parts = parsePointer(pointer);
  const key = parts.pop();
  if (key === undefined) throw new ApiError(422, 'Invalid', 'the root cannot be the parent of an operation');
  let node: any = doc;
  for (const part of parts) {
    node = Array.isArray(node) ? node[Number(part)] : isPlainObject(node) ? node[part] : undefined;
    if (node === undefined) throw new ApiError(422, 'Invalid', `doc is missing path: "${pointer}": missing value`);
  }
  if (!isPlainObject(node) && !Array.isArray(node)) {
    throw new ApiError(422, 'Invalid', `doc is missing path: "${pointer}": missing value`);
  }
  return { parent: node, key };
}

function arrayIndex(arr: unknown[], key: string, forInsert: boolean): number {
  if (forInsert && key === '-') return arr.length;
  const idx = /^(0|[1-9]\d*)$/.test(key) ? Number(key) : NaN;
  const max = forInsert ? arr.length : arr.length - 1;
  if (Number.isNaN(idx) || idx > max) throw new ApiError(422, 'Invalid', `unable to access invalid index: ${key}`);
  return idx;
}

function pointerGet(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  const { parent, key } = resolveParent(doc, pointer);
  const value = Array.isArray(parent) ? parent[arrayIndex(parent, key, false)] : parent[key];
  if (value === undefined) throw new ApiError(422, 'Invalid', `doc is missing key: ${pointer}: missing value`);
  return value;
}

function pointerAdd(doc: unknown, pointer: string, value: unknown): unknown {
  if (pointer === '') return clone(value);
  const { parent, key } = resolveParent(doc, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true), 0, clone(value));
  else parent[key] = clone(value);
  return doc;
}

function pointerRemove(doc: unknown, pointer: string): unknown {
  pointerGet(doc, pointer);
  const { parent, key } = resolveParent(doc, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false), 1);
  else delete parent[key];
  return doc;
}

/** RFC 6902 JSON patch (add, remove, replace, move, copy, test). Failures are 422, as the apiserver answers. */
function jsonPatch(doc: unknown, ops: unknown[]): unknown {
  let result = doc;
  for (const raw of ops) {
    if (!isPlainObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new ApiError(400, 'BadRequest', 'json: invalid JSON patch operation (need "op" and "path")');
    }
    const { op, path } = raw;
    switch (op) {
      case 'add':
        result = pointerAdd(result, path, raw.value);
        break;
      case 'remove':
        result = pointerRemove(result, path);
        break;
      case 'replace':
        pointerGet(result, path);
        result = pointerAdd(pointerRemoveForReplace(result, path), path, raw.value);
        break;
      case 'move': {
        const value = clone(pointerGet(result, String(raw.from)));
        result = pointerAdd(pointerRemove(result, String(raw.from)), path, value);
        break;
      }
      case 'copy':
        result = pointerAdd(result, path, pointerGet(result, String(raw.from)));
        break;
      case 'test':
        if (!deepEqual(pointerGet(result, path), raw.value)) {
          throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: testing value ${path} failed`);
        }
        break;
      default:
        throw new ApiError(422, 'Invalid', `Unexpected kind: ${op}`);
    }
  }
  return result;
}

/** `replace` on an array element must overwrite, not insert; removing first keeps the index right. */
function pointerRemoveForReplace(doc: unknown, pointer: string): unknown {
  return pointer === '' ? doc : pointerRemove(doc, pointer);
}

// ---------------------------------------------------------------------------------------------------------------
// Selectors (enough of labelSelector / fieldSelector for an informer that narrows its list+watch)

type Predicate = (obj: Obj) => boolean;

function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) terms.push(current.trim());
  return terms;
}

function parseLabelSelector(selector: string): Predicate {
  const tests = splitTerms(selector).map((term): ((labels: Obj) => boolean) => {
    let m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m) {
      const [, key, op, list] = m as unknown as [string, string, string, string];
      const values = list.split(',').map((v) => v.trim());
      return op === 'in' ? (l) => values.includes(l[key]) : (l) => !values.includes(l[key]);
    }
    m = /^!([^\s=!()]+)$/.exec(term);
    if (m) {
      const key = m[1] as string;
      return (l) => !(key in l);
    }
    m = /^([^\s=!()]+)\s*(==|=|!=)\s*([^\s=!()]*)$/.exec(term);
    if (m) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
    }
    m = /^([^\s=!()]+)$/.exec(term);
    if (m) {
      const key = m[1] as string;
      return (l) => key in l;
    }
    throw new ApiError(400, 'BadRequest', `unable to parse requirement: ${term}`);
  });
  return (obj) => tests.every((t) => t(obj.metadata?.labels ?? {}));
}

function parseFieldSelector(selector: string): Predicate {
  const tests = splitTerms(selector).map((term): Predicate => {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(term);
    if (!m) throw new ApiError(400, 'BadRequest', `invalid selector: '${selector}'; can't understand '${term}'`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    if (field !== 'metadata.name' && field !== 'metadata.namespace') {
      throw new ApiError(400, 'BadRequest', `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
    }
    const key = field === 'metadata.name' ? 'name' : 'namespace';
    return op === '!=' ? (o) => o.metadata?.[key] !== value : (o) => o.metadata?.[key] === value;
  });
  return (obj) => tests.every((t) => t(obj));
}

function scopePredicate(namespace: string | undefined, query: Record<string, string>): Predicate {
  const label = query.labelSelector ? parseLabelSelector(query.labelSelector) : () => true;
  const field = query.fieldSelector ? parseFieldSelector(query.fieldSelector) : () => true;
  return (obj) => (namespace === undefined || obj.metadata?.namespace === namespace) && label(obj) && field(obj);
}

// ---------------------------------------------------------------------------------------------------------------
// Storage: objects, the global resourceVersion and the change history watches resume from

class RolloutStore {
  private objects = new Map<string, Obj>();
  private rv = FIRST_RESOURCE_VERSION;
  /** A watch may resume from any resourceVersion >= this; older ones are "too old" (410). */
  private oldestResumable = FIRST_RESOURCE_VERSION;
  private history: WatchEvent[] = [];

  constructor(private readonly onEvent: (ev: WatchEvent) => void) {}

  currentVersion(): number {
    return this.rv;
  }

  isTooOld(rv: number): boolean {
    return rv < this.oldestResumable;
  }

  oldest(): number {
    return this.oldestResumable;
  }

  get(ns: string, name: string): Obj | undefined {
    return this.objects.get(`${ns}/${name}`);
  }

  list(predicate: Predicate): Obj[] {
    return [...this.objects.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => o)
      .filter(predicate);
  }

  eventsAfter(rv: number, predicate: Predicate): WatchEvent[] {
    return this.history.filter((e) => e.rv > rv && predicate(e.object));
  }

  /** Stores a new object. Server-managed metadata is filled in unless the caller (a fixture) already carries it. */
  create(obj: Obj): Obj {
    const meta = obj.metadata;
    meta.uid ??= randomUUID();
    meta.creationTimestamp ??= timestamp();
    meta.generation ??= 1;
    pruneStatus(obj);
    return this.commit('ADDED', obj);
  }

  /**
   * Replaces `prev` with `next`. A no-op answers the stored object without a new resourceVersion or event, as the
   * apiserver does; `generation` moves only when something outside metadata and status changed.
   */
  update(prev: Obj, next: Obj): Obj {
    next.metadata.resourceVersion = prev.metadata.resourceVersion;
    next.metadata.generation = prev.metadata.generation;
    // Pruning happens before the no-op check, so writing only unknown fields is a no-op, as on a real apiserver.
    pruneStatus(next);
    if (deepEqual(prev, next)) return prev;
    if (!deepEqual(withoutMetaAndStatus(prev), withoutMetaAndStatus(next))) {
      next.metadata.generation = (Number(prev.metadata.generation) || 0) + 1;
    }
    return this.commit('MODIFIED', next);
  }

  delete(ns: string, name: string): Obj | undefined {
    const prev = this.get(ns, name);
    if (!prev) return undefined;
    this.objects.delete(`${ns}/${name}`);
    const gone = clone(prev);
    gone.metadata.resourceVersion = String(++this.rv);
    this.record({ rv: this.rv, type: 'DELETED', object: gone });
    return gone;
  }

  /** Pretends the rest of the cluster moved on and etcd compacted: every resourceVersion seen so far is now too old. */
  compact(): void {
    this.rv += 1;
    this.oldestResumable = this.rv;
    this.history = [];
  }

  private commit(type: WatchEventType, obj: Obj): Obj {
    obj.metadata.resourceVersion = String(++this.rv);
    const stored = clone(obj);
    this.objects.set(`${stored.metadata.namespace}/${stored.metadata.name}`, stored);
    this.record({ rv: this.rv, type, object: clone(stored) });
    return stored;
  }

  private record(ev: WatchEvent): void {
    this.history.push(ev);
    if (this.history.length > MAX_HISTORY) {
      const dropped = this.history.splice(0, this.history.length - MAX_HISTORY);
      this.oldestResumable = (dropped[dropped.length - 1] as WatchEvent).rv;
    }
    this.onEvent(ev);
  }
}

function withoutMetaAndStatus(obj: Obj): Obj {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}

function pruneStatus(obj: Obj): void {
  if (!isPlainObject(obj.status)) return;
  for (const key of Object.keys(obj.status)) if (!STATUS_FIELDS.has(key)) delete obj.status[key];
}

/**
 * What the apiserver keeps of a client's candidate object for a write to the main resource or to `/status`
 * (Kubernetes customresource strategy PrepareForUpdate / statusStrategy.PrepareForUpdate).
 */
function restrictWrite(prev: Obj, candidate: Obj, subresource: 'main' | 'status'): Obj {
  if (subresource === 'status') {
    const next = clone(prev);
    if (candidate.status === undefined) delete next.status;
    else next.status = clone(candidate.status);
    return next;
  }
  const next = clone(candidate);
  next.apiVersion = prev.apiVersion;
  next.kind = prev.kind;
  if (prev.status === undefined) delete next.status;
  else next.status = clone(prev.status);
  const meta: Obj = isPlainObject(next.metadata) ? next.metadata : {};
  for (const key of ['name', 'namespace', 'uid', 'creationTimestamp', 'generation', 'resourceVersion']) {
    if (prev.metadata[key] === undefined) delete meta[key];
    else meta[key] = prev.metadata[key];
  }
  next.metadata = meta;
  return next;
}

/** A resourceVersion in the written object is an optimistic-concurrency precondition (409 when stale). */
function checkPrecondition(prev: Obj, candidate: Obj): void {
  const wanted = candidate.metadata?.resourceVersion;
  if (wanted !== undefined && wanted !== null && wanted !== '' && String(wanted) !== prev.metadata.resourceVersion) {
    throw conflict(prev.metadata.name);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP

interface Watcher {
  res: ServerResponse;
  predicate: Predicate;
  timer?: NodeJS.Timeout;
}

interface Failure {
  remaining: number;
  status: number;
  method?: string;
  path?: RegExp;
}

function mediaType(header: string | undefined): string | undefined {
  return header?.split(';')[0]?.trim().toLowerCase() || undefined;
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new ApiError(400, 'BadRequest', `error decoding body: ${(err as Error).message}`);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts the emulator on 127.0.0.1 with an OS-chosen port.
 * @param opts.token when set, every request must carry `Authorization: Bearer <token>` (else 401).
 */
export async function startKubernetesEmulator(opts: { token?: string } = {}): Promise<KubernetesEmulator> {
  const calls: RecordedCall[] = [];
  const unmatched = new Set<RecordedCall>();
  const watchers = new Set<Watcher>();
  const failures: Failure[] = [];
  let expiredMode: 'http' | 'stream' = 'http';
  const analysisRuns = new Map<string, Obj>();
  let arVersion = 0;

  const store = new RolloutStore((ev) => {
    const line = `${JSON.stringify({ type: ev.type, object: ev.object })}\n`;
    for (const w of watchers) if (w.predicate(ev.object)) w.res.write(line);
  });

  function send(res: ServerResponse, call: RecordedCall, status: number, body: unknown): void {
    call.status = status;
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  function sendError(res: ServerResponse, call: RecordedCall, err: ApiError): void {
    send(res, call, err.code, statusBody(err.code, err.reason, err.message, err.details));
  }

  function takeFailure(method: string, path: string): Failure | undefined {
    const f = failures.find(
      (x) => x.remaining > 0 && (!x.method || x.method.toUpperCase() === method) && (!x.path || x.path.test(path)),
    );
    if (f) f.remaining--;
    return f;
  }

  function startWatch(res: ServerResponse, call: RecordedCall, namespace: string | undefined, query: Record<string, string>): void {
    const predicate = scopePredicate(namespace, query);
    const from = query.resourceVersion;
    let replay: Array<{ type: WatchEventType; object: Obj }>;
    if (from === undefined || from === '' || from === '0') {
      // Kubernetes semantics for an unset (or "0") resourceVersion: synthetic ADDED events for the current state, then live.
      replay = store.list(predicate).map((object) => ({ type: 'ADDED', object }));
    } else {
      const rv = Number(from);
      if (!Number.isInteger(rv)) throw new ApiError(400, 'BadRequest', `invalid resource version: ${from}`);
      if (store.isTooOld(rv)) {
        const message = `too old resource version: ${rv} (${store.oldest()})`;
        if (expiredMode === 'http') throw new ApiError(410, 'Expired', message);
        call.status = 200;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(`${JSON.stringify({ type: 'ERROR', object: statusBody(410, 'Expired', message) })}\n`);
        return;
      }
      replay = store.eventsAfter(rv, predicate);
    }
    call.status = 200;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    for (const ev of replay) res.write(`${JSON.stringify({ type: ev.type, object: ev.object })}\n`);
    const watcher: Watcher = { res, predicate };
    const timeout = Number(query.timeoutSeconds);
    if (Number.isFinite(timeout) && timeout > 0) {
      watcher.timer = setTimeout(() => {
        watchers.delete(watcher);
        res.end();
      }, timeout * 1000);
    }
    watchers.add(watcher);
    // Writes racing a destroyed socket must not crash the emulator.
    res.on('error', () => watchers.delete(watcher));
    res.on('close', () => {
      clearTimeout(watcher.timer);
      watchers.delete(watcher);
    });
  }

  function listBody(namespace: string | undefined, query: Record<string, string>): Obj {
    return {
      apiVersion: API_VERSION,
      kind: 'RolloutList',
      metadata: { resourceVersion: String(store.currentVersion()) },
      items: store.list(scopePredicate(namespace, query)).map(clone),
    };
  }

  function patch(ns: string, name: string, sub: 'main' | 'status', contentType: string | undefined, raw: string): Obj {
    const prev = store.get(ns, name);
    if (!prev) throw notFound(name);
    let candidate: unknown;
    switch (contentType) {
      case 'application/merge-patch+json': {
        const body = parseJson(raw);
        if (!isPlainObject(body)) throw new ApiError(400, 'BadRequest', 'json: cannot unmarshal non-object merge patch into Go value of type map[string]interface {}');
        candidate = mergePatch(clone(prev), body);
        break;
      }
      case 'application/json-patch+json': {
        const body = parseJson(raw);
        if (!Array.isArray(body)) {
          throw new ApiError(400, 'BadRequest', `json: cannot unmarshal ${body === null ? 'null' : typeof body} into Go value of type []handlers.jsonPatchOp`);
        }
        candidate = jsonPatch(clone(prev), body);
        break;
      }
      case 'application/apply-patch+yaml':
        // A real apiserver accepts server-side apply for CRDs; this emulator does not implement field managers.
        throw new ApiError(415, 'UnsupportedMediaType', 'the emulator does not implement server-side apply (application/apply-patch+yaml)');
      default:
        // Includes application/strategic-merge-patch+json, which no custom resource accepts.
        throw new ApiError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
        );
    }
    if (!isPlainObject(candidate)) throw new ApiError(422, 'Invalid', 'the patched object is not a JSON object');
    checkPrecondition(prev, candidate);
    return store.update(prev, restrictWrite(prev, candidate, sub));
  }

  function put(ns: string, name: string, sub: 'main' | 'status', raw: string): Obj {
    const body = parseJson(raw);
    if (!isPlainObject(body)) throw new ApiError(400, 'BadRequest', 'the request body must be a Rollout object');
    const prev = store.get(ns, name);
    if (!prev) throw notFound(name);
    if (body.metadata?.name !== undefined && body.metadata.name !== name) {
      throw new ApiError(400, 'BadRequest', `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (body.metadata?.namespace !== undefined && body.metadata.namespace !== ns) {
      throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    checkPrecondition(prev, body);
    return store.update(prev, restrictWrite(prev, body, sub));
  }

  function create(ns: string, raw: string): Obj {
    const body = parseJson(raw);
    if (!isPlainObject(body)) throw new ApiError(400, 'BadRequest', 'the request body must be a Rollout object');
    if (body.apiVersion !== API_VERSION || body.kind !== KIND) {
      throw new ApiError(400, 'BadRequest', `the API version in the data (${body.apiVersion}) and kind (${body.kind}) must be ${API_VERSION} ${KIND}`);
    }
    const meta: Obj = isPlainObject(body.metadata) ? body.metadata : {};
    if (meta.namespace !== undefined && meta.namespace !== ns) {
      throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    if (!meta.name) throw new ApiError(422, 'Invalid', `${KIND}.${GROUP} "" is invalid: metadata.name: Required value: name or generateName is required`);
    if (store.get(ns, meta.name)) {
      throw new ApiError(409, 'AlreadyExists', `${RESOURCE} "${meta.name}" already exists`, { name: meta.name, group: GROUP, kind: 'rollouts' });
    }
    const obj: Obj = { ...clone(body), metadata: { ...meta, namespace: ns } };
    // With the status subresource enabled the apiserver drops status on create, and owns these fields.
    delete obj.status;
    for (const key of ['uid', 'creationTimestamp', 'generation', 'resourceVersion']) delete obj.metadata[key];
    return store.create(obj);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = method === 'GET' || method === 'HEAD' ? '' : await readBody(req);
    const contentType = mediaType(req.headers['content-type']);
    const call: RecordedCall = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      ...(contentType ? { contentType } : {}),
      ...(raw ? { body: tryParse(raw) } : {}),
      status: 0,
      at: Date.now(),
    };
    calls.push(call);
    try {
      if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) {
        throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      }
      const failure = takeFailure(method, url.pathname);
      if (failure) throw new ApiError(failure.status, reasonFor(failure.status), `injected failure (HTTP ${failure.status})`);
      route(res, call, method, url.pathname, call.query, contentType, raw);
    } catch (err) {
      if (err instanceof ApiError) sendError(res, call, err);
      else sendError(res, call, new ApiError(500, 'InternalError', `emulator error: ${(err as Error).message}`));
    }
  }

  function route(
    res: ServerResponse,
    call: RecordedCall,
    method: string,
    path: string,
    query: Record<string, string>,
    contentType: string | undefined,
    raw: string,
  ): void {
    const watch = query.watch === 'true' || query.watch === '1';
    const arList = AR_LIST.exec(path);
    if (arList && method === 'GET' && !watch) {
      const ns = decodeURIComponent(arList[1] as string);
      const items = [...analysisRuns.values()].filter((a) => a.metadata.namespace === ns);
      return send(res, call, 200, { apiVersion: API_VERSION, kind: 'AnalysisRunList', metadata: { resourceVersion: String(arVersion) }, items });
    }
    const arItem = AR_ITEM.exec(path);
    if (arItem && method === 'GET') {
      const ns = decodeURIComponent(arItem[1] as string);
      const name = decodeURIComponent(arItem[2] as string);
      const found = analysisRuns.get(`${ns}/${name}`);
      if (!found) throw new ApiError(404, 'NotFound', `analysisruns.${GROUP} "${name}" not found`, { name, group: GROUP, kind: 'analysisruns' });
      return send(res, call, 200, found);
    }
    if (CLUSTER_LIST.test(path) && method === 'GET') {
      if (watch) return startWatch(res, call, undefined, query);
      return send(res, call, 200, listBody(undefined, query));
    }
    const nsMatch = NAMESPACE_LIST.exec(path);
    if (nsMatch) {
      const ns = decodeURIComponent(nsMatch[1] as string);
      if (method === 'GET') {
        if (watch) return startWatch(res, call, ns, query);
        return send(res, call, 200, listBody(ns, query));
      }
      if (method === 'POST') return send(res, call, 201, create(ns, raw));
      throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
    const item = ITEM.exec(path);
    if (item) {
      const ns = decodeURIComponent(item[1] as string);
      const name = decodeURIComponent(item[2] as string);
      const sub = item[3] ? 'status' : 'main';
      switch (method) {
        case 'GET': {
          const obj = store.get(ns, name);
          if (!obj) throw notFound(name);
          return send(res, call, 200, obj);
        }
        case 'PATCH':
          return send(res, call, 200, patch(ns, name, sub, contentType, raw));
        case 'PUT':
          return send(res, call, 200, put(ns, name, sub, raw));
        case 'DELETE': {
          if (sub === 'status') break;
          const gone = store.delete(ns, name);
          if (!gone) throw notFound(name);
          return send(res, call, 200, gone);
        }
      }
      throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
    unmatched.add(call);
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }

  const server = createServer((req, res) => {
    // A client that goes away mid-body leaves nothing to answer.
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function kubeconfigYaml(o: { namespace?: string } = {}): string {
    return toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'emulator', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'emulator', user: { token: opts.token ?? 'emulator-token' } }],
      contexts: [{ name: 'emulator', context: { cluster: 'emulator', user: 'emulator', namespace: o.namespace ?? 'default' } }],
      'current-context': 'emulator',
    });
  }

  function dropWatches(): void {
    for (const w of [...watchers]) {
      watchers.delete(w);
      clearTimeout(w.timer);
      w.res.socket?.destroy();
    }
  }

  function endWatches(): void {
    for (const w of [...watchers]) {
      watchers.delete(w);
      clearTimeout(w.timer);
      w.res.end();
    }
  }

  function controllerWrite(prev: Obj | undefined, obj: Obj): Obj {
    if (!prev) return store.create(obj);
    for (const key of ['name', 'namespace', 'uid', 'creationTimestamp']) obj.metadata[key] = prev.metadata[key];
    return store.update(prev, obj);
  }

  return {
    url,
    calls,
    kubeconfigYaml,
    async writeKubeconfig(dir, o) {
      const file = join(dir, 'kubeconfig');
      await writeFile(file, kubeconfigYaml(o), 'utf8');
      return file;
    },
    apply(input) {
      const obj = clone(input) as Obj;
      if (!isPlainObject(obj.metadata) || !obj.metadata.name) throw new Error('apply: metadata.name is required');
      obj.apiVersion ??= API_VERSION;
      obj.kind ??= KIND;
      obj.metadata.namespace ??= 'default';
      delete obj.metadata.resourceVersion;
      return clone(controllerWrite(store.get(obj.metadata.namespace, obj.metadata.name), obj));
    },
    mutate(ns, name, fn) {
      const prev = store.get(ns, name);
      if (!prev) throw new Error(`mutate: rollout ${ns}/${name} does not exist`);
      const draft = clone(prev);
      fn(draft);
      return clone(controllerWrite(prev, draft));
    },
    get(ns, name) {
      return clone(store.get(ns, name));
    },
    applyAnalysisRun(input) {
      const obj = clone(input) as Obj;
      if (!isPlainObject(obj.metadata) || !obj.metadata.name) throw new Error('applyAnalysisRun: metadata.name is required');
      obj.apiVersion ??= API_VERSION;
      obj.kind ??= 'AnalysisRun';
      obj.metadata.namespace ??= 'default';
      const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
      const prev = analysisRuns.get(key);
      obj.metadata.uid = prev?.metadata.uid ?? randomUUID();
      obj.metadata.resourceVersion = String(++arVersion);
      analysisRuns.set(key, obj);
      return clone(obj);
    },
    analysisRun(ns, name) {
      return clone(analysisRuns.get(`${ns}/${name}`));
    },
    remove(ns, name) {
      store.delete(ns, name);
    },
    patches(filter = {}) {
      return calls.filter((c) => {
        if (c.method !== 'PATCH') return false;
        const m = ITEM.exec(c.path);
        if (!m) return false;
        return (
          (filter.namespace === undefined || decodeURIComponent(m[1] as string) === filter.namespace) &&
          (filter.name === undefined || decodeURIComponent(m[2] as string) === filter.name)
        );
      });
    },
    unhandled() {
      return calls.filter((c) => unmatched.has(c));
    },
    dropWatches,
    endWatches,
    compact(mode = 'http') {
      expiredMode = mode;
      store.compact();
      endWatches();
    },
    failNext(o) {
      failures.push({ remaining: o.count, status: o.status, ...(o.method ? { method: o.method } : {}), ...(o.path ? { path: o.path } : {}) });
    },
    openWatches() {
      return watchers.size;
    },
    resourceVersion() {
      return String(store.currentVersion());
    },
    async close() {
      dropWatches();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function tryParse(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
