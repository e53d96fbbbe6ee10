import type { Catalog, EnvTarget } from '../catalog.js';
import type { Stores } from '../store-ports.js';
import { describeProof, type Proof } from './describe-proof.js';

/** Whether `tag` is proven in the environment before `target` (describeProof over what the store knows of it). */
export async function proveTag(deps: { stores: Pick<Stores, 'threads' | 'envs'>; catalog: Catalog }, o: { target: EnvTarget; tag: string; now: number }): Promise<Proof> {
  const prev = deps.catalog.previous(o.target);
  const threads = prev ? await deps.stores.threads.withTag(prev.app.name, o.tag) : [];
  const baseline = prev ? (await deps.stores.envs.get(prev.key)).baseline : undefined;
  return describeProof({ ...o, threads, baseline, catalog: deps.catalog });
}
