/** An image digest as people read it: `sha256:87af1f0b…` (the algorithm and the first 8 hex digits). */
export function shortDigest(digest: string): string {
  const m = /^([a-z0-9]+):([0-9a-f]{8})[0-9a-f]{8,}$/.exec(digest);
  return m ? `${m[1]}:${m[2]}…` : digest;
}
