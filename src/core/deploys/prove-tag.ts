import type { Catalog, EnvTarget } from '../catalog.js';
import type { Stores } from '../store-ports.js';
import { memberEnvKey } from '../rollout-threads/deploy-group.js';
import { describeProof, type Proof } from './describe-proof.js';

/** Whether `tag` is proven in the environment before `target` (describeProof over what the store knows of it). */
export async function proveTag(deps: { stores: Pick<Stores, 'threads' | 'envs'>; catalog: Catalog }, o: { target: EnvTarget; tag: string; now: number }): Promise<Proof> {
  const prev = deps.catalog.previous(o.target);
  const threads = prev ? await deps.stores.threads.withTag(prev.app.name, o.tag) : [];
  // A several-rollout environment keeps a baseline per rollout: the one that ran the tag, if any.
  const keys = prev ? (deps.catalog.isGroup(prev) ? deps.catalog.rollouts(prev).map((r) => memberEnvKey(deps.catalog, prev, r.rollout)) : [prev.key]) : [];
  const baselines = await Promise.all(keys.map(async (k) => (await deps.stores.envs.get(k)).baseline));
  const baseline = baselines.find((b) => b?.images.some((i) => i.tag === o.tag)) ?? baselines[0];
  return describeProof({ ...o, threads, baseline, catalog: deps.catalog });
}
