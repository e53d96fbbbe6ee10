import type { Catalog, EnvTarget } from '../catalog.js';
import { shaFromTag } from '../commits/sha-from-tag.js';
import type { ThreadRecord } from '../store-data.js';
import type { Stores } from '../store-ports.js';

/**
 * Several rollouts per environment (`rollouts:`): each rollout's revision keeps its own thread record (its events,
 * outcome and actions), and the revisions built from one commit form one deploy shown in one Slack thread, the lead's
 * (the first of them seen). The lead's `group` lists the members; each other member points at it with `groupOf`.
 */

/** Without a sha in the tags, revisions seen this close after the lead are taken as one deploy. */
export const GROUP_WINDOW_MS = 10 * 60_000;

/**
 * The key of a rollout's own environment record (its current revision's thread, its baseline): the environment's key
 * for a single-rollout environment; per rollout in a several-rollout one, where the environment's key names the lead.
 */
export function memberEnvKey(catalog: Catalog, target: EnvTarget, rollout: string): string {
  return catalog.isGroup(target) ? `${target.key}@${rollout}` : target.key;
}

/** The commit sha a tag names, for telling which revisions are one deploy. */
export function groupShaOf(target: EnvTarget, tag: string | undefined): string | undefined {
  return tag ? shaFromTag(tag, target.app.image.tagPattern) : undefined;
}

function sameSha(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/**
 * Places a new revision's thread in its environment's current deploy when it was built from the same commit (it then
 * becomes a member: no card of its own), or makes it the lead of a new deploy. Resolves to whether it joined.
 * Runs inside the observer's per-environment queue, which alone writes these fields.
 */
export async function placeInGroup(stores: Pick<Stores, 'threads' | 'envs'>, o: { target: EnvTarget; thread: ThreadRecord; now: number }): Promise<boolean> {
  const { target, thread, now } = o;
  const sha = groupShaOf(target, thread.tag);
  const leadKey = (await stores.envs.get(target.key)).threadKey;
  const lead = leadKey && leadKey !== thread.key ? await stores.threads.byKey(leadKey) : undefined;
  const joins = lead?.group && (sha && lead.group.sha ? sameSha(sha, lead.group.sha) : !sha && !lead.group.sha && now - lead.startedAt < GROUP_WINDOW_MS && !lead.group.members[thread.rollout]);
  if (!lead || !joins) {
    thread.group = { ...(sha ? { sha } : {}), members: { [thread.rollout]: thread.key } };
    return false;
  }
  thread.groupOf = lead.key;
  const group = { ...lead.group!, members: { ...lead.group!.members, [thread.rollout]: thread.key } };
  await stores.threads.observed(lead.key, { set: { group }, bumpCard: true });
  return true;
}

/** The lead of the deploy a thread belongs to (the thread itself when it leads or stands alone). */
export async function leadOf(stores: Pick<Stores, 'threads'>, thread: ThreadRecord): Promise<ThreadRecord | undefined> {
  return thread.groupOf ? stores.threads.byKey(thread.groupOf) : thread;
}

/** Every rollout's thread in the lead's deploy, in the order the environment lists its rollouts (just the lead when alone). */
export async function groupMembers(stores: Pick<Stores, 'threads'>, catalog: Catalog, lead: ThreadRecord): Promise<ThreadRecord[]> {
  if (!lead.group) return [lead];
  const target = catalog.target(lead.app, lead.env);
  const order = target ? catalog.rollouts(target).map((r) => r.rollout) : [];
  const names = Object.keys(lead.group.members).sort((a, b) => rank(order, a) - rank(order, b));
  const members: ThreadRecord[] = [];
  for (const name of names) {
    const t = name === lead.rollout && lead.group.members[name] === lead.key ? lead : await stores.threads.byKey(lead.group.members[name]!);
    if (t) members.push(t);
  }
  return members;
}

function rank(order: string[], name: string): number {
  const i = order.indexOf(name);
  return i < 0 ? order.length : i;
}

/**
 * Whether the deploy `thread` belongs to has completed: every member completed, and every other rollout of the
 * environment already runs an image of the same commit (a single thread: it completed). `lead` is set then; `waitingFor`
 * names the rollouts that have not deployed the commit yet when the members are done but those are missing.
 */
export async function completedDeploy(stores: Pick<Stores, 'threads' | 'envs'>, catalog: Catalog, thread: ThreadRecord): Promise<{ lead?: ThreadRecord; waitingFor?: string[] }> {
  const lead = await leadOf(stores, thread);
  if (!lead) return {};
  const members = (await groupMembers(stores, catalog, lead)).map((m) => (m.key === thread.key ? thread : m));
  if (!members.every((m) => m.outcome === 'completed')) return {};
  const waitingFor = await notYetDeployed(stores, catalog, lead);
  return waitingFor.length ? { waitingFor, lead } : { lead };
}

/** The environment's rollouts outside the lead's deploy that do not run (stable) an image of its commit. */
async function notYetDeployed(stores: Pick<Stores, 'threads' | 'envs'>, catalog: Catalog, lead: ThreadRecord): Promise<string[]> {
  const target = lead.group ? catalog.target(lead.app, lead.env) : undefined;
  if (!target || !lead.group) return [];
  const sha = lead.group.sha;
  const missing: string[] = [];
  for (const r of catalog.rollouts(target)) {
    if (lead.group.members[r.rollout]) continue;
    const rec = await stores.envs.get(memberEnvKey(catalog, target, r.rollout));
    const current = rec.threadKey ? await stores.threads.byKey(rec.threadKey) : undefined;
    const state = current?.outcome === 'completed' ? current.lastState : rec.baseline;
    const shas = (state?.images ?? []).map((i) => groupShaOf(target, i.tag));
    if (!sha || !shas.some((s) => s !== undefined && sameSha(s, sha))) missing.push(r.rollout);
  }
  return missing;
}

/**
 * A several-rollout deploy as one thread, for what mirrors a deploy elsewhere (GitHub's deployments): the lead's record
 * with the deploy's outcome (aborted when any rollout aborted; completed when every rollout completed and the others
 * run its commit; else in progress) and the state of the rollout that decides it. A single-rollout thread is as it is.
 */
export async function deployView(stores: Pick<Stores, 'threads' | 'envs'>, catalog: Catalog, lead: ThreadRecord): Promise<ThreadRecord> {
  if (!lead.group || lead.outcome === 'superseded') return lead;
  const members = await groupMembers(stores, catalog, lead);
  const aborted = members.find((m) => m.outcome === 'aborted');
  if (aborted) return { ...lead, outcome: 'aborted', finishedAt: aborted.finishedAt, lastState: aborted.lastState };
  if (members.every((m) => m.outcome === 'completed') && !(await notYetDeployed(stores, catalog, lead)).length) {
    return { ...lead, outcome: 'completed', finishedAt: Math.max(...members.map((m) => m.finishedAt ?? m.startedAt)) };
  }
  const going = members.find((m) => !m.outcome) ?? lead;
  return { ...lead, outcome: undefined, finishedAt: undefined, lastState: going.lastState, waitingSince: going.waitingSince };
}
