import { memberTarget, rolloutName } from '../catalog.js';
import { groupMembers } from '../rollout-threads/deploy-group.js';
import type { Confirmation, MemberSnapshot } from './confirmation-record.js';
import { executeRolloutAction, type ExecuteDeps } from './execute-rollout-action.js';
import { judgeChanges, snapshotOf } from './judge-changes.js';
import { runPreflight, type Preflight } from './run-preflight.js';

type Deps = Parameters<typeof runPreflight>[0];
type Request = Parameters<typeof runPreflight>[1];

/**
 * The preflight of a deploy: one rollout's (runPreflight), or for a several-rollout deploy each rollout's own checks
 * (fresh read, its tag in its own ECR repository, its proof) with the action going to every rollout that has it to do
 * (every paused one, for a promotion). Any rollout refused for another reason refuses the whole deploy; the result is
 * the first rollout's preflight with the others in `members`, and the ones left alone in `skipped`.
 */
export async function runDeployPreflight(deps: Deps, o: Request): Promise<Preflight> {
  if (!o.thread.group || !deps.catalog.isGroup(o.target)) return runPreflight(deps, o);
  const specs = deps.catalog.rollouts(o.target);
  const pfs: Preflight[] = [];
  for (const thread of await groupMembers(deps.stores, deps.catalog, o.thread)) {
    const spec = specs.find((r) => r.rollout === thread.rollout);
    if (spec) pfs.push(await runPreflight(deps, { ...o, target: memberTarget(o.target, spec), thread }));
  }
  const home = o.thread;
  if (!pfs.length) return { ...(await runPreflight(deps, o)), home };
  const named = (p: Preflight) => `\`${rolloutName(p.target)}\`: ${p.refusal}`;
  const refused = pfs.filter((p) => p.refusal);
  const hard = refused.find((p) => !p.idle);
  const active = pfs.filter((p) => !p.refusal);
  // The same refusal for each (a lock, a freeze) is said once.
  const same = refused.length === pfs.length && refused.every((p) => p.refusal === refused[0]!.refusal);
  if (hard || !active.length) {
    const base = active[0] ?? hard ?? pfs[0]!;
    return { ...base, home, members: [], refusal: same ? refused[0]!.refusal : (hard ? [hard] : refused).map(named).join('; ') };
  }
  const [primary, ...rest] = active;
  return { ...primary!, home, members: rest, skipped: refused.map(named) };
}

/** Every rollout's preflight the action goes to. */
export function allOf(pf: Preflight): Preflight[] {
  return [pf, ...(pf.members ?? [])];
}

/** The facts each other rollout of a several-rollout request was shown with (kept on the confirmation). */
export function memberSnapshots(pf: Preflight): MemberSnapshot[] | undefined {
  if (!pf.members) return undefined;
  return pf.members.map((m) => ({ rollout: rolloutName(m.target), threadKey: m.thread.key, snapshot: snapshotOf(m.state), planKind: m.planKind, tag: m.tag, digest: m.image?.digest }));
}

/** What changed since a (several-rollout) confirmation was shown; undefined when nothing that matters did. */
export function judgeDeployChanges(c: Confirmation, pf: Preflight): string | undefined {
  const first = judgeChanges(c, pf);
  if (first) return pf.members ? `\`${rolloutName(pf.target)}\`: ${first}` : first;
  const shown = c.members ?? [];
  const now = pf.members ?? [];
  const names = (l: string[]) => l.sort().join(', ') || 'none';
  if (names(shown.map((m) => m.rollout)) !== names(now.map((m) => rolloutName(m.target)))) {
    return `the rollouts it goes to are now ${names([rolloutName(pf.target), ...now.map((m) => rolloutName(m.target))])}`;
  }
  for (const m of now) {
    const was = shown.find((s) => s.rollout === rolloutName(m.target))!;
    const changed = judgeChanges({ ...c, snapshot: was.snapshot, planKind: was.planKind, tag: was.tag, digest: was.digest }, m);
    if (changed) return `\`${rolloutName(m.target)}\`: ${changed}`;
  }
  return undefined;
}

/** Executes the action on every rollout of the preflight, in order; ok only when each went out. */
export async function executeDeployAction(deps: ExecuteDeps, o: { pf: Preflight; user: string; source: 'slack' | 'github' }): Promise<{ text: string; ok: boolean }> {
  const results: Array<{ text: string; ok: boolean }> = [];
  for (const pf of allOf(o.pf)) {
    const r = await executeRolloutAction(deps, { ...o, pf });
    results.push(o.pf.members ? { ...r, text: `*${rolloutName(pf.target)}*: ${r.text}` } : r);
    if (!r.ok) break;
  }
  return { text: results.map((r) => r.text).join('\n'), ok: results.every((r) => r.ok) && results.length === allOf(o.pf).length };
}

/** Who is changing an environment's rollout(s) through the bot is kept under this key (one for a several-rollout deploy). */
export function busyKeyOf(catalog: Deps['catalog'], target: Request['target']): string {
  return catalog.isGroup(target) ? target.key : `${target.env.namespace}/${rolloutName(target)}`;
}
