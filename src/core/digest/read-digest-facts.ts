import type { Catalog } from '../catalog.js';
import type { Stores } from '../store-ports.js';
import type { DigestEnvFacts } from './build-digest.js';

/** What the digest shows of every configured environment, by `<app>/<env>`, read from the store. */
export async function readDigestFacts(o: { stores: Pick<Stores, 'envs' | 'threads' | 'commits' | 'errorSims'>; catalog: Catalog }): Promise<Record<string, DigestEnvFacts>> {
  const { stores } = o;
  const facts: Record<string, DigestEnvFacts> = {};
  for (const app of o.catalog.config.apps) {
    for (const env of app.environments) {
      const key = `${app.name}/${env.name}`;
      const thread = await stores.threads.current(key);
      const commit = thread?.commitSha ? await stores.commits.bySha(thread.commitSha) : undefined;
      facts[key] = { env: await stores.envs.get(key), thread, commit, errorsOn: (await stores.errorSims.get(key)) !== undefined };
    }
  }
  return facts;
}
