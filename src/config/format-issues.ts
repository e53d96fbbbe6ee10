import type { z } from 'zod';

/** Renders a zod path the way people read config paths: `apps[0].environments[2].namespace`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** One line per problem, each naming the path of the mistake (`apps[0].environments[2].namespace: required`). */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const base = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${formatPath([...base, key])}: unknown key`);
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      lines.push(...formatIssues(issue.errors[0] ?? [], base));
      continue;
    }
    const where = formatPath(base) || '(top level)';
    lines.push(`${where}: ${issue.message}`);
  }
  return lines;
}
