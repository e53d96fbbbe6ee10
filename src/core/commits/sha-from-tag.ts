/**
 * The commit sha an image tag was built from: by default the tag starts with a 7+ character hex short sha
 * (`ea11a24-20260129125607`); with a `tagPattern`, its named group `sha`.
 */
export function shaFromTag(tag: string, tagPattern?: string): string | undefined {
  if (tagPattern) {
    const m = new RegExp(tagPattern).exec(tag);
    const sha = m?.groups?.sha;
    return sha && /^[0-9a-f]{7,40}$/i.test(sha) ? sha.toLowerCase() : undefined;
  }
  const m = /^([0-9a-f]{7,40})(?![0-9a-z])/i.exec(tag);
  return m ? m[1]!.toLowerCase() : undefined;
}
