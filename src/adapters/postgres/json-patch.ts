/**
 * What PostgreSQL cannot keep in a JSONB string (NUL, unpaired surrogates), replaced with U+FFFD instead of failing the
 * write: such text comes from people (a command, a commit message) and the record matters more than that character.
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const storable = (_key: string, value: unknown) => (typeof value === 'string' ? value.replace(UNSTORABLE, '\uFFFD') : value);

/**
 * A partial record as two statement parameters: `set`, the JSON of the keys given a value (for `doc || $set`), and
 * `clear`, the keys given as undefined (for `doc - $clear::text[]`): a key set to undefined is removed, as the ports say.
 */
export function jsonPatch(patch: object): { set: string; clear: string[] } {
  const clear = Object.entries(patch).filter(([, v]) => v === undefined).map(([k]) => k);
  return { set: JSON.stringify(patch, storable), clear };
}

/** A record as a JSONB parameter (undefined fields are left out, as JSON does). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, storable);
}
