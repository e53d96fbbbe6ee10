import { createRequire, type ResolveHook } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * A module resolve hook, registered by main.ts before the app loads (issue 16/12, the memory target). client-node 1.4's
 * `config.js` (KubeConfig) imports its whole generated API, `./gen/index.js` (some 900 model and API modules: about
 * 25 MB of heap, 40 MB of RSS), for the two names `makeApiClient` uses. This hands that one import a module that
 * re-exports just those two from the same files ({@link ./client-node-config-imports.ts}), so KubeConfig, and all its
 * authentication, is the library's, unchanged. Should an upgrade make `config.js` import another name from there, the
 * start fails at once ("does not provide an export named …") instead of misbehaving.
 */
// Node 20 has no import.meta.resolve in the hooks thread; client-node has no exports map, so require finds the same file.
const CONFIG_MODULE = pathToFileURL(createRequire(import.meta.url).resolve('@kubernetes/client-node/dist/config.js')).href;
const CONFIG_IMPORTS = new URL('./client-node-config-imports.js', import.meta.url).href;

// Resolved by the rest of the chain, as any import: from source, tsx finds the .ts file.
export const resolve: ResolveHook = (specifier, context, next) =>
  next(specifier === './gen/index.js' && context.parentURL === CONFIG_MODULE ? CONFIG_IMPORTS : specifier, context);
