import type { ThreadRecord } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import { errorSimBanner } from './error-sim-banner.js';

/** The errors-on banner of a thread's card, read from the store (see errorSimBanner). */
export async function readErrorSimBanner(stores: Pick<Stores, 'errorSims' | 'envs'>, thread: ThreadRecord): Promise<string | undefined> {
  const envKey = `${thread.app}/${thread.env}`;
  const sim = await stores.errorSims.get(envKey);
  if (!sim) return undefined;
  return errorSimBanner(thread, { sim, currentThreadKey: (await stores.envs.get(envKey)).threadKey });
}
