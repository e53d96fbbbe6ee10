/**
 * A deep copy of a store record. Records are plain JSON-shaped data (they are journaled as JSON), so plain objects and
 * arrays are copied key by key, keeping keys whose value is undefined as structuredClone does, at a seventh of its
 * cost (which was most of a `/rollout status` answer's CPU). Anything else that is an object (a Date, a Map, a class
 * instance) goes to structuredClone, so it is copied, or refused (a function inside), just as before.
 */
export function cloneRecord<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = cloneRecord(v[i]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  // for…in over own keys: the same keys as Object.keys without building an array of them for every object.
  for (const key in v) {
    if (!Object.hasOwn(v, key)) continue;
    const f = (v as Record<string, unknown>)[key];
    if (typeof f === 'function' || typeof f === 'symbol') return structuredClone(v);
    out[key] = cloneRecord(f);
  }
  return out as T;
}
