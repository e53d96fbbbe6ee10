import type { Catalog, EnvTarget } from '../catalog.js';

export type TargetResult = { ok: true; targets: EnvTarget[] } | { ok: false; error: string };

/**
 * Finds the environment(s) a command names. `env` and `app` may be absent for commands that cover many (status,
 * history); `repo` narrows to the apps of a GitHub repo. Unknown names answer with the known ones.
 */
export function resolveTargets(catalog: Catalog, o: { env?: string; app?: string; repo?: string; single: boolean }): TargetResult {
  let candidates = catalog.targets;
  if (o.repo) {
    const apps = new Set(catalog.appsForRepo(o.repo).map((a) => a.name));
    candidates = candidates.filter((t) => apps.has(t.app.name));
    if (candidates.length === 0) return { ok: false, error: `no app is configured for repo ${o.repo}` };
  }
  if (o.app) {
    const app = candidates.find((t) => t.app.name.toLowerCase() === o.app!.toLowerCase())?.app;
    if (!app) {
      const known = [...new Set(candidates.map((t) => t.app.name))];
      return { ok: false, error: `unknown app \`${o.app}\`. Known apps: ${known.map((a) => `\`${a}\``).join(', ')}` };
    }
    candidates = candidates.filter((t) => t.app.name === app.name);
  }
  if (o.env) {
    const matching = candidates.filter((t) => t.env.name === o.env);
    if (matching.length === 0) {
      const known = [...new Set(candidates.map((t) => t.env.name))];
      return { ok: false, error: `unknown environment \`${o.env}\`${o.app ? ` for ${o.app}` : ''}. Known environments: ${known.map((e) => `\`${e}\``).join(', ')}` };
    }
    candidates = matching;
  }
  if (o.single && candidates.length > 1) {
    const apps = [...new Set(candidates.map((t) => t.app.name))];
    return { ok: false, error: `more than one app has environment \`${o.env}\`: name one of ${apps.map((a) => `\`${a}\``).join(', ')}, e.g. \`${o.env} ${apps[0]}\`` };
  }
  return { ok: true, targets: candidates };
}
