import type { RepoPermission } from '../ports.js';

const ORDER: RepoPermission[] = ['none', 'read', 'triage', 'write', 'maintain', 'admin'];

/** True when `actual` is at least `required` (none < read < triage < write < maintain < admin). */
export function permits(actual: RepoPermission, required: RepoPermission): boolean {
  return ORDER.indexOf(actual) >= ORDER.indexOf(required);
}

/** The least of several required levels. */
export function leastOf(levels: RepoPermission[]): RepoPermission {
  return levels.reduce((a, b) => (ORDER.indexOf(b) < ORDER.indexOf(a) ? b : a), 'admin' as RepoPermission);
}
